import { describe, expect, it } from 'vitest';
import { BindGuard } from './bind-guard.js';

const opts = {
  windowMs: 60_000,
  slowAfter: 2,
  blockAfter: 4,
  baseDelayMs: 100,
  maxDelayMs: 250,
  blockMs: 30_000,
};

describe('BindGuard', () => {
  it('delays failures progressively, then blocks the IP and the system_id for blockMs', () => {
    const g = new BindGuard(opts);
    expect(g.fail('1.1.1.1', 'acme', 0)).toEqual({ delayMs: 0, blockedNow: false });
    expect(g.fail('1.1.1.1', 'acme', 1).delayMs).toBe(100);
    expect(g.fail('1.1.1.1', 'acme', 2).delayMs).toBe(200);
    expect(g.fail('1.1.1.1', 'acme', 3)).toEqual({ delayMs: 250, blockedNow: true });
    expect(g.blocked('1.1.1.1', 'other', 4)).toBe(true); // by IP
    expect(g.blocked('2.2.2.2', 'acme', 4)).toBe(true); // by system_id
    expect(g.blocked('2.2.2.2', 'other', 4)).toBe(false);
    expect(g.blocked('1.1.1.1', 'acme', 30_003)).toBe(false);
  });

  it('forgets failures after a quiet window and on success', () => {
    const g = new BindGuard(opts);
    g.fail('1.1.1.1', 'acme', 0);
    g.fail('1.1.1.1', 'acme', 0);
    expect(g.fail('1.1.1.1', 'acme', 61_000).delayMs).toBe(0);
    g.fail('1.1.1.1', 'acme', 61_001);
    g.succeed('1.1.1.1', 'acme', 61_002);
    expect(g.fail('1.1.1.1', 'acme', 61_003).delayMs).toBe(0);
  });

  it('keeps at most maxKeys entries', () => {
    const g = new BindGuard({ ...opts, maxKeys: 10 });
    for (let i = 0; i < 100; i++) g.fail(`10.0.0.${i}`, `sid${i}`, 0);
    expect((g as unknown as { entries: Map<string, unknown> }).entries.size).toBe(10);
  });
});
