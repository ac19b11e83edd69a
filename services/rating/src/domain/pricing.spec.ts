import { describe, expect, it } from 'vitest';
import { FxTable } from './fx.js';
import { parsePrice } from './money.js';
import { RatingError, priceOutcome, type RatingContext } from './pricing.js';
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

describe('priceOutcome', () => {
  it('prices segments x rate, rounding half-even once at the record level', () => {
    const r = priceOutcome(event('DELIVERED'), ctx(eurSubmit));
    // sell 3 x 0.0125 = 0.0375 EUR -> 4 cents; buy 3 x 0.0081 = 0.0243 EUR -> 2 cents; margin 4 - 2
    expect(r).toEqual({
      hubMessageId: 'h1',
      accountId: 'acme',
      connectorId: 'sup',
      country: 'DE',
      mccMnc: '26203',
      segments: 3,
      status: 'DELIVERED',
      billedOn: 'final',
      sell: { amountMinor: 4n, currency: 'EUR', rateId: 'sell-de', charged: true },
      buy: { amountMinor: 2n, currency: 'EUR', rateId: 'buy-de', charged: true },
      buyInSellMinor: 2n,
      margin: { amountMinor: 2n, currency: 'EUR' },
      submitTime: DAY,
      billedAt: DAY + 5_000,
    });
    // 2 x 0.0125 = 0.025 EUR: a tie, rounds to the even 2 cents
    expect(priceOutcome(event('DELIVERED', { segments: 2 }), ctx(eurSubmit)).sell.amountMinor).toBe(2n);
    // 1000 segments stay exact: 12.50 EUR
    expect(priceOutcome(event('DELIVERED', { segments: 1000 }), ctx(eurSubmit)).sell.amountMinor).toBe(1250n);
  });

  it('takes rates effective at submit time, not at the (later) event time', () => {
    const r = priceOutcome(
      event('DELIVERED', { segments: 100, submitTime: 10 * DAY - 1, eventTime: 10 * DAY + 1 }),
      ctx(eurSubmit),
    );
    expect(r.sell).toMatchObject({ rateId: 'sell-de', amountMinor: 125n });
    const later = priceOutcome(event('DELIVERED', { segments: 100, submitTime: 10 * DAY }), ctx(eurSubmit));
    expect(later.sell).toMatchObject({ rateId: 'sell-de-2', amountMinor: 200n });
  });

  it('converts the sell side to the account currency and computes the margin there', () => {
    const usd: AccountPolicy = { ...eurSubmit, currency: 'USD' };
    const r = priceOutcome(
      event('DELIVERED', { segments: 1, destination: { msisdn: '33612345678', country: 'FR' } }),
      ctx(usd),
    );
    // sell 0.05 EUR x 1.10 = 0.055 USD -> 6 cents (half-even: 5.5 -> 6); buy 0.03 EUR -> 3 EUR cents
    expect(r.sell).toEqual({ amountMinor: 6n, currency: 'USD', rateId: 'sell-fr', charged: true });
    expect(r.buy).toEqual({ amountMinor: 3n, currency: 'EUR', rateId: 'buy-fr', charged: true });
    // margin = 6 - round(0.033 USD = 3.3 cents) = 3 cents USD
    expect(r.margin).toEqual({ amountMinor: 3n, currency: 'USD' });
  });

  it('applies the pricing policy table', () => {
    const outcomes: Outcome[] = [
      'SUBMITTED',
      'DELIVERED',
      'UNDELIVERABLE',
      'REJECTED_SUPPLIER',
      'EXPIRED',
      'DELETED',
      'UNKNOWN',
      'REJECTED_HUB',
      'FAILED_DISPATCH',
    ];
    const charged = (a: AccountPolicy, s: SupplierPolicy) =>
      Object.fromEntries(
        outcomes.map((o) => {
          const r = priceOutcome(event(o), ctx(a, s));
          return [o, `${r.sell.charged ? 'S' : '-'}${r.buy.charged ? 'B' : '-'}`];
        }),
      );
    expect(charged(eurSubmit, supSubmit)).toEqual({
      SUBMITTED: 'SB',
      DELIVERED: 'SB',
      UNDELIVERABLE: 'SB',
      REJECTED_SUPPLIER: 'SB',
      EXPIRED: 'SB',
      DELETED: 'SB',
      UNKNOWN: 'SB',
      REJECTED_HUB: '--',
      FAILED_DISPATCH: '--',
    });
    expect(charged(eurDelivery, supDelivery)).toEqual({
      SUBMITTED: '--',
      DELIVERED: 'SB',
      UNDELIVERABLE: '--',
      REJECTED_SUPPLIER: '--',
      EXPIRED: '--',
      DELETED: '--',
      UNKNOWN: '--',
      REJECTED_HUB: '--',
      FAILED_DISPATCH: '--',
    });
    expect(charged(eurDelivery, supSubmit).UNDELIVERABLE).toBe('-B'); // the hub pays the supplier, customer not charged
    expect(charged(eurSubmit, supDelivery).EXPIRED).toBe('S-');
    const rejected = priceOutcome(
      event('REJECTED_HUB', { connectorId: undefined }),
      ctx(eurSubmit, undefined),
    );
    expect(rejected.sell.amountMinor).toBe(0n);
    expect(rejected.buy.amountMinor).toBe(0n);
    expect(rejected.margin?.amountMinor).toBe(0n);
  });

  it('fails with a typed, non-retriable error when a charged side has no rate', () => {
    const nowhere = { msisdn: '8612345678', country: 'CN' };
    expect(() => priceOutcome(event('DELIVERED', { destination: nowhere }), ctx(eurSubmit))).toThrow(
      RatingError,
    );
    try {
      priceOutcome(event('DELIVERED', { destination: { msisdn: '4930', country: 'DE' } }), ctx(eurSubmit));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RatingError);
      expect((e as RatingError).code).toBe('NO_BUY_RATE');
      expect((e as RatingError).retriable).toBe(false);
    }
    // not charged -> no rate needed
    expect(priceOutcome(event('REJECTED_HUB', { destination: nowhere }), ctx(eurSubmit)).sell.charged).toBe(
      false,
    );
    expect(() => priceOutcome(event('DELIVERED', { segments: 0 }), ctx(eurSubmit))).toThrow(RatingError);
    expect(() => priceOutcome(event('DELIVERED', { accountId: 'other' }), ctx(eurSubmit))).toThrow(
      RatingError,
    );
  });

  it("with missingRates 'record', a side without a rate is zero and flagged, and no margin is made up", () => {
    const opts = { missingRates: 'record' } as const;
    const noBuy = priceOutcome(
      event('DELIVERED', { destination: { msisdn: '4930', country: 'DE' } }),
      ctx(eurSubmit),
      opts,
    );
    expect(noBuy.sell).toEqual({ amountMinor: 4n, currency: 'EUR', rateId: 'sell-de', charged: true });
    expect(noBuy.buy).toEqual({ amountMinor: 0n, currency: 'EUR', charged: true, missingRate: true });
    expect(noBuy.margin).toBeUndefined();
    expect(noBuy.buyInSellMinor).toBeUndefined();

    const noSell = priceOutcome(
      event('DELIVERED', { destination: { msisdn: '8612345678', country: 'CN' } }),
      ctx(eurSubmit),
      opts,
    );
    expect(noSell.sell.missingRate).toBe(true);
    expect(noSell.sell.amountMinor).toBe(0n);

    // a sell rate in a currency without an exchange rate to the account's is not usable either
    const chf: AccountPolicy = { ...eurSubmit, currency: 'CHF' };
    const noFx = priceOutcome(event('DELIVERED'), ctx(chf), opts);
    expect(noFx.sell).toMatchObject({
      amountMinor: 0n,
      currency: 'CHF',
      missingRate: true,
      rateId: 'sell-de',
    });
    expect(() => priceOutcome(event('DELIVERED'), ctx(chf))).toThrow(/exchange rate/);
  });

  it('reports the exchange rate and the buy amount in the account currency', () => {
    const usd: AccountPolicy = { ...eurSubmit, currency: 'USD' };
    const r = priceOutcome(event('DELIVERED'), ctx(usd));
    // buy 3 x 0.0081 EUR = 0.0243 EUR x 1.10 = 0.02673 USD -> 3 cents
    expect(r.buyInSellMinor).toBe(3n);
    expect(r.fxRate).toEqual({ num: 11n, den: 10n });
    expect(r.margin).toEqual({ amountMinor: r.sell.amountMinor - 3n, currency: 'USD' });
  });
});
