import { isDeepStrictEqual } from 'node:util';
import { getCountries, getExampleNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';
import { DestinationNormaliser, normaliseDestination } from './normalise.js';
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

describe('DestinationNormaliser', () => {
  // Deterministic PRNG (mulberry32), so a failure names the same inputs on every run.
  let seed = 0x2545f491;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const digit = () => String(Math.floor(rnd() * 10));

  /** Inputs of every shape: every country's example mobile with random tails, written every way. */
  function inputs(): Array<[string, number, string | undefined]> {
    const out: Array<[string, number, string | undefined]> = [];
    const countries = getCountries();
    for (const country of countries) {
      const ex = getExampleNumber(country, examples);
      if (!ex) continue;
      const nat = ex.nationalNumber as string;
      for (let i = 0; i < 12; i++) {
        // Keep 1-3 leading digits, vary the rest; sometimes one digit more or fewer (invalid lengths).
        const keep = 1 + Math.floor(rnd() * 3);
        let n = nat.slice(0, keep);
        const len = nat.length + (i % 6 === 5 ? 1 : i % 6 === 4 ? -1 : 0);
        while (n.length < len) n += digit();
        const cc = ex.countryCallingCode as string;
        const other = countries[Math.floor(rnd() * countries.length)];
        out.push(
          [`${cc}${n}`, Ton.INTERNATIONAL, undefined],
          [`+${cc} ${n.slice(0, 3)}-${n.slice(3)}`, Ton.UNKNOWN, undefined],
          [`00${cc}${n}`, Ton.UNKNOWN, other],
          [n, Ton.NATIONAL, country],
          [`0${n}`, Ton.UNKNOWN, country],
          [`${cc}${n}`, Ton.UNKNOWN, other],
          [n, Ton.NATIONAL, undefined],
          [`${cc}${n}`, Ton.ALPHANUMERIC, undefined],
          // The same addresses under other countries, where the memo shares one answer across countries.
          [`${cc}${n}`, Ton.INTERNATIONAL, other],
          [`+${cc}${n}`, Ton.NATIONAL, other],
          [`+${cc}${n}`, Ton.UNKNOWN, country],
          [`00${cc}${n}`, Ton.UNKNOWN, country],
          [`00${cc}${n}`, Ton.NATIONAL, country],
          [`${cc}${n}`, Ton.ALPHANUMERIC, other],
          // And where the country does change the answer, so that sharing it there would show.
          [n, Ton.NATIONAL, other],
          [`0${n}`, Ton.UNKNOWN, other],
        );
      }
    }
    out.push(['', Ton.INTERNATIONAL, undefined], ['44 7911 12345x', Ton.UNKNOWN, 'GB']);
    return out;
  }

  it('gives exactly what normaliseDestination gives, on first sight and from memory', () => {
    const all = inputs();
    expect(all.length).toBeGreaterThan(40_000);
    // A small memo, so entries rotate through both generations while the same inputs come back.
    const memo = new DestinationNormaliser(2_000);
    let valid = 0;
    // Compared with isDeepStrictEqual and reported together: 190,000 expect() calls take seconds.
    const mismatches: unknown[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < all.length; i++) {
        const [addr, ton, country] = all[i]!;
        const want = normaliseDestination(addr, ton, country);
        if (want.ok) valid++;
        const first = memo.normalise(addr, ton, country);
        // The same input again at once is answered from memory.
        const again = memo.normalise(addr, ton, country);
        for (const got of [first, again])
          if (!isDeepStrictEqual(got, want) && mismatches.length < 10)
            mismatches.push({ input: [addr, ton, country], want, got });
      }
    }
    expect(mismatches).toEqual([]);
    // Both answers are well represented, so the comparison covers both.
    expect(valid).toBeGreaterThan(all.length / 4);
    expect(valid).toBeLessThan((all.length * 2 * 3) / 4);
  }, 60_000);

  it('stays within its bound and can be turned off', () => {
    const memo = new DestinationNormaliser(100);
    for (let i = 0; i < 1_000; i++) memo.normalise(`4479111${String(i).padStart(5, '0')}`, Ton.INTERNATIONAL);
    expect(memo.size).toBeLessThanOrEqual(100);
    const off = new DestinationNormaliser(0);
    expect(off.normalise('447400123456', Ton.INTERNATIONAL)).toEqual(
      normaliseDestination('447400123456', Ton.INTERNATIONAL),
    );
    expect(off.size).toBe(0);
  });
});
