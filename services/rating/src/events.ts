// Maps the events rating consumes onto the domain's RatingEvent. Pure.
//
// Which event can bill what (see README "Which events"):
// - sms.dispatched.v1 with outcome ACCEPTED of a single-part message: the SUBMITTED outcome (a supplier
//   accepted it). Only messages whose billing point is 'submit' are rated on it; for the others the
//   domain says 'not-billable-yet'. Multi-part dispatches (part_total > 1) are left to the final
//   delivery, which carries the segments of all parts.
// - sms.delivery.v1 with final = true: the final outcome. dlr also turns routing rejections into such a
//   final delivery, so REJECTED_HUB messages arrive here too.
// Both carry the MessageContext (account, destination, network, submit time), so rating needs neither
// sms.submitted.v1 nor sms.routed.v1.

import {
  DeliveryStatus,
  DispatchOutcome,
  deliveryStatusToJSON,
  type MessageContext,
  type SmsDelivery,
  type SmsDispatched,
  type SmsInbound,
  SubmitChannel,
  TrafficType,
} from '@smshub/contracts';
// Full metadata: a shared calling code (+44: GB, GG, IM, JE; +1) is told apart by the number ranges.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Outcome, RatingEvent } from './domain/types.js';

/** An event that cannot be rated however often it is retried (goes to the dead-letter topic). */
export class InvalidEventError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/** What rating needs from one consumed event; eventTime is set when the record is produced. */
export interface RatingInput {
  event: Omit<RatingEvent, 'eventTime'>;
  /** DeliveryStatus name at rating time ("DELIVERY_STATUS_ACCEPTED" for a submit-billed record). */
  deliveryStatus: string;
  trafficType: TrafficType;
  /** When the message reached its final status (final events only). */
  doneAt?: Date;
  /** Internal traffic (channel PROBE: the hub's own grey-route probes): priced by asInternal. */
  internal?: boolean;
  /** The internal record of a re-routed message's other supplier attempt (reroute-cost.ts): its message. */
  reroutedMessageId?: string;
  /** A re-routed message's final delivery: the connector that failed first (reroute-cost.ts). */
  rerouteFrom?: string;
  /** With rerouteFrom: that attempt's own final status (UNDELIVERABLE when the delivery does not say). */
  rerouteFromStatus?: DeliveryStatus;
}

export type SkipReason = 'not-accepted' | 'multipart-waits-for-final' | 'intermediate';

/** `inbound`: an MO, priced with inbound rates only and without a buy side. */
export type Mapped = { input: RatingInput; inbound?: boolean } | { skip: SkipReason };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface ContextFacts {
  hubMessageId: string;
  accountId: string;
  destination: RatingEvent['destination'];
  submitTime: number;
  trafficType: TrafficType;
  internal: boolean;
}

function fromContext(ctx: MessageContext | undefined, topic: string): ContextFacts {
  if (ctx === undefined) throw new InvalidEventError(`${topic}: no message context`);
  const id = ctx.messageId.toLowerCase();
  if (!UUID.test(id))
    throw new InvalidEventError(`${topic}: message_id ${JSON.stringify(ctx.messageId)} is not a UUID`);
  if (!ctx.accountId) throw new InvalidEventError(`${topic}: message ${id} has no account_id`);
  if (ctx.receivedAt === undefined || Number.isNaN(ctx.receivedAt.getTime())) {
    throw new InvalidEventError(`${topic}: message ${id} has no received_at (the pricing time)`);
  }
  const msisdn = (ctx.destination?.address ?? '').replace(/^\+/, '').replace(/^00/, '');
  const destination: RatingEvent['destination'] = { msisdn };
  const info = ctx.destinationInfo;
  if (info?.countryCode) destination.country = info.countryCode.toUpperCase();
  if (info?.mcc && info.mnc && /^\d{3}$/.test(info.mcc) && /^\d{2,3}$/.test(info.mnc)) {
    destination.mccMnc = `${info.mcc}${info.mnc}`;
  }
  return {
    hubMessageId: id,
    accountId: ctx.accountId,
    destination,
    submitTime: ctx.receivedAt.getTime(),
    trafficType: ctx.trafficType,
    internal: ctx.channel === SubmitChannel.SUBMIT_CHANNEL_PROBE,
  };
}

/** sms.dispatched.v1: an accepted single-part attempt is the SUBMITTED outcome. */
export function fromDispatched(d: SmsDispatched): Mapped {
  if (d.outcome !== DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED) return { skip: 'not-accepted' };
  if (d.partTotal > 1) return { skip: 'multipart-waits-for-final' };
  const c = fromContext(d.context, 'sms.dispatched.v1');
  if (!d.connectorId)
    throw new InvalidEventError(`sms.dispatched.v1: message ${c.hubMessageId} has no connector_id`);
  return {
    input: {
      event: {
        hubMessageId: c.hubMessageId,
        accountId: c.accountId,
        connectorId: d.connectorId,
        destination: c.destination,
        segments: Math.max(1, d.segments),
        outcome: 'SUBMITTED',
        submitTime: c.submitTime,
      },
      deliveryStatus: deliveryStatusToJSON(DeliveryStatus.DELIVERY_STATUS_ACCEPTED),
      trafficType: c.trafficType,
      ...(c.internal ? { internal: true } : {}),
    },
  };
}

/** The outcome of a final status reached after a supplier accepted the message. */
export const AFTER_ACCEPTANCE: Partial<Record<DeliveryStatus, Outcome>> = {
  [DeliveryStatus.DELIVERY_STATUS_DELIVERED]: 'DELIVERED',
  [DeliveryStatus.DELIVERY_STATUS_EXPIRED]: 'EXPIRED',
  [DeliveryStatus.DELIVERY_STATUS_DELETED]: 'DELETED',
  [DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE]: 'UNDELIVERABLE',
  [DeliveryStatus.DELIVERY_STATUS_UNKNOWN]: 'UNKNOWN',
  [DeliveryStatus.DELIVERY_STATUS_REJECTED]: 'REJECTED_SUPPLIER',
};

/**
 * sms.delivery.v1: a final status is the final outcome. Whether a supplier ever accepted the message
 * decides between the after-acceptance outcomes and REJECTED_HUB / FAILED_DISPATCH: it was accepted when
 * a part has a supplier message id, suppliers charge segments for it, or it was delivered.
 */
export function fromDelivery(d: SmsDelivery): Mapped {
  if (!d.final) return { skip: 'intermediate' };
  const outcomeIfAccepted = AFTER_ACCEPTANCE[d.status];
  if (outcomeIfAccepted === undefined && d.status !== DeliveryStatus.DELIVERY_STATUS_FAILED) {
    return { skip: 'intermediate' }; // final flag with a non-final status: wait for the real final one
  }
  const c = fromContext(d.context, 'sms.delivery.v1');
  const acceptedParts = d.parts.filter((p) => p.supplierMessageId !== '').length;
  const accepted =
    acceptedParts > 0 || d.segments > 0 || d.status === DeliveryStatus.DELIVERY_STATUS_DELIVERED;
  let outcome: Outcome;
  if (d.status === DeliveryStatus.DELIVERY_STATUS_FAILED) outcome = 'FAILED_DISPATCH';
  else if (!accepted) {
    outcome = d.status === DeliveryStatus.DELIVERY_STATUS_REJECTED ? 'REJECTED_HUB' : 'FAILED_DISPATCH';
  } else outcome = outcomeIfAccepted as Outcome;
  const segments = d.segments > 0 ? d.segments : Math.max(1, acceptedParts);
  const event: RatingInput['event'] = {
    hubMessageId: c.hubMessageId,
    accountId: c.accountId,
    destination: c.destination,
    segments,
    outcome,
    submitTime: c.submitTime,
  };
  if (d.connectorId) event.connectorId = d.connectorId;
  const input: RatingInput = {
    event,
    deliveryStatus: deliveryStatusToJSON(d.status),
    trafficType: c.trafficType,
  };
  if (d.doneAt !== undefined) input.doneAt = d.doneAt;
  if (c.internal) input.internal = true;
  return { input };
}

/**
 * The country of an MO's sender, for inbound country rates: the number read as international (TON 1, or
 * unknown TON 0, which SMSCs use for international digits too); national (TON 2), alphanumeric (TON 5) and
 * other senders have none, so only their prefix rates can match.
 */
export function subscriberCountry(digits: string, ton: number): string | undefined {
  if ((ton !== 0 && ton !== 1) || !/^[0-9]{6,15}$/.test(digits)) return undefined;
  return parsePhoneNumberFromString(`+${digits}`)?.country;
}

/**
 * sms.inbound.v1: an inbound message (MO) received for an account. It is priced with the account's inbound
 * rates on the subscriber's (source) number (longest prefix, then its country), at the time egress read it, as one final outcome (DELIVERED:
 * the hub received it) with no connector and no buy side. Segments: the parts the record carries.
 */
export function fromInbound(m: SmsInbound): Mapped {
  const id = m.messageId.toLowerCase();
  if (!UUID.test(id))
    throw new InvalidEventError(`sms.inbound.v1: message_id ${JSON.stringify(m.messageId)} is not a UUID`);
  if (!m.accountId) throw new InvalidEventError(`sms.inbound.v1: message ${id} has no account_id`);
  const at = m.receivedAt ?? m.publishedAt;
  if (at === undefined || Number.isNaN(at.getTime())) {
    throw new InvalidEventError(`sms.inbound.v1: message ${id} has no received_at (the pricing time)`);
  }
  const msisdn = (m.source?.address ?? '').replace(/^\+/, '').replace(/^00/, '');
  const destination: RatingEvent['destination'] = { msisdn };
  const country = subscriberCountry(msisdn, m.source?.ton ?? 0);
  if (country !== undefined) destination.country = country;
  return {
    input: {
      event: {
        hubMessageId: id,
        accountId: m.accountId,
        destination,
        segments: Math.max(1, m.parts),
        outcome: 'DELIVERED',
        submitTime: at.getTime(),
      },
      deliveryStatus: deliveryStatusToJSON(DeliveryStatus.DELIVERY_STATUS_DELIVERED),
      trafficType: TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
      doneAt: at,
    },
    inbound: true,
  };
}
