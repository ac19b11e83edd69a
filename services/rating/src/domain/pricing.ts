// Pricing one message outcome. Pure: rates, exchange rates and policies come in a RatingContext.
//
// Price = segments x per-segment rate, exact; converted (exact) to the account currency for the sell
// side; rounded once, half-to-even, to minor units. Rates and exchange rates are those effective at the
// message's submitTime (when the hub accepted it), whatever event triggers rating, so the price of a
// message does not depend on which event arrives first.
//
// Policy (who pays what, by outcome):
//
// | outcome                                   | sell, charge_on=submit | sell, charge_on=delivery | buy, supplier bills on submit | buy, supplier bills on delivery |
// |-------------------------------------------|------------------------|--------------------------|-------------------------------|---------------------------------|
// | REJECTED_HUB (firewall, routing, credit)  | no                     | no                       | no                            | no                              |
// | FAILED_DISPATCH (no supplier accepted it) | no                     | no                       | no                            | no                              |
// | SUBMITTED (supplier accepted)             | yes                    | not yet decided          | yes                           | not yet decided                 |
// | DELIVERED                                 | yes                    | yes                      | yes                           | yes                             |
// | UNDELIVERABLE, REJECTED_SUPPLIER          | yes                    | no                       | yes                           | no                              |
// | EXPIRED, DELETED, UNKNOWN                 | yes                    | no                       | yes                           | no                              |
//
// charge_on=delivery charges only a proven delivery: EXPIRED and UNKNOWN (no proof) are not charged.

import { FxRateMissingError, type FxTable } from './fx.js';
import { mul, priceValue, rational, toMinor, type Rational } from './money.js';
import { type RateIndex } from './rates.js';
import type {
  AccountPolicy,
  ChargeOn,
  Outcome,
  RatedRecord,
  RatedSide,
  RatingEvent,
  SupplierPolicy,
} from './types.js';

export class RatingError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: 'NO_SELL_RATE' | 'NO_BUY_RATE' | 'BAD_SEGMENTS' | 'ACCOUNT_MISMATCH',
    message: string,
  ) {
    super(message);
    this.name = 'RatingError';
  }
}

export interface RatingContext {
  rates: RateIndex;
  fx: FxTable;
  account: AccountPolicy;
  /** Policy of the connector that carried the message (absent when never dispatched). */
  supplier?: SupplierPolicy;
  /** Inbound (MO): no supplier is paid, so the buy side is zero and not charged (margin = sell). */
  noBuy?: boolean;
}

export function isFinalOutcome(o: Outcome): boolean {
  return o !== 'SUBMITTED';
}

/** True when a supplier accepted the message (the outcome happened after submit_sm_resp OK). */
export function wasAccepted(o: Outcome): boolean {
  return o !== 'REJECTED_HUB' && o !== 'FAILED_DISPATCH';
}

/** Is one side charged for this outcome under this charge_on setting? (table above) */
export function sideCharged(outcome: Outcome, chargeOn: ChargeOn): boolean {
  if (!wasAccepted(outcome)) return false;
  return chargeOn === 'submit' ? true : outcome === 'DELIVERED';
}

/**
 * When the single rated record of a message is produced: at submit only if BOTH sides are decided at
 * submit (account charge_on=submit and supplier bills on submit); otherwise at the final outcome.
 */
export function billingPoint(
  account: AccountPolicy,
  supplier: SupplierPolicy | undefined,
): 'submit' | 'final' {
  return account.chargeOn === 'submit' && (supplier === undefined || supplier.buyChargeOn === 'submit')
    ? 'submit'
    : 'final';
}

/** Can this outcome be rated now? Final outcomes always; SUBMITTED only at a submit billing point. */
export function isBillable(outcome: Outcome, ctx: Pick<RatingContext, 'account' | 'supplier'>): boolean {
  return isFinalOutcome(outcome) || billingPoint(ctx.account, ctx.supplier) === 'submit';
}

interface Priced {
  side: RatedSide;
  /** Exact amount in the side's currency (major units). */
  exact: Rational;
}

/**
 * What to do when a charged side has no usable rate (no rate matches, or a sell rate in another currency
 * has no exchange rate): 'throw' a RatingError, or 'record' a zero amount with `missingRate: true` on the
 * side (the service publishes such a record with status MISSING_RATE; see docs/finance.md).
 */
export interface PricingOptions {
  missingRates?: 'throw' | 'record';
}

function missingSide(
  code: 'NO_SELL_RATE' | 'NO_BUY_RATE',
  message: string,
  currency: string,
  opts: PricingOptions,
): Priced {
  if (opts.missingRates !== 'record') throw new RatingError(code, message);
  return { side: { amountMinor: 0n, currency, charged: true, missingRate: true }, exact: rational(0n) };
}

function priceSell(event: RatingEvent, ctx: RatingContext, charged: boolean, opts: PricingOptions): Priced {
  const { account } = ctx;
  if (!charged) {
    const side: RatedSide = { amountMinor: 0n, currency: account.currency, charged: false };
    return { side, exact: rational(0n) };
  }
  const sel = ctx.rates.selectSell(account.accountId, account.planId, event.destination, event.submitTime);
  if (sel === undefined) {
    return missingSide(
      'NO_SELL_RATE',
      `no sell rate for account ${account.accountId} to ${event.destination.msisdn}`,
      account.currency,
      opts,
    );
  }
  const inRate = mul(priceValue(sel.rate.price), rational(BigInt(event.segments)));
  let exact: Rational;
  try {
    exact = ctx.fx.convert(inRate, sel.rate.price.currency, account.currency, event.submitTime);
  } catch (err) {
    if (!(err instanceof FxRateMissingError) || opts.missingRates !== 'record') throw err;
    const side: RatedSide = {
      amountMinor: 0n,
      currency: account.currency,
      rateId: sel.rate.rateId,
      charged: true,
      missingRate: true,
    };
    return { side, exact: rational(0n) };
  }
  return {
    side: {
      amountMinor: toMinor(exact, account.currency),
      currency: account.currency,
      rateId: sel.rate.rateId,
      charged: true,
    },
    exact,
  };
}

function priceBuy(event: RatingEvent, ctx: RatingContext, charged: boolean, opts: PricingOptions): Priced {
  const sel =
    event.connectorId === undefined
      ? undefined
      : ctx.rates.selectBuy(event.connectorId, event.destination, event.submitTime);
  if (!charged) {
    const side: RatedSide = {
      amountMinor: 0n,
      currency: sel?.rate.price.currency ?? ctx.account.currency,
      charged: false,
    };
    return { side, exact: rational(0n) };
  }
  if (sel === undefined) {
    return missingSide(
      'NO_BUY_RATE',
      `no buy rate for connector ${event.connectorId ?? '?'} to ${event.destination.msisdn}`,
      ctx.account.currency,
      opts,
    );
  }
  const exact = mul(priceValue(sel.rate.price), rational(BigInt(event.segments)));
  const currency = sel.rate.price.currency;
  return {
    side: { amountMinor: toMinor(exact, currency), currency, rateId: sel.rate.rateId, charged: true },
    exact,
  };
}

/**
 * Price an outcome (ignoring whether it is billable yet; see idempotency.ts for that decision).
 * margin = sell.amountMinor - round_half_even(buy exact amount converted to the account currency).
 * With `missingRates: 'record'`, margin, buyInSellMinor and fxRate are absent when a side has no rate or
 * the buy currency has no exchange rate to the account currency (with 'throw' that is an error).
 */
export function priceOutcome(event: RatingEvent, ctx: RatingContext, opts: PricingOptions = {}): RatedRecord {
  if (!Number.isSafeInteger(event.segments) || event.segments < 1) {
    throw new RatingError('BAD_SEGMENTS', `segments must be a positive integer, got ${event.segments}`);
  }
  if (event.accountId !== ctx.account.accountId) {
    throw new RatingError(
      'ACCOUNT_MISMATCH',
      `event for ${event.accountId} rated with policy of ${ctx.account.accountId}`,
    );
  }
  const sell = priceSell(event, ctx, sideCharged(event.outcome, ctx.account.chargeOn), opts);
  const buyChargeOn = ctx.supplier?.buyChargeOn ?? 'submit';
  const buy: Priced = ctx.noBuy
    ? { side: { amountMinor: 0n, currency: ctx.account.currency, charged: false }, exact: rational(0n) }
    : priceBuy(event, ctx, sideCharged(event.outcome, buyChargeOn), opts);
  const record: RatedRecord = {
    hubMessageId: event.hubMessageId,
    accountId: event.accountId,
    segments: event.segments,
    status: event.outcome,
    billedOn: event.outcome === 'SUBMITTED' ? 'submit' : 'final',
    sell: sell.side,
    buy: buy.side,
    submitTime: event.submitTime,
    billedAt: event.eventTime,
  };
  if (sell.side.missingRate !== true && buy.side.missingRate !== true) {
    const currency = ctx.account.currency;
    let fx: Rational | undefined;
    try {
      fx = ctx.fx.rateAt(buy.side.currency, currency, event.submitTime);
    } catch (err) {
      if (!(err instanceof FxRateMissingError) || opts.missingRates !== 'record') throw err;
    }
    if (fx !== undefined) {
      const buyInSellMinor = toMinor(mul(buy.exact, fx), currency);
      record.buyInSellMinor = buyInSellMinor;
      record.margin = { amountMinor: sell.side.amountMinor - buyInSellMinor, currency };
      if (buy.side.currency !== currency) record.fxRate = fx;
    }
  }
  if (event.connectorId !== undefined) record.connectorId = event.connectorId;
  if (event.destination.country !== undefined) record.country = event.destination.country.toUpperCase();
  if (event.destination.mccMnc !== undefined) record.mccMnc = event.destination.mccMnc;
  return record;
}
