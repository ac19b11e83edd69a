import { describe, expect, it } from 'vitest';
import {
  addInto,
  addPgIntArrayText,
  bucketOf,
  bucketValue,
  parsePgIntArray,
  percentile,
  percentiles,
  single,
} from './histogram.js';

describe('latency histogram', () => {
  it('puts a latency in a bucket whose reported value is within about 10 %', () => {
    for (const ms of [10, 37, 250, 1_000, 2_345, 60_000, 3_600_000, 86_400_000]) {
      const v = bucketValue(bucketOf(ms));
      expect(Math.abs(v - ms) / ms).toBeLessThanOrEqual(0.1);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(9.9)).toBe(0);
    expect(bucketOf(10)).toBe(1);
  });

  it('takes percentiles of merged histograms as of the samples together', () => {
    const a = single(bucketOf(1_000), 90);
    const b = single(bucketOf(20_000), 10);
    const merged = addInto(addInto([], a), b);
    expect(percentile(merged, 0.5)).toBe(bucketValue(bucketOf(1_000)));
    expect(percentile(merged, 0.9)).toBe(bucketValue(bucketOf(1_000)));
    expect(percentile(merged, 0.95)).toBe(bucketValue(bucketOf(20_000)));
    expect(percentile([], 0.5)).toBeUndefined();
  });

  it('takes several percentiles in one pass as one at a time', () => {
    const ps = [0.5, 0.95, 0.99];
    for (const h of [[], [0, 0, 3], [5, 0, 0, 1, 0, 90, 3, 1], single(40, 7), [0, -1, 2, 0, 1]])
      expect(percentiles(h, ps)).toEqual(ps.map((p) => percentile(h, p)));
  });

  it('reads PostgreSQL integer arrays', () => {
    expect(parsePgIntArray('{0,3,1}')).toEqual([0, 3, 1]);
    expect(parsePgIntArray(null)).toEqual([]);
    expect(parsePgIntArray('{}')).toEqual([]);
  });

  it('adds and subtracts histograms from their text form in one pass', () => {
    expect(addPgIntArrayText([1], '{0,3,1} {2,0,0,4}')).toEqual([3, 3, 1, 4]);
    expect(addPgIntArrayText([5, 5], '{1,-2}', -1)).toEqual([4, 7]);
    expect(addPgIntArrayText([], '{}')).toEqual([]);
    expect(addPgIntArrayText([2], null)).toEqual([2]);
    // the same as parsing each and adding
    const texts = ['{0,0,12,7}', '{1}', '{0,1,0,0,0,9}'];
    const viaParse = texts.reduce((a, t) => addInto(a, parsePgIntArray(t)), [] as number[]);
    expect(addPgIntArrayText([], texts.join(' '))).toEqual(viaParse);
  });
});
