import { describe, expect, it } from 'vitest';
import { RecentCounter } from './recent-counter.js';

describe('RecentCounter', () => {
  it('counts the events of the last minute and forgets older ones', () => {
    const c = new RecentCounter();
    const t0 = 1_000_000_000;
    c.add(t0);
    c.add(t0 + 500);
    c.add(t0 + 30_000);
    expect(c.count(t0 + 30_000)).toBe(3);
    // 60 s after the first second, its two events have left the window.
    expect(c.count(t0 + 60_000)).toBe(1);
    expect(c.count(t0 + 90_000)).toBe(0);
    expect(c.total).toBe(3);
  });

  it('reuses a bucket a minute later without carrying the old count', () => {
    const c = new RecentCounter();
    const t0 = 2_000_000_000;
    for (let i = 0; i < 5; i++) c.add(t0);
    c.add(t0 + 60_000);
    expect(c.count(t0 + 60_000)).toBe(1);
    expect(c.total).toBe(6);
  });
});
