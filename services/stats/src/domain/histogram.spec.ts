import { describe, expect, it } from 'vitest';
import { addInto, bucketOf, bucketValue, parsePgIntArray, percentile, single } from './histogram.js';

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

  it('reads PostgreSQL integer arrays', () => {
    expect(parsePgIntArray('{0,3,1}')).toEqual([0, 3, 1]);
    expect(parsePgIntArray(null)).toEqual([]);
    expect(parsePgIntArray('{}')).toEqual([]);
  });
});
