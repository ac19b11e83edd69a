// Currency conversion with stored exchange rates. A rate is a decimal string ("1.0825": 1 unit of
// `from` = 1.0825 units of `to`) with an effective period [effectiveFrom, effectiveTo). Conversion is
// exact (rational arithmetic); rounding happens only when a record amount is produced.
//
// Selection at time t: among rates for the pair effective at t, the latest effectiveFrom wins, ties by
// the smallest id. A direct pair (from->to) is preferred; otherwise the inverse of the reverse pair
// (to->from) effective at t. No triangulation through a third currency: a missing pair is a
// configuration error (FxRateMissingError) rather than a silently derived price.

import { MoneyError, assertCurrency, inverse, mul, parseDecimal, rational, type Rational } from './money.js';

export interface ExchangeRate {
  id: string;
  from: string;
  to: string;
  /** Decimal string, units of `to` per unit of `from`. */
  rate: string;
  effectiveFrom: number;
  effectiveTo?: number;
}

export class FxRateMissingError extends MoneyError {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly at: number,
  ) {
    super(`no exchange rate ${from}->${to} effective at ${new Date(at).toISOString()}`);
    this.name = 'FxRateMissingError';
  }
}

interface ParsedRate extends ExchangeRate {
  value: Rational;
}

export class FxTable {
  private readonly pairs = new Map<string, ParsedRate[]>();

  constructor(rates: readonly ExchangeRate[] = []) {
    for (const r of rates) this.add(r);
  }

  add(r: ExchangeRate): void {
    assertCurrency(r.from);
    assertCurrency(r.to);
    const value = parseDecimal(r.rate);
    if (value.num <= 0n) throw new MoneyError(`exchange rate ${r.id} must be positive`);
    const key = `${r.from}>${r.to}`;
    const list = this.pairs.get(key) ?? [];
    list.push({ ...r, value });
    list.sort((a, b) => b.effectiveFrom - a.effectiveFrom || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.pairs.set(key, list);
  }

  private effective(from: string, to: string, at: number): ParsedRate | undefined {
    return this.pairs
      .get(`${from}>${to}`)
      ?.find((r) => r.effectiveFrom <= at && (r.effectiveTo === undefined || at < r.effectiveTo));
  }

  /** Units of `to` per unit of `from` at time `at`. */
  rateAt(from: string, to: string, at: number): Rational {
    if (from === to) return rational(1n);
    const direct = this.effective(from, to, at);
    if (direct) return direct.value;
    const reverse = this.effective(to, from, at);
    if (reverse) return inverse(reverse.value);
    throw new FxRateMissingError(from, to, at);
  }

  /** Convert an exact major-unit amount. */
  convert(amount: Rational, from: string, to: string, at: number): Rational {
    return from === to ? amount : mul(amount, this.rateAt(from, to, at));
  }
}
