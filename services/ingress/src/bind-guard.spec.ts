import { describe, expect, it } from 'vitest';
import {
  BindGuard,
  expiresAt,
  MemoryGuardStore,
  type AttemptVerdict,
  type BindGuardOptions,
} from './bind-guard.js';

const opts: Partial<BindGuardOptions> = {
  windowMs: 60_000,
  slowAfter: 2,
  blockAfter: 4,
  baseDelayMs: 100,
  maxDelayMs: 250,
  blockMs: 30_000,
  maxBlockMs: 100_000,
  lockMemoryMs: 3_600_000,
  ipBlockAfter: 6,
  sidSlowAfter: 5,
  sidMaxDelayMs: 1000,
  knownForMs: 86_400_000,
};

const guard = (o: Partial<BindGuardOptions> = {}): BindGuard =>
  new BindGuard(new MemoryGuardStore({ maxKeys: 1000 }), { ...opts, ...o });

const delay = (v: AttemptVerdict): number | string => (v.admitted ? v.delayMs : `locked:${v.lockedBy}`);

describe('BindGuard', () => {
  it('counts each attempt before it is verified: holds them longer and longer, then locks the pair', async () => {
    const g = guard();
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(delay(await g.attempt('1.1.1.1', 'acme', false, i)));
    // The 4th attempt is still verified (it starts the lock); the ones after it are refused unverified.
    expect(seen).toEqual([0, 100, 200, 250, 'locked:pair', 'locked:pair']);
    // Only this pair: the same system_id from elsewhere and another system_id from here still go through.
    expect((await g.attempt('2.2.2.2', 'acme', false, 10)).admitted).toBe(true);
    expect((await g.attempt('1.1.1.1', 'other', false, 10)).admitted).toBe(true);
  });

  it('locks again for twice as long after a lock ended, up to maxBlockMs; a success clears the pair', async () => {
    const g = guard({ ipBlockAfter: 100 });
    const lockAt = async (start: number): Promise<number> => {
      for (let i = 0; i < 4; i++) await g.attempt('1.1.1.1', 'acme', false, start + i);
      const v = await g.attempt('1.1.1.1', 'acme', false, start + 4);
      return v.admitted ? 0 : v.retryAfterMs;
    };
    expect(await lockAt(0)).toBe(30_000 - 1);
    expect(await lockAt(40_000)).toBe(60_000 - 1);
    expect(await lockAt(110_000)).toBe(100_000 - 1); // capped
    await g.succeed('1.1.1.1', 'acme', 300_000);
    expect(await lockAt(300_001)).toBe(30_000 - 1);
  });

  it('never refuses a known address for failures from other addresses', async () => {
    const g = guard();
    // An attacker at 6.6.6.6 tries many accounts, then many addresses try acme.
    for (let i = 0; i < 6; i++) await g.attempt('6.6.6.6', `sid${i}`, false, i);
    expect(await g.attempt('6.6.6.6', 'new', false, 10)).toMatchObject({ admitted: false, lockedBy: 'ip' });
    for (let i = 0; i < 20; i++) await g.attempt(`10.0.0.${i}`, 'acme', false, 20 + i);
    // acme's per-system_id counter holds attempts from new addresses (slows guessing) ...
    expect(delay(await g.attempt('10.9.9.9', 'acme', false, 50))).toBe(1000);
    // ... but neither an allow-listed address nor one acme bound from before.
    expect(await g.attempt('192.0.2.1', 'acme', true, 51)).toMatchObject({
      admitted: true,
      delayMs: 0,
      known: true,
    });
    await g.succeed('198.51.100.7', 'acme', 52);
    expect(await g.attempt('198.51.100.7', 'acme', false, 53)).toMatchObject({ admitted: true, delayMs: 0 });
    // An address locked for trying many accounts may still bind to an account that lists it.
    expect((await g.attempt('6.6.6.6', 'acme', true, 54)).admitted).toBe(true);
    // A known address is not held by its own attempts either (ten binds at once after a restart), but its
    // pair still locks at blockAfter.
    const burst = [];
    for (let i = 0; i < 4; i++) burst.push(await g.attempt('198.51.100.7', 'acme', false, 60 + i));
    // (its attempt at 53 was the first of the pair's four)
    expect(burst.map(delay)).toEqual([0, 0, 0, 'locked:pair']);
  });

  it('forgets failures after a quiet window; rows expire once nothing in them matters', async () => {
    const g = guard();
    await g.attempt('1.1.1.1', 'acme', false, 0);
    await g.attempt('1.1.1.1', 'acme', false, 1);
    expect(delay(await g.attempt('1.1.1.1', 'acme', false, 61_002))).toBe(0);
    const o = g.opts;
    expect(expiresAt({ failures: 2, lastFailure: 0, blockedUntil: 0, locks: 0, lastSuccess: 0 }, o)).toBe(
      60_000,
    );
    expect(expiresAt({ failures: 0, lastFailure: 0, blockedUntil: 0, locks: 0, lastSuccess: 5 }, o)).toBe(
      86_400_005,
    );
  });

  it('keeps at most maxKeys entries in memory', async () => {
    const store = new MemoryGuardStore({ maxKeys: 10 });
    const g = new BindGuard(store, opts);
    for (let i = 0; i < 100; i++) await g.attempt(`10.0.0.${i}`, `sid${i}`, false, 0);
    expect(store.size).toBe(10);
  });
});
