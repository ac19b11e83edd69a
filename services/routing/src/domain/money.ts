// Exact money for routing costs (bigint micro-units, see Money in types.ts) and currency conversion.
//
// Rates are decimal strings ("1.0842" = 1 unit of `from` buys 1.0842 units of `to`), parsed to an exact
// fraction. A pair given only one way is used inverted the other way. There is no triangulation through a
// third currency: a missing pair means "cannot compare", and least-cost routing puts that connector last.
// Rounding is half away from zero, once, at the end.

import type { Money } from './types.js';

export interface FxRate {
  from: string;
  to: string;
  rate: string;
}

interface Fraction {
  num: bigint;
  den: bigint;
}

export function parseDecimal(text: string): Fraction {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not a positive decimal: ${JSON.stringify(text)}`);
  const frac = m[2] ?? '';
  const num = BigInt((m[1] ?? '0') + frac);
  const den = 10n ** BigInt(frac.length);
  if (num === 0n) throw new RangeError(`rate must be > 0: ${text}`);
  return { num, den };
}

/** a * num / den, rounded half away from zero. */
export function mulDivRound(a: bigint, num: bigint, den: bigint): bigint {
  const p = a * num;
  const neg = p < 0n !== den < 0n;
  const ap = p < 0n ? -p : p;
  const ad = den < 0n ? -den : den;
  const q = (ap * 2n + ad) / (ad * 2n);
  return neg ? -q : q;
}

export class FxTable {
  private readonly rates = new Map<string, Fraction>();

  constructor(rates: Iterable<FxRate>) {
    for (const r of rates) {
      const f = parseDecimal(r.rate);
      const from = r.from.toUpperCase();
      const to = r.to.toUpperCase();
      this.rates.set(`${from}>${to}`, f);
      const back = `${to}>${from}`;
      if (!this.rates.has(back)) this.rates.set(back, { num: f.den, den: f.num });
    }
  }

  /** `m` in currency `to`, or null when no rate is known for the pair. */
  convert(m: Money, to: string): Money | null {
    const target = to.toUpperCase();
    const from = m.currency.toUpperCase();
    if (from === target) return { amountMinor: m.amountMinor, currency: target };
    const f = this.rates.get(`${from}>${target}`);
    if (!f) return null;
    return { amountMinor: mulDivRound(m.amountMinor, f.num, f.den), currency: target };
  }
}
