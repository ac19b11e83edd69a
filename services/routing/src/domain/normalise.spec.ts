import { describe, expect, it } from 'vitest';
import { normaliseDestination } from './normalise.js';
import { Ton } from './types.js';

describe('normaliseDestination', () => {
  it('accepts international numbers with or without "+"', () => {
    expect(normaliseDestination('447400123456', Ton.INTERNATIONAL)).toEqual({
      ok: true,
      e164: '+447400123456',
      country: 'GB',
    });
    expect(normaliseDestination('+49 151 23456789', Ton.UNKNOWN)).toEqual({
      ok: true,
      e164: '+4915123456789',
      country: 'DE',
    });
    expect(normaliseDestination('2348031234567', Ton.INTERNATIONAL)).toMatchObject({
      ok: true,
      country: 'NG',
    });
  });

  it('reads national numbers with the account default country', () => {
    expect(normaliseDestination('07400 123456', Ton.NATIONAL, 'GB')).toEqual({
      ok: true,
      e164: '+447400123456',
      country: 'GB',
    });
    expect(normaliseDestination('0612345678', Ton.UNKNOWN, 'fr')).toEqual({
      ok: true,
      e164: '+33612345678',
      country: 'FR',
    });
  });

  it('rejects a national number when the account has no default country', () => {
    const r = normaliseDestination('07400123456', Ton.NATIONAL);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/default country/);
  });

  it('understands international call prefixes with TON unknown', () => {
    expect(normaliseDestination('00447400123456', Ton.UNKNOWN)).toMatchObject({
      ok: true,
      e164: '+447400123456',
    });
    expect(normaliseDestination('011447400123456', Ton.UNKNOWN, 'US')).toMatchObject({
      ok: true,
      e164: '+447400123456',
    });
  });

  it('falls back to the international reading when the national one is invalid', () => {
    expect(normaliseDestination('447400123456', Ton.UNKNOWN, 'FR')).toMatchObject({
      ok: true,
      e164: '+447400123456',
    });
  });

  it('rejects invalid numbers with a clear reason', () => {
    const cases: Array<[string, number]> = [
      ['4412', Ton.INTERNATIONAL],
      ['', Ton.INTERNATIONAL],
      ['44791112345x', Ton.INTERNATIONAL],
      ['1234567890123456', Ton.INTERNATIONAL],
      ['INFO', Ton.ALPHANUMERIC],
      ['9991234567', Ton.INTERNATIONAL],
    ];
    for (const [addr, ton] of cases) {
      const r = normaliseDestination(addr, ton);
      expect(r.ok, addr).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(5);
    }
  });
});
