import { describe, expect, it } from 'vitest';
import { formatMccMnc, formatRate, money } from './record.js';

describe('record format', () => {
  it('writes money in minor units with the ISO exponent as scale', () => {
    expect(money(123n, 'EUR')).toEqual({ currencyCode: 'EUR', minorUnits: 123n, scale: 2 });
    expect(money(5n, 'JPY').scale).toBe(0);
    expect(money(5n, 'KWD').scale).toBe(3);
  });

  it('writes exchange rates exactly when they terminate, else to 12 decimals', () => {
    expect(formatRate({ num: 11n, den: 10n })).toBe('1.1');
    expect(formatRate({ num: 10825n, den: 10000n })).toBe('1.0825');
    expect(formatRate({ num: 10000n, den: 10825n })).toBe('0.923787528868');
    expect(formatRate({ num: 3n, den: 1n })).toBe('3');
  });

  it('writes MCC-MNC as <mcc>-<mnc>', () => {
    expect(formatMccMnc('26203')).toBe('262-03');
    expect(formatMccMnc('310260')).toBe('310-260');
    expect(formatMccMnc(undefined)).toBe('');
  });
});
