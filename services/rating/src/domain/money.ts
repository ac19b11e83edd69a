// Exact money. Never a float.
//
// - Record-level amounts (what a customer is charged, what a supplier costs) are `bigint` MINOR units
//   of an ISO 4217 currency: cents for EUR, yen for JPY, fils (1/1000) for BHD.
// - Rates are `Price`s: `amount` is the price in units of 10^-scale of the MAJOR unit, scale 6 by
//   default (micro-units, as in proto/smshub/common/v1/money.proto): EUR 0.00345 per segment is
//   {amount: 3450n, scale: 6, currency: 'EUR'}. This keeps sub-cent SMS prices exact.
// - Intermediate results (segments x rate x exchange rate) are exact rationals; they are rounded ONCE,
//   half-to-even ("banker's rounding"), to minor units when a record is produced.
import { currencyMinorExponent } from '@smshub/contracts';

export const RATE_SCALE = 6;

export interface Price {
  amount: bigint;
  scale: number;
  currency: string;
}

/** num/den with den > 0. */
export interface Rational {
  num: bigint;
  den: bigint;
}

export class MoneyError extends Error {
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MoneyError';
  }
}

export function assertCurrency(currency: string): void {
  if (!/^[A-Z]{3}$/.test(currency)) throw new MoneyError(`not an ISO 4217 code: ${JSON.stringify(currency)}`);
}

/** Number of decimal digits of the currency's minor unit (2 unless listed). */
/** Exponents of the codes already checked: a record asks for its currencies' several times. */
const EXPONENTS = new Map<string, number>();

export function minorExponent(currency: string): number {
  const known = EXPONENTS.get(currency);
  if (known !== undefined) return known;
  assertCurrency(currency);
  const exp = currencyMinorExponent(currency);
  if (EXPONENTS.size < 1000) EXPONENTS.set(currency, exp);
  return exp;
}

const POW10: bigint[] = Array.from({ length: 40 }, (_, i) => 10n ** BigInt(i));

export function pow10(n: number): bigint {
  return POW10[n] ?? 10n ** BigInt(n);
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 1n) return { num, den }; // already reduced (a count of segments, zero, one)
  if (den === 0n) throw new MoneyError('zero denominator');
  const sign = den < 0n ? -1n : 1n;
  const g = gcd(num, den) || 1n;
  return { num: (sign * num) / g, den: (sign * den) / g };
}

// mul and sub do not reduce by the gcd (costly on bigints); results are only ever rounded or compared
// through roundHalfEven/toMinor, which do not need reduced fractions. Denominators stay positive.
export function mul(a: Rational, b: Rational): Rational {
  return { num: a.num * b.num, den: a.den * b.den };
}

export function sub(a: Rational, b: Rational): Rational {
  return a.den === b.den
    ? { num: a.num - b.num, den: a.den }
    : { num: a.num * b.den - b.num * a.den, den: a.den * b.den };
}

export function inverse(a: Rational): Rational {
  if (a.num === 0n) throw new MoneyError('inverse of zero');
  return rational(a.den, a.num);
}

/** num/den rounded to an integer, ties to even. */
export function roundHalfEven(num: bigint, den: bigint): bigint {
  if (den === 0n) throw new MoneyError('zero denominator');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  let q = num / den; // truncates toward zero
  let r = num % den;
  if (r < 0n) {
    q -= 1n;
    r += den;
  } // now q = floor, 0 <= r < den
  const twice = 2n * r;
  if (twice > den || (twice === den && q % 2n !== 0n)) q += 1n;
  return q;
}

/** Exact decimal string ("1.0825", "-0.5", "12") to a rational. No exponents, no floats. */
export function parseDecimal(text: string): Rational {
  const m = /^([+-])?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new MoneyError(`not a decimal number: ${JSON.stringify(text)}`);
  const frac = m[3] ?? '';
  const num = BigInt(`${m[2]}${frac}`) * (m[1] === '-' ? -1n : 1n);
  return rational(num, pow10(frac.length));
}

/** A Price from a decimal string in major units, e.g. parsePrice('0.00345', 'EUR') -> 3450n at scale 6. */
export function parsePrice(text: string, currency: string, scale = RATE_SCALE): Price {
  assertCurrency(currency);
  const r = parseDecimal(text);
  const scaled = r.num * pow10(scale);
  if (scaled % r.den !== 0n) throw new MoneyError(`${text} has more than ${scale} decimals`);
  return { amount: scaled / r.den, scale, currency };
}

/** The price as a rational number of major units. */
export function priceValue(p: Price): Rational {
  return { num: p.amount, den: pow10(p.scale) };
}

/** Major-unit rational -> minor units of `currency`, half-even. */
export function toMinor(majorUnits: Rational, currency: string): bigint {
  return roundHalfEven(majorUnits.num * pow10(minorExponent(currency)), majorUnits.den);
}

/** Minor units -> major-unit rational. */
export function fromMinor(amountMinor: bigint, currency: string): Rational {
  return rational(amountMinor, pow10(minorExponent(currency)));
}

/** Minor units as a decimal string with the currency's exponent: 1234n EUR -> "12.34", -5n -> "-0.05". */
export function formatMinor(amountMinor: bigint, currency: string): string {
  const exp = minorExponent(currency);
  const neg = amountMinor < 0n;
  const digits = (neg ? -amountMinor : amountMinor).toString().padStart(exp + 1, '0');
  const text = exp === 0 ? digits : `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
  return neg ? `-${text}` : text;
}
