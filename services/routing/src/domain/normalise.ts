// Destination number normalisation to E.164 with libphonenumber-js ("max" metadata: full validation of
// number ranges, not just lengths).
//
// By SMPP type of number (dest_addr_ton):
// - INTERNATIONAL (1): the digits already carry the country code ("+" or not).
// - NATIONAL (2): the account's default country is required; without one the number is rejected.
// - UNKNOWN (0) and every other numeric TON: "+" or a leading international call prefix ("00", or the
//   default country's own, e.g. "011" in the US) means international. Otherwise, with a default country,
//   the national reading is tried first and the international one second; without a default country the
//   digits are read as international. (A national and an international reading can both be valid, e.g.
//   US 4155552671 and CH +41 55 555 2671: the account's country wins, which is what ESMEs sending TON 0
//   with national numbers expect.)
// - ALPHANUMERIC (5): never a valid destination.
// Spaces, dashes, dots and parentheses are ignored; any other non-digit makes the number invalid.

import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { Ton } from './types.js';

export type NormaliseResult = { ok: true; e164: string; country: string } | { ok: false; reason: string };

const SEPARATORS = /[\s\-().]/g;

export function normaliseDestination(addr: string, ton: number, defaultCountry?: string): NormaliseResult {
  if (ton === Ton.ALPHANUMERIC) return { ok: false, reason: 'alphanumeric destination (TON 5)' };
  const cleaned = addr.replace(SEPARATORS, '');
  const plus = cleaned.startsWith('+');
  const digits = plus ? cleaned.slice(1) : cleaned;
  if (digits.length === 0) return { ok: false, reason: 'empty destination' };
  if (!/^\d+$/.test(digits)) return { ok: false, reason: `destination has non-digit characters` };
  if (digits.length > 15) return { ok: false, reason: `destination longer than 15 digits (E.164 maximum)` };

  const country = defaultCountry ? (defaultCountry.toUpperCase() as CountryCode) : undefined;

  if (ton === Ton.INTERNATIONAL || plus) return international(digits);
  if (ton === Ton.NATIONAL) {
    if (!country)
      return { ok: false, reason: 'national number (TON 2) but the account has no default country' };
    return national(digits, country);
  }
  // UNKNOWN and other numeric TONs.
  if (digits.startsWith('00')) return international(digits.slice(2));
  if (!country) return international(digits);
  const asNational = national(digits, country);
  if (asNational.ok) return asNational;
  const asInternational = international(digits);
  if (asInternational.ok) return asInternational;
  return { ok: false, reason: `not a valid number, neither national (${country}) nor international` };
}

function international(digits: string): NormaliseResult {
  const p = parsePhoneNumberFromString(`+${digits}`);
  if (!p) return { ok: false, reason: 'not a phone number (no country calling code recognised)' };
  if (!p.isValid())
    return { ok: false, reason: `not a valid number for calling code +${p.countryCallingCode}` };
  return { ok: true, e164: p.number, country: p.country ?? '001' };
}

function national(digits: string, country: CountryCode): NormaliseResult {
  // With a default country, libphonenumber also understands that country's international call prefix
  // ("00" in most of the world, "011" in NANP), so "011 44 ..." from a US account works.
  const p = parsePhoneNumberFromString(digits, { defaultCountry: country });
  if (!p) return { ok: false, reason: `not a phone number in ${country}` };
  if (!p.isValid()) return { ok: false, reason: `not a valid ${country} number` };
  return { ok: true, e164: p.number, country: p.country ?? '001' };
}

/**
 * Whether normaliseDestination's answer for (addr, ton) can depend on the default country: not for
 * international or alphanumeric TONs, nor when the address starts with "+" (always read as international),
 * nor with "00" under any TON but national. Then one remembered answer serves every account's country.
 */
function countryMatters(addr: string, ton: number): boolean {
  if (ton === Ton.INTERNATIONAL || ton === Ton.ALPHANUMERIC || addr.startsWith('+')) return false;
  return ton === Ton.NATIONAL || !addr.startsWith('00');
}

/**
 * normaliseDestination with a bounded memo of its answers. A libphonenumber-js parse and "max" validation
 * costs about 10 µs (it compiles a regular expression per pattern it tries); traffic repeats destinations
 * (OTP, campaigns, retries), so remembering answers by their exact inputs keeps that cost to first sight.
 * The answer is a pure function of (address, TON, default country), so a remembered one is identical; the
 * country is left out of the key where it cannot change the answer (countryMatters).
 *
 * Memory: two generations of at most maxEntries / 2 each (about 200 B per entry). When the young one is
 * full it becomes the old one and the previous old one is dropped; a hit in the old one is carried over.
 * Each call is O(1), with no least-recently-used bookkeeping.
 */
export class DestinationNormaliser {
  private young = new Map<string, NormaliseResult>();
  private old = new Map<string, NormaliseResult>();
  private readonly generation: number;

  /** maxEntries 0 turns the memo off. */
  constructor(readonly maxEntries = 100_000) {
    if (!(maxEntries >= 0)) throw new RangeError('maxEntries must be >= 0');
    this.generation = Math.ceil(maxEntries / 2);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  normalise(addr: string, ton: number, defaultCountry?: string): NormaliseResult {
    if (this.generation === 0) return normaliseDestination(addr, ton, defaultCountry);
    const key = `${ton}|${countryMatters(addr, ton) ? (defaultCountry ?? '') : ''}|${addr}`;
    let r = this.young.get(key);
    if (r !== undefined) return r;
    r = this.old.get(key) ?? Object.freeze(normaliseDestination(addr, ton, defaultCountry));
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, r);
    return r;
  }
}
