import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the maximum', () => {
    const p = { initialMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 50].map((a) => backoffDelay(p, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it('applies jitter within bounds and never above the maximum', () => {
    const p = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
    expect(backoffDelay(p, 1, () => 0)).toBe(50);
    expect(backoffDelay(p, 1, () => 1)).toBe(150);
    expect(backoffDelay(p, 10, () => 1)).toBe(1000);
  });
});
