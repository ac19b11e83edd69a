import { describe, expect, it } from 'vitest';
import { Throttles, TokenBucket } from './throttle.js';

describe('TokenBucket', () => {
  it('lets a burst of `rate` through, then refills at `rate` per second', () => {
    const b = new TokenBucket(5, 5, 0);
    expect(Array.from({ length: 7 }, () => b.tryTake(0))).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(b.tryTake(199)).toBe(false);
    expect(b.tryTake(200)).toBe(true); // 200 ms at 5/s = one token
    expect(b.tryTake(200)).toBe(false);
    expect([
      b.tryTake(10_000),
      b.tryTake(10_000),
      b.tryTake(10_000),
      b.tryTake(10_000),
      b.tryTake(10_000),
    ]).toEqual(Array(5).fill(true));
    expect(b.tryTake(10_000)).toBe(false); // never more than the burst
  });
});

describe('Throttles', () => {
  it('shares one bucket per key and follows a changed rate', () => {
    const t = new Throttles();
    expect([t.tryTake('a', 2, 0), t.tryTake('a', 2, 0), t.tryTake('a', 2, 0)]).toEqual([true, true, false]);
    expect(t.tryTake('b', 2, 0)).toBe(true);
    // Lowered to 1/s: the bucket holds at most one token.
    expect([t.tryTake('a', 1, 5000), t.tryTake('a', 1, 5000)]).toEqual([true, false]);
  });
});
