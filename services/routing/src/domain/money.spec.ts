import { describe, expect, it } from 'vitest';
import { FxTable, mulDivRound, parseDecimal } from './money.js';

describe('money', () => {
  it('parses decimal rates exactly', () => {
    expect(parseDecimal('1.0842')).toEqual({ num: 10842n, den: 10000n });
    expect(() => parseDecimal('-1')).toThrow(RangeError);
    expect(() => parseDecimal('0')).toThrow(RangeError);
  });

  it('rounds half away from zero', () => {
    expect(mulDivRound(5n, 1n, 2n)).toBe(3n);
    expect(mulDivRound(-5n, 1n, 2n)).toBe(-3n);
    expect(mulDivRound(4n, 1n, 3n)).toBe(1n);
  });

  it('converts both ways with one rate and refuses unknown pairs', () => {
    const fx = new FxTable([{ from: 'EUR', to: 'USD', rate: '1.08' }]);
    expect(fx.convert({ amountMinor: 3450n, currency: 'EUR' }, 'USD')).toEqual({
      amountMinor: 3726n,
      currency: 'USD',
    });
    expect(fx.convert({ amountMinor: 1080n, currency: 'USD' }, 'eur')).toEqual({
      amountMinor: 1000n,
      currency: 'EUR',
    });
    expect(fx.convert({ amountMinor: 7n, currency: 'EUR' }, 'EUR')).toEqual({
      amountMinor: 7n,
      currency: 'EUR',
    });
    expect(fx.convert({ amountMinor: 7n, currency: 'GBP' }, 'USD')).toBeNull();
  });
});
