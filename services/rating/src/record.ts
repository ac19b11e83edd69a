// The published form of a rated record: smshub.billing.v1.BillingRated (docs/finance.md). Pure.

import { RatedStatus, type BillingRated, type Money } from '@smshub/contracts';
import { minorExponent, pow10, roundHalfEven, type Rational } from './domain/money.js';
import type { RatedRecord } from './domain/types.js';
import type { RatingInput } from './events.js';

/** Every record is revision 1: the topic never carries two different prices for a message (docs/finance.md). */
export const RECORD_REVISION = 1;

/** Record amounts are minor units: Money.scale is the currency's ISO 4217 exponent (2 for EUR, 0 for JPY). */
export function money(amountMinor: bigint, currency: string): Money {
  return { currencyCode: currency, minorUnits: amountMinor, scale: minorExponent(currency) };
}

/**
 * MISSING_RATE when a charged side had no usable rate; CHARGED when the account pays; NOT_CHARGED otherwise
 * (the buy side may still be charged, e.g. a charge-on-delivery account whose message was not delivered).
 */
export function ratedStatus(r: RatedRecord): RatedStatus {
  if (r.sell.missingRate === true || r.buy.missingRate === true) return RatedStatus.RATED_STATUS_MISSING_RATE;
  return r.sell.charged ? RatedStatus.RATED_STATUS_CHARGED : RatedStatus.RATED_STATUS_NOT_CHARGED;
}

const FX_DECIMALS = 12;

/**
 * An exchange rate as a decimal string: exact when it terminates (e.g. "1.0825"), else rounded half-even to
 * 12 decimals (the inverse of a stored rate). Amounts are always computed with the exact rate.
 */
export function formatRate(r: Rational): string {
  let den = r.den;
  let twos = 0;
  let fives = 0;
  while (den % 2n === 0n) {
    den /= 2n;
    twos++;
  }
  while (den % 5n === 0n) {
    den /= 5n;
    fives++;
  }
  const exact = den === 1n;
  const digits = exact ? Math.max(twos, fives) : FX_DECIMALS;
  const scaled = roundHalfEven(r.num * pow10(digits), r.den);
  const neg = scaled < 0n;
  const text = (neg ? -scaled : scaled).toString().padStart(digits + 1, '0');
  const body = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  const trimmed = exact || digits === 0 ? body : body.replace(/0+$/, '').replace(/\.$/, '');
  return neg ? `-${trimmed}` : trimmed;
}

/** "26203" -> "262-03", "310260" -> "310-260" (MCC is always 3 digits). */
export function formatMccMnc(digits: string | undefined): string {
  return digits === undefined ? '' : `${digits.slice(0, 3)}-${digits.slice(3)}`;
}

export interface RecordMeta {
  supplierId: string;
  ratedAt: Date;
}

export function toBillingRated(r: RatedRecord, input: RatingInput, meta: RecordMeta): BillingRated {
  const out: BillingRated = {
    messageId: r.hubMessageId,
    revision: RECORD_REVISION,
    accountId: r.accountId,
    connectorId: r.connectorId ?? '',
    supplierId: meta.supplierId,
    destinationCountry: r.country ?? '',
    destinationMccMnc: formatMccMnc(r.mccMnc),
    segments: r.segments,
    sell: money(r.sell.amountMinor, r.sell.currency),
    buy: money(r.buy.amountMinor, r.buy.currency),
    fxRate: r.fxRate === undefined ? '' : formatRate(r.fxRate),
    status: ratedStatus(r),
    deliveryStatus: input.deliveryStatus,
    trafficType: input.trafficType,
    sellRateId: r.sell.rateId ?? '',
    buyRateId: r.buy.rateId ?? '',
    submittedAt: new Date(r.submitTime),
    ratedAt: meta.ratedAt,
    internal: input.internal === true,
    reroutedMessageId: input.reroutedMessageId ?? '',
  };
  if (r.buyInSellMinor !== undefined) out.buyInSellCurrency = money(r.buyInSellMinor, r.sell.currency);
  if (r.margin !== undefined) out.margin = money(r.margin.amountMinor, r.margin.currency);
  if (r.billedOn === 'final' && input.doneAt !== undefined) out.doneAt = input.doneAt;
  return out;
}
