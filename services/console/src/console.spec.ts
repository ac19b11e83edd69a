import { describe, expect, it } from 'vitest';
import { parseAmount } from './api.js';
import { capabilitiesOf } from './capabilities.js';
import { csrfMatches, SessionStore } from './session.js';
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

describe('SessionStore', () => {
  it('ends a session when idle or too old, and keeps a used one alive', () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1_000, maxMs: 5_000 }, () => now);
    const s = store.create('tok', 'admin');
    now = 900;
    expect(store.get(s.id)?.role).toBe('admin');
    now = 1_800;
    expect(store.get(s.id)).toBeDefined();
    now = 2_900;
    expect(store.get(s.id)).toBeUndefined();
    const t = store.create('tok', 'finance');
    for (now = 3_000; now < 8_000; now += 900) store.get(t.id);
    expect(store.get(t.id)).toBeUndefined();
  });
  it('drops the least recently used session past the limit', () => {
    const store = new SessionStore({ idleMs: 1e9, maxMs: 1e9, maxSessions: 2 });
    const a = store.create('a', 'admin');
    const b = store.create('b', 'admin');
    store.get(a.id);
    store.create('c', 'admin');
    expect(store.get(b.id)).toBeUndefined();
    expect(store.get(a.id)).toBeDefined();
  });
  it('compares CSRF tokens exactly', () => {
    const s = new SessionStore({ idleMs: 1e9, maxMs: 1e9 }).create('t', 'admin');
    expect(csrfMatches(s, s.csrf)).toBe(true);
    expect(csrfMatches(s, undefined)).toBe(false);
    expect(csrfMatches(s, `${s.csrf}x`)).toBe(false);
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
