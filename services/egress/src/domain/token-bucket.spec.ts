import { describe, expect, it } from 'vitest';
import { membershipOf, replicaShare, sessionsShare, strictBucket, TokenBucket } from './token-bucket.js';

function fakeClock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('TokenBucket', () => {
  it('paces grants at 1/rate with burst 1', () => {
    const clock = fakeClock();
    const b = new TokenBucket(10, 1, clock);
    expect(b.tryTake()).toEqual({ ok: true });
    const r = b.tryTake();
    expect(r).toEqual({ ok: false, waitMs: 100 });
    clock.t = 60;
    expect(b.tryTake()).toEqual({ ok: false, waitMs: 40 });
    clock.t = 100;
    expect(b.tryTake()).toEqual({ ok: true });
  });

  it('never grants more than rate in any 1-second window (simulated greedy caller)', () => {
    const clock = fakeClock();
    const b = new TokenBucket(7, 1, clock);
    const grants: number[] = [];
    while (clock.t < 10_000) {
      const r = b.tryTake();
      if (r.ok) grants.push(clock.t);
      else clock.t += r.waitMs;
    }
    for (const start of grants) {
      expect(grants.filter((g) => g >= start && g < start + 1000).length).toBeLessThanOrEqual(7);
    }
    expect(grants.length).toBeGreaterThanOrEqual(69);
  });

  it('stores at most burst tokens while idle', () => {
    const clock = fakeClock();
    const b = new TokenBucket(5, 3, clock);
    clock.t = 60_000;
    expect([b.tryTake().ok, b.tryTake().ok, b.tryTake().ok, b.tryTake().ok]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('changes rate keeping earned tokens', () => {
    const clock = fakeClock();
    const b = new TokenBucket(1, 1, clock);
    b.tryTake();
    clock.t = 500;
    b.setRate(100);
    clock.t = 505;
    expect(b.tryTake().ok).toBe(true);
  });

  it('refuses a zero rate', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
  });
});

describe('strictBucket', () => {
  it('lets bursts through at high rates but never more than the rate in any 1-second window', () => {
    const clock = fakeClock();
    const b = strictBucket(5000, clock);
    const grants: number[] = [];
    while (clock.t < 3000) {
      const r = b.tryTake();
      if (r.ok) grants.push(clock.t);
      else clock.t += r.waitMs;
    }
    let worst = 0;
    for (let i = 0, j = 0; i < grants.length; i++) {
      while (grants[i]! - grants[j]! >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(5000);
    expect(grants.length).toBeGreaterThan(14_000);
    // Bursts: far fewer distinct grant times than grants (no sleep per grant).
    expect(new Set(grants).size).toBeLessThan(grants.length / 3);
  });
  it('spaces grants at low rates', () => {
    const clock = fakeClock();
    const b = strictBucket(20, clock);
    expect(b.tryTake().ok).toBe(true);
    expect(b.tryTake()).toEqual({ ok: false, waitMs: 50 });
  });
});

describe('shares across live replicas', () => {
  it('splits the TPS evenly over the live replicas', () => {
    expect(replicaShare(150, 3)).toBe(50);
    expect(replicaShare(20, 1)).toBe(20);
  });
  it('ranks replicas by id, the same on each', () => {
    expect(membershipOf(['b', 'c'], 'a')).toEqual({ count: 3, rank: 0 });
    expect(membershipOf(['a', 'b', 'c'], 'c')).toEqual({ count: 3, rank: 2 });
    expect(membershipOf([], 'x')).toEqual({ count: 1, rank: 0 });
  });
  it("deals the connector's sessions out so the replicas open exactly that many together", () => {
    const total = (sessions: number, count: number) =>
      Array.from({ length: count }, (_, rank) => sessionsShare(sessions, { count, rank })).reduce(
        (a, b) => a + b,
        0,
      );
    expect(total(5, 2)).toBe(5);
    expect(total(4, 3)).toBe(4);
    expect(sessionsShare(4, { count: 3, rank: 0 })).toBe(2);
    expect(sessionsShare(4, { count: 3, rank: 2 })).toBe(1);
    // More replicas than sessions: each still opens one (it must send what its partitions carry).
    expect(total(2, 3)).toBe(3);
  });
});
