import { describe, expect, it } from 'vitest';
import { isDelivered, nextAttempt } from './backoff.js';

const policy = { baseMs: 5_000, maxMs: 3_600_000 };
const now = new Date('2026-12-01T00:00:00Z');
const day = new Date(now.getTime() + 86_400_000);
const delay = (attempts: number, random = 0.5) => {
  const s = nextAttempt({ policy, attempts, now, giveUpAt: day, random: () => random });
  return s.kind === 'retry' ? s.at.getTime() - now.getTime() : null;
};

describe('retry schedule', () => {
  it('doubles from the base up to the cap, with +-20 % jitter', () => {
    expect([1, 2, 3, 4].map((n) => delay(n))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(delay(20)).toBe(3_600_000);
    expect(delay(1, 0)).toBe(4_000);
    expect(delay(1, 0.999_999)).toBe(6_000);
  });

  it('about 30 attempts fit in 24 h with the defaults', () => {
    let t = 0;
    let n = 0;
    while (t < 86_400_000) t += delay(++n)!;
    expect(n).toBeGreaterThan(25);
    expect(n).toBeLessThan(35);
  });

  it('makes the last retry at the give-up time, then gives up', () => {
    const soon = new Date(now.getTime() + 1_000);
    expect(nextAttempt({ policy, attempts: 3, now, giveUpAt: soon, random: () => 0.5 })).toEqual({
      kind: 'retry',
      at: soon,
    });
    expect(nextAttempt({ policy, attempts: 4, now: soon, giveUpAt: soon })).toEqual({ kind: 'give up' });
  });

  it('counts only 2xx as delivered', () => {
    expect([200, 204, 299].every(isDelivered)).toBe(true);
    expect([null, 199, 301, 400, 410, 500].some(isDelivered)).toBe(false);
  });
});
