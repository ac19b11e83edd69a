import { describe, expect, it } from 'vitest';
import { FxRateMissingError, FxTable } from './fx.js';
import { MoneyError, rational, toMinor } from './money.js';

describe('FxTable', () => {
  const day = 86_400_000;
  const fx = new FxTable([
    { id: 'a', from: 'EUR', to: 'USD', rate: '1.10', effectiveFrom: 0, effectiveTo: 10 * day },
    { id: 'b', from: 'EUR', to: 'USD', rate: '1.20', effectiveFrom: 10 * day },
    { id: 'c', from: 'GBP', to: 'EUR', rate: '1.25', effectiveFrom: 0 },
  ]);

  it('converts exactly with the rate effective at the event time', () => {
    const oneEur = rational(1n);
    expect(toMinor(fx.convert(oneEur, 'EUR', 'USD', 5 * day), 'USD')).toBe(110n);
    expect(toMinor(fx.convert(oneEur, 'EUR', 'USD', 10 * day), 'USD')).toBe(120n);
    expect(fx.convert(oneEur, 'EUR', 'EUR', 0)).toEqual(oneEur);
  });

  it('uses the inverse of the reverse pair, exactly', () => {
    // 1 EUR = 1.25 GBP^-1  ->  1 EUR = 0.8 GBP
    expect(fx.rateAt('EUR', 'GBP', day)).toEqual({ num: 4n, den: 5n });
    expect(toMinor(fx.convert(rational(3n), 'USD', 'EUR', 11 * day), 'EUR')).toBe(250n); // 3/1.2 = 2.50
  });

  it('fails loudly when no rate is effective', () => {
    expect(() => fx.rateAt('EUR', 'JPY', 0)).toThrow(FxRateMissingError);
    expect(() => new FxTable([{ id: 'x', from: 'EUR', to: 'USD', rate: '0', effectiveFrom: 0 }])).toThrow(
      MoneyError,
    );
  });
});
