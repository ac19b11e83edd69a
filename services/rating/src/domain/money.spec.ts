import { describe, expect, it } from 'vitest';
import {
  MoneyError,
  formatMinor,
  fromMinor,
  minorExponent,
  mul,
  parseDecimal,
  parsePrice,
  priceValue,
  rational,
  roundHalfEven,
  toMinor,
} from './money.js';

describe('roundHalfEven', () => {
  it('rounds ties to the even neighbour, other values to the nearest', () => {
    const cases: [bigint, bigint, bigint][] = [
      [5n, 2n, 2n], // 2.5 -> 2
      [7n, 2n, 4n], // 3.5 -> 4
      [-5n, 2n, -2n], // -2.5 -> -2
      [-7n, 2n, -4n], // -3.5 -> -4
      [26n, 10n, 3n], // 2.6 -> 3
      [24n, 10n, 2n], // 2.4 -> 2
      [-26n, 10n, -3n],
      [10n, 5n, 2n],
      [1n, -2n, 0n], // -0.5 -> 0
    ];
    for (const [n, d, q] of cases) expect(roundHalfEven(n, d)).toBe(q);
  });
});

describe('prices and minor units', () => {
  it('holds sub-cent prices exactly at scale 6', () => {
    const p = parsePrice('0.00345', 'EUR');
    expect(p).toEqual({ amount: 3450n, scale: 6, currency: 'EUR' });
    // 1,000 segments at 0.00345 = 3.45 EUR exactly
    expect(toMinor(mul(priceValue(p), rational(1000n)), 'EUR')).toBe(345n);
    // 3 segments = 0.01035 EUR -> 1 cent; 0.005 EUR (tie) -> 0 cents (half-even)
    expect(toMinor(mul(priceValue(p), rational(3n)), 'EUR')).toBe(1n);
    expect(toMinor(priceValue(parsePrice('0.005', 'EUR')), 'EUR')).toBe(0n);
    expect(toMinor(priceValue(parsePrice('0.015', 'EUR')), 'EUR')).toBe(2n);
  });

  it('refuses prices with more digits than the scale and malformed input', () => {
    expect(() => parsePrice('0.0000001', 'EUR')).toThrow(MoneyError);
    expect(() => parsePrice('1e-3', 'EUR')).toThrow(MoneyError);
    expect(() => parsePrice('0.1', 'eur')).toThrow(MoneyError);
  });

  it('knows minor-unit exponents and formats amounts as decimal strings', () => {
    expect(minorExponent('EUR')).toBe(2);
    expect(minorExponent('JPY')).toBe(0);
    expect(minorExponent('BHD')).toBe(3);
    expect(formatMinor(1234n, 'EUR')).toBe('12.34');
    expect(formatMinor(-5n, 'EUR')).toBe('-0.05');
    expect(formatMinor(0n, 'USD')).toBe('0.00');
    expect(formatMinor(1234n, 'JPY')).toBe('1234');
    expect(formatMinor(1n, 'KWD')).toBe('0.001');
    expect(formatMinor(123_456_789_012_345_678_901n, 'EUR')).toBe('1234567890123456789.01');
    expect(toMinor(fromMinor(1234n, 'EUR'), 'JPY')).toBe(12n);
  });

  it('parses decimals exactly', () => {
    expect(parseDecimal('1.0825')).toEqual({ num: 433n, den: 400n });
    expect(parseDecimal('-0.50')).toEqual({ num: -1n, den: 2n });
  });
});
