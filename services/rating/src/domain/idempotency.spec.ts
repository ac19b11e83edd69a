import { describe, expect, it } from 'vitest';
import { FxTable } from './fx.js';
import { decideRating } from './idempotency.js';
import { parsePrice } from './money.js';
import { billingPoint, type RatingContext } from './pricing.js';
import { RateIndex } from './rates.js';
import type { AccountPolicy, Outcome, RateRecord, RatingEvent, SupplierPolicy } from './types.js';

const DAY = 86_400_000;

const rates: RateRecord[] = [
  {
    rateId: 'sell-de',
    owner: { kind: 'plan', id: 'std' },
    match: { kind: 'prefix', prefix: '49' },
    price: parsePrice('0.0125', 'EUR'),
    effectiveFrom: 0,
    effectiveTo: 10 * DAY,
  },
  {
    rateId: 'sell-de-2',
    owner: { kind: 'plan', id: 'std' },
    match: { kind: 'prefix', prefix: '49' },
    price: parsePrice('0.02', 'EUR'),
    effectiveFrom: 10 * DAY,
  },
  {
    rateId: 'sell-fr',
    owner: { kind: 'plan', id: 'std' },
    match: { kind: 'country', country: 'FR' },
    price: parsePrice('0.05', 'EUR'),
    effectiveFrom: 0,
  },
  {
    rateId: 'buy-de',
    owner: { kind: 'connector', id: 'sup' },
    match: { kind: 'mccmnc', mccMnc: '26203' },
    price: parsePrice('0.0081', 'EUR'),
    effectiveFrom: 0,
  },
  {
    rateId: 'buy-fr',
    owner: { kind: 'connector', id: 'sup' },
    match: { kind: 'prefix', prefix: '33' },
    price: parsePrice('0.03', 'EUR'),
    effectiveFrom: 0,
  },
];
const index = new RateIndex(rates);
const fx = new FxTable([{ id: 'eurusd', from: 'EUR', to: 'USD', rate: '1.10', effectiveFrom: 0 }]);

const eurSubmit: AccountPolicy = { accountId: 'acme', planId: 'std', currency: 'EUR', chargeOn: 'submit' };
const eurDelivery: AccountPolicy = { ...eurSubmit, chargeOn: 'delivery' };
const supSubmit: SupplierPolicy = { connectorId: 'sup', buyChargeOn: 'submit' };
const supDelivery: SupplierPolicy = { connectorId: 'sup', buyChargeOn: 'delivery' };

function ctx(account: AccountPolicy, supplier: SupplierPolicy | undefined = supSubmit): RatingContext {
  const c: RatingContext = { rates: index, fx, account };
  if (supplier) c.supplier = supplier;
  return c;
}

function event(outcome: Outcome, e: Partial<RatingEvent> = {}): RatingEvent {
  return {
    hubMessageId: 'h1',
    accountId: 'acme',
    connectorId: 'sup',
    destination: { msisdn: '4917612345678', country: 'DE', mccMnc: '26203' },
    segments: 3,
    outcome,
    submitTime: DAY,
    eventTime: DAY + 5_000,
    ...e,
  };
}

describe('decideRating (idempotency)', () => {
  it('bills submit-charged messages once, at supplier acceptance', () => {
    expect(billingPoint(eurSubmit, supSubmit)).toBe('submit');
    const first = decideRating(undefined, event('SUBMITTED'), ctx(eurSubmit));
    expect(first.action).toBe('emit');
    if (first.action !== 'emit') return;
    expect(first.record.billedOn).toBe('submit');
    expect(decideRating(first.record, event('SUBMITTED'), ctx(eurSubmit))).toEqual({
      action: 'skip',
      reason: 'duplicate',
    });
    expect(decideRating(first.record, event('UNDELIVERABLE'), ctx(eurSubmit))).toEqual({
      action: 'skip',
      reason: 'already-rated',
    });
  });

  it('gives the same price when the final outcome overtakes the submit event', () => {
    const viaSubmit = decideRating(undefined, event('SUBMITTED'), ctx(eurSubmit));
    const viaFinal = decideRating(undefined, event('EXPIRED'), ctx(eurSubmit));
    if (viaSubmit.action !== 'emit' || viaFinal.action !== 'emit') throw new Error('expected records');
    expect([viaFinal.record.sell, viaFinal.record.buy]).toEqual([
      viaSubmit.record.sell,
      viaSubmit.record.buy,
    ]);
  });

  it('bills delivery-charged messages at the final outcome only', () => {
    expect(billingPoint(eurDelivery, supSubmit)).toBe('final');
    expect(decideRating(undefined, event('SUBMITTED'), ctx(eurDelivery))).toEqual({
      action: 'skip',
      reason: 'not-billable-yet',
    });
    const fin = decideRating(undefined, event('DELIVERED'), ctx(eurDelivery));
    expect(fin.action === 'emit' && fin.record.sell.amountMinor).toBe(4n);
    if (fin.action !== 'emit') return;
    expect(decideRating(fin.record, event('DELIVERED'), ctx(eurDelivery))).toEqual({
      action: 'skip',
      reason: 'duplicate',
    });
  });

  it('defers submit-charged accounts to the final outcome when the supplier bills on delivery', () => {
    expect(billingPoint(eurSubmit, supDelivery)).toBe('final');
    expect(decideRating(undefined, event('SUBMITTED'), ctx(eurSubmit, supDelivery))).toEqual({
      action: 'skip',
      reason: 'not-billable-yet',
    });
    const fin = decideRating(undefined, event('UNDELIVERABLE'), ctx(eurSubmit, supDelivery));
    expect(fin.action === 'emit' && [fin.record.sell.charged, fin.record.buy.charged]).toEqual([true, false]);
  });

  it('rates hub rejections at once with a zero price', () => {
    const d = decideRating(
      undefined,
      event('REJECTED_HUB', { connectorId: undefined }),
      ctx(eurDelivery, undefined),
    );
    expect(d.action === 'emit' && d.record.sell).toEqual({
      amountMinor: 0n,
      currency: 'EUR',
      charged: false,
    });
  });
});
