// Idempotency: one rated record per message.
//
// Rule: the rated topic carries at most one record per hubMessageId, and a message's price never
// changes. The record is produced at the message's billing point (pricing.ts `billingPoint`):
// - account charge_on=submit and supplier bills on submit: the SUBMITTED outcome is billable, so the
//   record is produced at supplier acceptance; later outcomes (DELIVERED, UNDELIV...) produce nothing;
// - otherwise (charge_on=delivery, or a supplier that bills only delivered messages): the FINAL outcome
//   is billable; SUBMITTED produces nothing ('not-billable-yet').
// Outcomes that end a message without any supplier acceptance (REJECTED_HUB, FAILED_DISPATCH) are final
// at once and produce a zero-priced record, so every message has exactly one record (reconciliation).
// Because rates are taken at submitTime and a submit-billed message is charged for every
// post-acceptance outcome, a final event that overtakes its SUBMITTED event yields the same price.
//
// Given the existing record (CDR) for the hub id, if any:
// - same outcome again        -> skip 'duplicate' (Kafka redelivery);
// - a different, later outcome -> skip 'already-rated' (the CDR's delivery status may be updated by the
//   DLR feed, but that is not a new rated record and never a new price).

import { isBillable, priceOutcome, type PricingOptions, type RatingContext } from './pricing.js';
import type { RatedRecord, RatingEvent } from './types.js';

export type RatingDecision =
  | { action: 'emit'; record: RatedRecord }
  | { action: 'skip'; reason: 'duplicate' | 'already-rated' | 'not-billable-yet' };

export function decideRating(
  existing: RatedRecord | undefined,
  event: RatingEvent,
  ctx: RatingContext,
  opts: PricingOptions = {},
): RatingDecision {
  if (existing !== undefined) {
    if (existing.hubMessageId !== event.hubMessageId)
      throw new Error('decideRating: record of another message');
    return { action: 'skip', reason: existing.status === event.outcome ? 'duplicate' : 'already-rated' };
  }
  if (!isBillable(event.outcome, ctx)) return { action: 'skip', reason: 'not-billable-yet' };
  return { action: 'emit', record: priceOutcome(event, ctx, opts) };
}
