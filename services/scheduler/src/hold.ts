import { HoldReason, SmsSubmitted } from '@smshub/contracts';

/**
 * What the scheduler does with a held message, without I/O.
 *
 * A held message is the SmsSubmitted ingress (schedule_delivery_time), the http-api (send_at) or routing
 * (quiet hours) published on sms.scheduled.v1. It is due at `hold_until` (older producers: `schedule_at`;
 * neither: at once). On release it goes onto sms.submitted.v1 unchanged except:
 *   - `released_at` is set (routing never holds a released message again);
 *   - `schedule_delivery_time_raw` is emptied: the hub has honoured the schedule, so egress must not
 *     forward it to the supplier (a relative time would count again from the supplier's receipt of it).
 * A message whose validity ended before its due time is not released: it expires (EXPIRED receipt).
 */
export interface HeldRow {
  messageId: string;
  accountId: string;
  systemId: string;
  customerMessageId: string;
  source: string;
  destination: string;
  serviceType: string;
  dueAt: Date;
  validityUntil: Date | null;
  reason: number;
  record: Buffer;
}

/** The row of a message consumed from sms.scheduled.v1. */
export function heldRow(m: SmsSubmitted, received: Date): HeldRow {
  return {
    messageId: m.messageId,
    accountId: m.accountId,
    systemId: m.systemId,
    customerMessageId: m.customerMessageId || m.messageId,
    source: m.source?.address ?? '',
    destination: m.destination?.address ?? '',
    serviceType: m.serviceType,
    dueAt: m.holdUntil ?? m.scheduleAt ?? received,
    validityUntil: m.validityUntil ?? null,
    reason:
      m.holdReason === HoldReason.HOLD_REASON_UNSPECIFIED ? HoldReason.HOLD_REASON_SCHEDULE : m.holdReason,
    record: Buffer.from(SmsSubmitted.encode(m).finish()),
  };
}

/** The sms.submitted.v1 record of a released message. */
export function releasedRecord(record: Buffer, now: Date): Buffer {
  const m = SmsSubmitted.decode(record);
  m.releasedAt = now;
  m.scheduleDeliveryTimeRaw = '';
  return Buffer.from(SmsSubmitted.encode(m).finish());
}

/** What replace_sm may change on a held message (SMPP 3.4 section 4.10). */
export interface Replacement {
  /** New user data (short_message) in the message's data_coding; undefined = unchanged. */
  shortMessage?: Buffer;
  /** New due time; undefined = unchanged. */
  dueAt?: Date;
  /** New validity end; undefined = unchanged. */
  validityUntil?: Date;
  /** New registered_delivery; undefined = unchanged. */
  registeredDelivery?: number;
}

/** The held record with `r` applied. */
export function replacedRecord(record: Buffer, r: Replacement): Buffer {
  const m = SmsSubmitted.decode(record);
  if (r.shortMessage !== undefined) {
    m.shortMessage = r.shortMessage;
    m.fromMessagePayload = false;
  }
  if (r.dueAt !== undefined) {
    m.holdUntil = r.dueAt;
    m.scheduleAt = r.dueAt;
  }
  if (r.validityUntil !== undefined) m.validityUntil = r.validityUntil;
  if (r.registeredDelivery !== undefined) m.registeredDelivery = r.registeredDelivery;
  return Buffer.from(SmsSubmitted.encode(m).finish());
}
