import { describe, expect, it } from 'vitest';
import { buyRateLookup, dashMccMnc, toMicro, type BuyRateRow } from './buy-rates.js';

const day = 86_400_000;
const t0 = new Date('2026-11-01T00:00:00Z');
const at = new Date('2026-11-22T12:00:00Z');

function row(p: Partial<BuyRateRow> & { id: string }): BuyRateRow {
  return {
    connectorId: 'con_a',
    prefix: null,
    mccMnc: null,
    country: null,
    priceAmount: 5000n,
    priceScale: 6,
    currency: 'EUR',
    effectiveFrom: t0,
    effectiveTo: null,
    ...p,
  };
}

const gb = (e164: string) => (e164.startsWith('+44') ? 'GB' : undefined);

describe('buyRateLookup', () => {
  it('prefers the MCC-MNC rate, then the longest prefix, then the country (rating precedence)', () => {
    const l = buyRateLookup(
      [
        row({ id: 'c', country: 'GB', priceAmount: 5000n }),
        row({ id: 'p1', prefix: '44', priceAmount: 4500n }),
        row({ id: 'p2', prefix: '4477', priceAmount: 4200n }),
        row({ id: 'm', mccMnc: '23430', priceAmount: 4000n }),
      ],
      gb,
    );
    expect(l('con_a', '+447712345678', '234-30', at)?.amountMinor).toBe(4000n);
    expect(l('con_a', '+447712345678', '234-10', at)?.amountMinor).toBe(4200n);
    expect(l('con_a', '+447512345678', undefined, at)?.amountMinor).toBe(4500n);
    expect(l('con_b', '+447512345678', undefined, at)).toBeNull();
  });

  it('prices a number missing from the prefix table by the destination country routing resolved', () => {
    const l = buyRateLookup([row({ id: 'ng', country: 'NG', priceAmount: 50_000n })], () => undefined);
    expect(l('con_a', '+2348012345678', undefined, at)).toBeNull();
    expect(l('con_a', '+2348012345678', undefined, at, 'NG')?.amountMinor).toBe(50_000n);
    // The resolved country wins over the prefix table's (rating prices by the resolved one).
    expect(
      buyRateLookup([row({ id: 'ng', country: 'NG' })], gb)('con_a', '+447400123456', undefined, at, 'JE'),
    ).toBeNull();
  });

  it('uses only rates effective at the message time; the latest effective_from wins', () => {
    const l = buyRateLookup(
      [
        row({ id: 'old', country: 'GB', priceAmount: 5000n }),
        row({ id: 'new', country: 'GB', priceAmount: 5500n, effectiveFrom: new Date(at.getTime() - day) }),
        row({ id: 'future', country: 'GB', priceAmount: 1n, effectiveFrom: new Date(at.getTime() + day) }),
        row({ id: 'p', prefix: '4477', priceAmount: 1n, effectiveTo: new Date(at.getTime() - 1) }),
      ],
      gb,
    );
    expect(l('con_a', '+447712345678', undefined, at)?.amountMinor).toBe(5500n);
    expect(l('con_a', '+447712345678', undefined, t0)?.amountMinor).toBe(1n);
  });

  it('converts prices of any scale to micro-units', () => {
    expect(toMicro(45n, 4)).toBe(4500n);
    expect(toMicro(4_500_000n, 9)).toBe(4500n);
    expect(toMicro(4_500_500n, 9)).toBe(4501n);
    expect(dashMccMnc('23415')).toBe('234-15');
    expect(dashMccMnc('310260')).toBe('310-260');
    const l = buyRateLookup(
      [row({ id: 'x', country: 'GB', priceAmount: 45n, priceScale: 4, currency: 'USD' })],
      gb,
    );
    expect(l('con_a', '+447712345678', undefined, at)).toEqual({ amountMinor: 4500n, currency: 'USD' });
  });
});
