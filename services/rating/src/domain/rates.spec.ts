import { describe, expect, it } from 'vitest';
import { MoneyError, parsePrice } from './money.js';
import { RateIndex } from './rates.js';
import type { RateMatch, RateOwner, RateRecord } from './types.js';

const DAY = 86_400_000;
const plan: RateOwner = { kind: 'plan', id: 'standard' };

function rate(
  rateId: string,
  match: RateMatch,
  price: string,
  from = 0,
  to?: number,
  owner: RateOwner = plan,
): RateRecord {
  const r: RateRecord = { rateId, owner, match, price: parsePrice(price, 'EUR'), effectiveFrom: from };
  if (to !== undefined) r.effectiveTo = to;
  return r;
}

const DE_MOBILE = { msisdn: '4917612345678', country: 'DE' };

describe('RateIndex', () => {
  it('picks the longest matching prefix', () => {
    const idx = new RateIndex([
      rate('de', { kind: 'prefix', prefix: '49' }, '0.05'),
      rate('de-mobile', { kind: 'prefix', prefix: '4917' }, '0.04'),
      rate('de-o2', { kind: 'prefix', prefix: '49176' }, '0.03'),
      rate('de-other', { kind: 'prefix', prefix: '491762' }, '0.02'),
    ]);
    expect(idx.selectFor(plan, DE_MOBILE, DAY)?.rate.rateId).toBe('de-o2');
    expect(idx.selectFor(plan, { msisdn: '4915112345678' }, DAY)?.rate.rateId).toBe('de');
    expect(idx.selectFor(plan, { msisdn: '33612345678' }, DAY)).toBeUndefined();
  });

  it('prefers MCC-MNC over prefix over country', () => {
    const idx = new RateIndex([
      rate('country', { kind: 'country', country: 'DE' }, '0.06'),
      rate('prefix', { kind: 'prefix', prefix: '49176' }, '0.03'),
      rate('network', { kind: 'mccmnc', mccMnc: '26203' }, '0.025'),
    ]);
    expect(idx.selectFor(plan, { ...DE_MOBILE, mccMnc: '26203' }, 0)).toMatchObject({
      level: 'mccmnc',
      rate: { rateId: 'network' },
    });
    expect(idx.selectFor(plan, { ...DE_MOBILE, mccMnc: '26201' }, 0)).toMatchObject({
      level: 'prefix',
      rate: { rateId: 'prefix' },
    });
    expect(idx.selectFor(plan, { msisdn: '4930123456', country: 'de' }, 0)).toMatchObject({
      level: 'country',
      rate: { rateId: 'country' },
    });
  });

  it('picks the rate effective at the event time and falls back to a shorter prefix outside it', () => {
    const idx = new RateIndex([
      rate('old', { kind: 'prefix', prefix: '49176' }, '0.03', 0, 10 * DAY),
      rate('new', { kind: 'prefix', prefix: '49176' }, '0.035', 10 * DAY, 20 * DAY),
      rate('base', { kind: 'prefix', prefix: '49' }, '0.05'),
    ]);
    expect(idx.selectFor(plan, DE_MOBILE, 10 * DAY - 1)?.rate.rateId).toBe('old');
    expect(idx.selectFor(plan, DE_MOBILE, 10 * DAY)?.rate.rateId).toBe('new');
    expect(idx.selectFor(plan, DE_MOBILE, 20 * DAY)?.rate.rateId).toBe('base');
  });

  it('breaks ties deterministically: latest effectiveFrom, then smallest rateId', () => {
    const a = rate('b-rate', { kind: 'prefix', prefix: '49' }, '0.05', 0);
    const b = rate('a-rate', { kind: 'prefix', prefix: '49' }, '0.04', 0);
    const c = rate('z-newer', { kind: 'prefix', prefix: '49' }, '0.03', DAY);
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, c, a],
    ]) {
      const idx = new RateIndex(order);
      expect(idx.selectFor(plan, DE_MOBILE, 0)?.rate.rateId).toBe('a-rate');
      expect(idx.selectFor(plan, DE_MOBILE, DAY)?.rate.rateId).toBe('z-newer');
    }
  });

  it('uses account overrides before the price plan, and connector rates for buying', () => {
    const account: RateOwner = { kind: 'account', id: 'acme' };
    const connector: RateOwner = { kind: 'connector', id: 'sup1' };
    const idx = new RateIndex([
      rate('plan-de', { kind: 'prefix', prefix: '4917' }, '0.05'),
      rate('acme-de', { kind: 'country', country: 'DE' }, '0.045', 0, undefined, account),
      rate('buy-de', { kind: 'prefix', prefix: '49' }, '0.02', 0, undefined, connector),
    ]);
    expect(idx.selectSell('acme', 'standard', DE_MOBILE, 0)?.rate.rateId).toBe('acme-de');
    expect(idx.selectSell('other', 'standard', DE_MOBILE, 0)?.rate.rateId).toBe('plan-de');
    expect(idx.selectSell('other', undefined, DE_MOBILE, 0)).toBeUndefined();
    expect(idx.selectBuy('sup1', DE_MOBILE, 0)?.rate.rateId).toBe('buy-de');
    expect(idx.selectBuy('sup2', DE_MOBILE, 0)).toBeUndefined();
  });

  it('rejects malformed rates', () => {
    const idx = new RateIndex();
    expect(() => idx.add(rate('x', { kind: 'prefix', prefix: '+49' }, '0.01'))).toThrow(MoneyError);
    expect(() => idx.add(rate('x', { kind: 'mccmnc', mccMnc: '262' }, '0.01'))).toThrow(MoneyError);
    expect(() => idx.add(rate('x', { kind: 'prefix', prefix: '49' }, '0.01', 5, 5))).toThrow(MoneyError);
    expect(idx.size).toBe(0);
  });
});
