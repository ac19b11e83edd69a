import { describe, expect, it } from 'vitest';
import { parseProgressLine, rateBetween, thin, valueAt } from './series.js';

describe('counter series', () => {
  const s = [
    { t: 0, v: 0 },
    { t: 1, v: 100 },
    { t: 3, v: 500 },
    { t: 4, v: 500 },
  ];

  it('interpolates between samples and clamps at the ends', () => {
    expect(valueAt(s, -1)).toBe(0);
    expect(valueAt(s, 2)).toBe(300);
    expect(valueAt(s, 10)).toBe(500);
    expect(valueAt([], 5)).toBe(0);
  });

  it('gives the mean rate over a window, 0 for an empty one', () => {
    expect(rateBetween(s, 1, 3)).toBe(200);
    expect(rateBetween(s, 0, 4)).toBe(125);
    expect(rateBetween(s, 3, 3)).toBe(0);
  });

  it('parses loadgen progress lines and ignores anything else', () => {
    expect(parseProgressLine('12s submitted 60000 accepted 59800 failed 3 receipts 58000')).toEqual({
      submitted: 60000,
      accepted: 59800,
      failed: 3,
      receipts: 58000,
    });
    expect(parseProgressLine('messages 100, submit_sm 120, accepted 120 in 1.00 s')).toBeUndefined();
  });

  it('thins a long series to a bounded length, keeping the last point', () => {
    const long = Array.from({ length: 100 }, (_, i) => i);
    const t = thin(long, 10);
    expect(t).toHaveLength(10);
    expect(t[0]).toBe(0);
    expect(t[9]).toBe(99);
    expect(thin([1, 2], 10)).toEqual([1, 2]);
  });
});
