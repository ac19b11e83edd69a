import { DeliveryStatus, SubmitChannel, type SmsDelivery } from '@smshub/contracts';
import {
  canEncodeGsm7,
  decodeText,
  encodeGsm7,
  encodeNetworkErrorCode,
  formatReceipt,
  MessageState,
  type ReceiptStat,
} from '@smshub/smpp';

/** A receipt ready to send as deliver_sm (one row of ingress_pending_receipts). */
export interface PendingReceipt {
  messageId: string;
  status: DeliveryStatus;
  systemId: string;
  customerMessageId: string;
  sourceTon: number;
  sourceNpi: number;
  source: string;
  destTon: number;
  destNpi: number;
  dest: string;
  dataCoding: number;
  /** The receipt text; it holds the first characters of the customer's message: never logged. */
  shortMessage: Buffer;
  messageState: number;
  networkErrorCode: Buffer | undefined;
  expiresAt: Date;
  /** deliver_sm esm_class: undefined or 0x04 a receipt; 0x00 an inbound message (MO), 0x40 an MO part with UDH. */
  esmClass?: number;
  /**
   * A receipt's sms.delivery.v1 revision: its row is not inserted when the message's state row already holds
   * this revision or a newer one (a redelivered event whose receipt was acknowledged, and its row deleted).
   * Undefined for an inbound message (MO).
   */
  revision?: number;
}

const STAT: Record<DeliveryStatus, ReceiptStat> = {
  [DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED]: 'UNKNOWN',
  [DeliveryStatus.DELIVERY_STATUS_ACCEPTED]: 'ACCEPTD',
  [DeliveryStatus.DELIVERY_STATUS_ENROUTE]: 'ENROUTE',
  [DeliveryStatus.DELIVERY_STATUS_DELIVERED]: 'DELIVRD',
  [DeliveryStatus.DELIVERY_STATUS_EXPIRED]: 'EXPIRED',
  [DeliveryStatus.DELIVERY_STATUS_DELETED]: 'DELETED',
  [DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE]: 'UNDELIV',
  [DeliveryStatus.DELIVERY_STATUS_REJECTED]: 'REJECTD',
  [DeliveryStatus.DELIVERY_STATUS_UNKNOWN]: 'UNKNOWN',
  [DeliveryStatus.DELIVERY_STATUS_FAILED]: 'UNDELIV',
  [DeliveryStatus.UNRECOGNIZED]: 'UNKNOWN',
};

const STATE: Record<ReceiptStat, number> = {
  ENROUTE: MessageState.ENROUTE,
  DELIVRD: MessageState.DELIVERED,
  EXPIRED: MessageState.EXPIRED,
  DELETED: MessageState.DELETED,
  UNDELIV: MessageState.UNDELIVERABLE,
  ACCEPTD: MessageState.ACCEPTED,
  UNKNOWN: MessageState.UNKNOWN,
  REJECTD: MessageState.REJECTED,
};

export function receiptStat(status: DeliveryStatus): ReceiptStat {
  return STAT[status] ?? 'UNKNOWN';
}

export function messageStateOf(status: DeliveryStatus): number {
  return STATE[receiptStat(status)];
}

/**
 * Whether the customer asked for a receipt of this event: registered_delivery bits 0-1 = 1 for every final
 * outcome, 2 for failures only. Intermediate states never produce a receipt.
 */
export function wantsReceipt(d: SmsDelivery): boolean {
  const ctx = d.context;
  if (!ctx || !d.final || ctx.channel === SubmitChannel.SUBMIT_CHANNEL_HTTP || !ctx.systemId) return false;
  const rd = ctx.registeredDelivery & 0x03;
  if (rd === 1) return true;
  if (rd === 2) return d.status !== DeliveryStatus.DELIVERY_STATUS_DELIVERED;
  return false;
}

/** Line feed, carriage return, form feed and escape: never inside a receipt's text. */
const CONTROL = new Set(['\n', '\r', '\f', '\u001b']);

/**
 * The "text:" of the receipt: the first 20 characters of the message. The receipt goes out with data_coding 0
 * (GSM 03.38, unpacked), so every GSM character is kept, the extension table's too (€ [ ] { } \ ^ ~ |
 * written as escape + character); a character GSM cannot carry (e.g. Cyrillic from a UCS2 message) and the
 * control characters (line feed, carriage return, form feed, escape), which would break receipt parsers,
 * become "?".
 */
export function receiptText(bytes: Uint8Array, dataCoding: number): string {
  if (bytes.length === 0) return '';
  let text: string;
  try {
    text = decodeText(bytes, dataCoding);
  } catch {
    return '';
  }
  // The first 20 characters (code points), without spreading the whole text into an array first.
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n++ === 20) break;
    out += CONTROL.has(ch) || !canEncodeGsm7(ch) ? '?' : ch;
  }
  return out;
}

/**
 * The deliver_sm receipt for a delivery event the customer asked a receipt for. It is kept waiting for a
 * receiver bind until the message's own validity end (`context.validityUntil`; for an event without it,
 * the submit time + `validitySeconds`, the account's default), and at least `minHoldMs` from now (an
 * EXPIRED outcome arrives right at the validity end and must still reach the customer).
 */
export function buildReceipt(
  d: SmsDelivery,
  validitySeconds: number,
  now: Date,
  minHoldMs = 3_600_000,
): PendingReceipt {
  const ctx = d.context!;
  const stat = receiptStat(d.status);
  const submitDate = ctx.receivedAt ?? now;
  const doneDate = d.doneAt ?? d.updatedAt ?? now;
  const err = d.error?.receiptError ?? 0;
  const text = formatReceipt({
    id: ctx.customerMessageId || ctx.messageId,
    sub: 1,
    dlvrd: stat === 'DELIVRD' ? 1 : 0,
    submitDate,
    doneDate,
    stat,
    err: Math.min(999, err),
    text: receiptText(ctx.receiptText, ctx.dataCoding),
  });
  const validityEnd = ctx.validityUntil?.getTime() ?? submitDate.getTime() + validitySeconds * 1000;
  const expiresAt = new Date(Math.max(validityEnd, now.getTime() + minHoldMs));
  return {
    messageId: ctx.messageId,
    status: d.status,
    systemId: ctx.systemId,
    customerMessageId: ctx.customerMessageId || ctx.messageId,
    // The receipt comes from the handset's side: source and destination are swapped.
    sourceTon: ctx.destination?.ton ?? 0,
    sourceNpi: ctx.destination?.npi ?? 0,
    source: ctx.destination?.address ?? '',
    destTon: ctx.source?.ton ?? 0,
    destNpi: ctx.source?.npi ?? 0,
    dest: ctx.source?.address ?? '',
    dataCoding: 0,
    shortMessage: encodeGsm7(text, { replacement: '?' }),
    messageState: STATE[stat],
    // GSM (network type 3) with the hub's receipt error, when there is one.
    networkErrorCode: err > 0 ? encodeNetworkErrorCode({ networkType: 3, errorCode: err }) : undefined,
    expiresAt,
    revision: d.revision,
  };
}
