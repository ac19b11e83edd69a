import { describe, expect, it } from 'vitest';
import { SellRateIndex, type PricedQuery, type SellRateRow } from './sell-rates.js';

const jan = new Date('2026-01-01T00:00:00Z');
const jun = new Date('2026-06-01T00:00:00Z');
const now = new Date('2026-03-01T00:00:00Z').getTime();

const rate = (r: Partial<SellRateRow> & Pick<SellRateRow, 'owner_kind' | 'owner_id'>): SellRateRow => ({
  prefix: null,
  mcc_mnc: null,
  country: null,
  effective_from: jan,
  effective_to: null,
  ...r,
});

const q = (address: string, o: Partial<PricedQuery> = {}): PricedQuery => ({
  accountId: 'acc',
  pricePlanId: undefined,
  defaultCountry: undefined,
  address,
  ton: 1,
  ...o,
});

describe('SellRateIndex: may a sell rate apply to this submit?', () => {
  it("matches the account's prefix rates on the destination digits, longest first, any shorter one too", () => {
    const idx = new SellRateIndex([rate({ owner_kind: 'account', owner_id: 'acc', prefix: '4474' })]);
    expect(idx.priced(q('447400123456'), now)).toBe(true);
    expect(idx.priced(q('+447400123456', { ton: 0 }), now)).toBe(true);
    expect(idx.priced(q('00447400123456', { ton: 0 }), now)).toBe(true);
    expect(idx.priced(q('447500123456'), now)).toBe(false);
    // Another account's rates never count.
    expect(idx.priced(q('447400123456', { accountId: 'other' }), now)).toBe(false);
  });

  it("falls back to the account's price plan", () => {
    const idx = new SellRateIndex([rate({ owner_kind: 'plan', owner_id: 'std', prefix: '49' })]);
    expect(idx.priced(q('4915112345678'), now)).toBe(false);
    expect(idx.priced(q('4915112345678', { pricePlanId: 'std' }), now)).toBe(true);
    expect(idx.priced(q('4915112345678', { pricePlanId: 'other' }), now)).toBe(false);
  });

  it('reads country rates by calling code, and the default country for numbers that may be national', () => {
    const idx = new SellRateIndex([rate({ owner_kind: 'account', owner_id: 'acc', country: 'NG' })]);
    expect(idx.priced(q('2348031234567'), now)).toBe(true);
    expect(idx.priced(q('447400123456'), now)).toBe(false);
    expect(idx.priced(q('08031234567', { ton: 2, defaultCountry: 'NG' }), now)).toBe(true);
    expect(idx.priced(q('08031234567', { ton: 2, defaultCountry: 'GB' }), now)).toBe(false);
    // TON 1 is never read as national.
    expect(idx.priced(q('08031234567', { ton: 1, defaultCountry: 'NG' }), now)).toBe(false);
  });

  it('counts a network (MCC-MNC) rate for every destination: the network is known only after routing', () => {
    const idx = new SellRateIndex([rate({ owner_kind: 'account', owner_id: 'acc', mcc_mnc: '23430' })]);
    expect(idx.priced(q('12025550100'), now)).toBe(true);
  });

  it('counts a rate only inside its validity period', () => {
    const idx = new SellRateIndex([
      rate({ owner_kind: 'account', owner_id: 'acc', prefix: '33', effective_from: jun }),
      rate({ owner_kind: 'account', owner_id: 'acc', prefix: '34', effective_to: new Date(now) }),
      rate({ owner_kind: 'account', owner_id: 'acc', prefix: '35', effective_to: jun }),
    ]);
    expect(idx.priced(q('33612345678'), now)).toBe(false);
    expect(idx.priced(q('33612345678'), jun.getTime())).toBe(true);
    expect(idx.priced(q('34612345678'), now)).toBe(false);
    expect(idx.priced(q('35612345678'), now)).toBe(true);
  });

  it('ignores buy (connector) rates', () => {
    const idx = new SellRateIndex([rate({ owner_kind: 'connector', owner_id: 'acc', prefix: '44' })]);
    expect(idx.priced(q('447400123456'), now)).toBe(false);
    expect(idx.size).toBe(0);
  });
});
