// An inbound message (MO, sms.inbound.v1) as a row of the receipt store: it goes to the account's
// receiver/transceiver binds as deliver_sm with esm_class 0 (0x40 when a part is passed with its UDH), kept
// until a bind acknowledges it or the account's default validity has passed (at least a day: a customer
// whose receiver is down over a weekend still gets Friday night's replies on Monday within the default
// validity of 48 h; the store counts what expires unsent).
import { DeliveryStatus, type SmsInbound } from '@smshub/contracts';
import type { PendingReceipt } from './receipts.js';

const MIN_HOLD_MS = 24 * 3600_000;

export function buildInboundDelivery(
  m: SmsInbound,
  systemId: string,
  validitySeconds: number,
  now: Date,
): PendingReceipt {
  const from = m.receivedAt ?? now;
  return {
    messageId: m.messageId,
    status: DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED,
    systemId,
    customerMessageId: '',
    // From the subscriber to the hub number, as the network sent it.
    sourceTon: m.source?.ton ?? 0,
    sourceNpi: m.source?.npi ?? 0,
    source: m.source?.address ?? '',
    destTon: m.destination?.ton ?? 0,
    destNpi: m.destination?.npi ?? 0,
    dest: m.destination?.address ?? '',
    dataCoding: m.dataCoding,
    shortMessage: Buffer.from(m.shortMessage),
    messageState: 0,
    networkErrorCode: undefined,
    expiresAt: new Date(Math.max(from.getTime() + validitySeconds * 1000, now.getTime() + MIN_HOLD_MS)),
    esmClass: m.esmClass & 0x40,
  };
}
