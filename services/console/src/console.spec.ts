import { describe, expect, it } from 'vitest';
import { parseAmount } from './api.js';
import { capabilitiesOf } from './capabilities.js';
import { csrfMatches, MemorySessions, parseSessionKeys, SEAL_TOUCH_MS, SealedSessions } from './session.js';
import { formatMoney, withoutTexts } from './views.js';

describe('capabilitiesOf', () => {
  it('follows the role table: finance cannot switch connectors, operations sees no money', () => {
    const finance = capabilitiesOf('finance');
    expect(finance.pages).toContain('settlement');
    expect(finance.pages).not.toContain('connectors');
    expect(finance.actions).not.toContain('connectors.toggle');
    expect(finance.actions).toContain('accounts.topup');
    const ops = capabilitiesOf('operations');
    expect(ops.pages).toEqual(expect.arrayContaining(['overview', 'connectors', 'messages', 'routing']));
    expect(ops.pages).not.toContain('settlement');
    // Operations change nothing but replay dead letters (their work); finance has no dead letters.
    expect(ops.actions).toEqual(['deadletters.replay']);
    expect(ops.pages).toContain('deadletters');
    expect(finance.pages).not.toContain('deadletters');
    expect(finance.actions).not.toContain('deadletters.replay');
    expect(capabilitiesOf('admin').actions).toContain('routing.edit');
  });
});

describe('MemorySessions', () => {
  it('ends a session when idle or too old, and keeps a used one alive', () => {
    let now = 0;
    const store = new MemorySessions({ idleMs: 1_000, maxMs: 5_000 }, () => now);
    const { cookie: s } = store.create('tok', 'admin');
    now = 900;
    expect(store.get(s)?.session.role).toBe('admin');
    now = 1_800;
    expect(store.get(s)).toBeDefined();
    now = 2_900;
    expect(store.get(s)).toBeUndefined();
    const { cookie: t } = store.create('tok', 'finance');
    for (now = 3_000; now < 8_000; now += 900) store.get(t);
    expect(store.get(t)).toBeUndefined();
  });
  it('drops the least recently used session past the limit', () => {
    const store = new MemorySessions({ idleMs: 1e9, maxMs: 1e9, maxSessions: 2 });
    const a = store.create('a', 'admin').cookie;
    const b = store.create('b', 'admin').cookie;
    store.get(a);
    store.create('c', 'admin');
    expect(store.get(b)).toBeUndefined();
    expect(store.get(a)).toBeDefined();
  });
  it('forgets a signed-out session', () => {
    const store = new MemorySessions({ idleMs: 1e9, maxMs: 1e9 });
    const { session, cookie } = store.create('a', 'admin');
    store.delete(session);
    expect(store.get(cookie)).toBeUndefined();
  });
  it('compares CSRF tokens exactly', () => {
    const { session: s } = new MemorySessions({ idleMs: 1e9, maxMs: 1e9 }).create('t', 'admin');
    expect(csrfMatches(s, s.csrf)).toBe(true);
    expect(csrfMatches(s, undefined)).toBe(false);
    expect(csrfMatches(s, `${s.csrf}x`)).toBe(false);
  });
});

describe('SealedSessions', () => {
  const key = (b: number) => Buffer.alloc(32, b);
  const limits = { idleMs: 30 * 60_000, maxMs: 12 * 3_600_000 };

  it('opens its cookie in another store with the same key (another replica), never the token in clear', () => {
    const a = new SealedSessions([key(1)], limits);
    const b = new SealedSessions([key(1)], limits);
    const { session, cookie } = a.create('secret-token-value', 'operations');
    expect(cookie).toMatch(/^s1\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(cookie.slice(3), 'base64url').toString('latin1')).not.toContain('secret-token');
    expect(b.get(cookie)?.session).toEqual(session);
    // Sealed twice, never the same bytes (a fresh IV each time).
    expect(a.create('secret-token-value', 'operations').cookie).not.toBe(cookie);
  });

  it('refuses a changed cookie, another key, a plain id and garbage', () => {
    const a = new SealedSessions([key(1)], limits);
    const { cookie } = a.create('tok', 'admin');
    const raw = Buffer.from(cookie.slice(3), 'base64url');
    for (const i of [0, 12, raw.length - 1]) {
      const bent = Buffer.from(raw);
      bent[i] = bent[i]! ^ 1;
      expect(a.get(`s1.${bent.toString('base64url')}`)).toBeUndefined();
    }
    expect(new SealedSessions([key(2)], limits).get(cookie)).toBeUndefined();
    for (const junk of ['', 's1.', 's1.AAAA', 'abc', `s2.${cookie.slice(3)}`])
      expect(a.get(junk)).toBeUndefined();
  });

  it('opens with any of its keys and seals with the first (rotation)', () => {
    const old = new SealedSessions([key(1)], limits).create('tok', 'finance').cookie;
    const rotated = new SealedSessions([key(2), key(1)], limits);
    expect(rotated.get(old)?.session.role).toBe('finance');
    const fresh = rotated.create('tok', 'finance').cookie;
    expect(new SealedSessions([key(2)], limits).get(fresh)).toBeDefined();
    expect(new SealedSessions([key(1)], limits).get(fresh)).toBeUndefined();
  });

  it('ends a session when idle or too old; a used one gets a newer cookie at most once a minute', () => {
    let now = 0;
    const store = new SealedSessions([key(1)], { idleMs: 5 * 60_000, maxMs: 20 * 60_000 }, () => now);
    let { cookie } = store.create('tok', 'admin');
    now = SEAL_TOUCH_MS - 1;
    expect(store.get(cookie)).toEqual({ session: expect.objectContaining({ lastUsedAt: 0 }) });
    now = 4 * 60_000;
    const used = store.get(cookie)!;
    expect(used.session.lastUsedAt).toBe(now);
    cookie = used.cookie!;
    now = 8 * 60_000; // 4 minutes after the last recorded use: alive
    cookie = store.get(cookie)!.cookie!;
    now = 14 * 60_000; // 6 minutes idle
    expect(store.get(cookie)).toBeUndefined();
    // Used every 4 minutes, it still ends at the maximum age.
    let c = store.create('tok', 'admin').cookie;
    for (now = 15 * 60_000; now < 35 * 60_000; now += 4 * 60_000) c = store.get(c)?.cookie ?? c;
    expect(store.get(c)).toBeUndefined();
  });

  it('parses CONSOLE_SESSION_KEY, and says what is wrong without the key', () => {
    const k1 = key(1).toString('base64');
    const k2 = key(2).toString('base64');
    expect(parseSessionKeys(`${k1}, ${k2}`)).toEqual([key(1), key(2)]);
    expect(() => parseSessionKeys('c2hvcnQ=')).toThrow(/key 1 is not 32 bytes of base64/);
    expect(() => parseSessionKeys(`${k1},not base64!`)).toThrow(/key 2 is not 32 bytes/);
    expect(() => parseSessionKeys(' , ')).toThrow(/empty/);
  });
});

describe('views', () => {
  it('never passes a message text on', () => {
    expect(withoutTexts({ a: 1, shortMessage: 'aGk=', nested: [{ rawText: 'x', b: 2 }] })).toEqual({
      a: 1,
      nested: [{ b: 2 }],
    });
  });
  it('formats money from minor units without floats', () => {
    expect(formatMoney({ currencyCode: 'EUR', minorUnits: 45_000n, scale: 6 })).toBe('EUR 0.045');
    expect(formatMoney({ currencyCode: 'EUR', minorUnits: -1_500_000n, scale: 6 })).toBe('EUR -1.50');
  });
  it('parses a typed amount at scale 6 and refuses anything else', () => {
    expect(parseAmount('12.5', 'EUR')).toEqual({ currencyCode: 'EUR', minorUnits: 12_500_000n, scale: 6 });
    expect(() => parseAmount('1e3', 'EUR')).toThrow(/not an amount/);
    expect(() => parseAmount('-5', 'EUR')).toThrow(/not an amount/);
    expect(() => parseAmount('5', 'eur')).toThrow(/not an amount/);
  });
});
