import { describe, expect, it } from 'vitest';
import { SellRateIndex, type PricedQuery, type QuoteQuery, type SellRateRow } from './sell-rates.js';

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

describe('SellRateIndex.quote: the price at accept time', () => {
  const priced = (
    r: Partial<SellRateRow> & Pick<SellRateRow, 'owner_kind' | 'owner_id' | 'id'>,
    amount: number,
  ) => rate({ price_amount: String(amount), price_scale: 6, currency: 'EUR', ...r });
  const qq = (digits: string, o: Partial<QuoteQuery> = {}): QuoteQuery => ({
    accountId: 'acc',
    pricePlanId: 'plan',
    digits,
    country: undefined,
    ...o,
  });

  it("takes the account's longest prefix, then its country, then the plan's; none: undefined", () => {
    const idx = new SellRateIndex([
      priced({ owner_kind: 'account', owner_id: 'acc', id: 'a44', prefix: '44' }, 90_000),
      priced({ owner_kind: 'account', owner_id: 'acc', id: 'a4474', prefix: '4474' }, 35_000),
      priced({ owner_kind: 'account', owner_id: 'acc', id: 'aDE', country: 'DE' }, 70_000),
      priced({ owner_kind: 'plan', owner_id: 'plan', id: 'p4474', prefix: '4474' }, 10_000),
      priced({ owner_kind: 'plan', owner_id: 'plan', id: 'pFR', country: 'FR' }, 50_000),
      priced({ owner_kind: 'account', owner_id: 'acc', id: 'aNet', mcc_mnc: '23410' }, 1),
    ]);
    expect(idx.quote(qq('447400123456'), now)).toMatchObject({ rateId: 'a4474', amount: 35_000n, scale: 6 });
    expect(idx.quote(qq('447700900123'), now)?.rateId).toBe('a44');
    expect(idx.quote(qq('4915112345678', { country: 'DE' }), now)?.rateId).toBe('aDE');
    expect(idx.quote(qq('33612345678', { country: 'FR' }), now)?.rateId).toBe('pFR');
    expect(idx.quote(qq('33612345678', { country: 'FR', pricePlanId: undefined }), now)).toBeUndefined();
    expect(idx.quote(qq('12025550123', { country: 'US' }), now)).toBeUndefined();
    // A network rate is not quoted (the network is known after routing), and does not hide the others.
    expect(idx.priced(q('12025550123'), now)).toBe(true);
  });

  it('ties and validity as rating: the latest effective_from valid now, then the smallest id', () => {
    const idx = new SellRateIndex([
      priced({ owner_kind: 'account', owner_id: 'acc', id: 'old', prefix: '44', effective_from: jan }, 1),
      priced(
        {
          owner_kind: 'account',
          owner_id: 'acc',
          id: 'z',
          prefix: '44',
          effective_from: new Date('2026-02-01T00:00:00Z'),
        },
        2,
      ),
      priced(
        {
          owner_kind: 'account',
          owner_id: 'acc',
          id: 'y',
          prefix: '44',
          effective_from: new Date('2026-02-01T00:00:00Z'),
        },
        3,
      ),
      priced({ owner_kind: 'account', owner_id: 'acc', id: 'future', prefix: '44', effective_from: jun }, 4),
      priced(
        {
          owner_kind: 'account',
          owner_id: 'acc',
          id: 'ended',
          prefix: '447',
          effective_to: new Date('2026-02-01T00:00:00Z'),
        },
        5,
      ),
    ]);
    expect(idx.quote(qq('447400123456'), now)?.rateId).toBe('y');
  });
});
