// Plain input/output types of the rating domain. Protobuf contracts are mapped onto these by a thin
// adapter in the service. Times are epoch milliseconds (UTC); money is bigint (see money.ts).

import type { Price, Rational } from './money.js';

export type RateOwner =
  { kind: 'account'; id: string } | { kind: 'plan'; id: string } | { kind: 'connector'; id: string };

export type RateMatch =
  | { kind: 'prefix'; prefix: string }
  | { kind: 'mccmnc'; mccMnc: string }
  | { kind: 'country'; country: string };

/** One price per segment for one owner and destination, valid in [effectiveFrom, effectiveTo). */
export interface RateRecord {
  rateId: string;
  owner: RateOwner;
  match: RateMatch;
  price: Price;
  effectiveFrom: number;
  effectiveTo?: number;
}

export interface Destination {
  /** E.164 digits without '+'. */
  msisdn: string;
  /** ISO 3166-1 alpha-2, when known. */
  country?: string;
  /** MCC-MNC (5 or 6 digits) from number portability / HLR, when known. */
  mccMnc?: string;
}

export type ChargeOn = 'submit' | 'delivery';

export interface AccountPolicy {
  accountId: string;
  /** Price plan; account-specific rates override it. */
  planId?: string;
  /** Currency the account is billed and holds its balance in. */
  currency: string;
  chargeOn: ChargeOn;
}

export interface SupplierPolicy {
  connectorId: string;
  /** 'submit': the supplier bills every message it accepted; 'delivery': only delivered ones. */
  buyChargeOn: ChargeOn;
}

/**
 * What happened to a message, as far as rating cares.
 * - SUBMITTED: a supplier accepted it (submit_sm_resp OK); not final.
 * - DELIVERED / UNDELIVERABLE / EXPIRED / DELETED / UNKNOWN / REJECTED_SUPPLIER: final after acceptance.
 * - REJECTED_HUB: refused by the hub (firewall, routing, credit) and never dispatched.
 * - FAILED_DISPATCH: egress gave up; no supplier ever accepted it.
 */
export type Outcome =
  | 'SUBMITTED'
  | 'DELIVERED'
  | 'UNDELIVERABLE'
  | 'EXPIRED'
  | 'DELETED'
  | 'UNKNOWN'
  | 'REJECTED_SUPPLIER'
  | 'REJECTED_HUB'
  | 'FAILED_DISPATCH';

export interface RatingEvent {
  hubMessageId: string;
  accountId: string;
  connectorId?: string;
  destination: Destination;
  segments: number;
  outcome: Outcome;
  /** When the hub accepted the message from the customer: rates and exchange rates are taken at this time. */
  submitTime: number;
  /** When this outcome happened. */
  eventTime: number;
}

export interface RatedSide {
  amountMinor: bigint;
  currency: string;
  rateId?: string;
  /** False when the pricing policy does not charge this side for this outcome (amount is then 0). */
  charged: boolean;
  /** The side is charged but no usable rate was found: the amount is 0 (pricing option missingRates 'record'). */
  missingRate?: boolean;
}

/** One rated record per message (hubMessageId is the idempotency key). */
export interface RatedRecord {
  hubMessageId: string;
  accountId: string;
  connectorId?: string;
  country?: string;
  mccMnc?: string;
  segments: number;
  /** The outcome the record was priced on. */
  status: Outcome;
  /** Whether the record was produced at supplier acceptance or at the final outcome. */
  billedOn: 'submit' | 'final';
  /** In the account currency. */
  sell: RatedSide;
  /** In the buy rate's currency (the supplier's invoice currency). */
  buy: RatedSide;
  /** The buy amount converted to the account currency, rounded once (absent when it cannot be computed). */
  buyInSellMinor?: bigint;
  /** Exchange rate used for buyInSellMinor (account currency units per buy currency unit); absent when equal. */
  fxRate?: Rational;
  /** sell - buyInSell, in the account currency; absent when a rate or the exchange rate is missing. */
  margin?: { amountMinor: bigint; currency: string };
  submitTime: number;
  /** Time of the event that produced the record (used for settlement periods). */
  billedAt: number;
}
