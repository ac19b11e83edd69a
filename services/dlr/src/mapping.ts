// Adapters between the protobuf contracts and the plain domain types (src/domain/types.ts). Pure.
import {
  DeliveryStatus,
  DispatchOutcome,
  MessageContext,
  type CustomerError,
  type SmsDispatched,
  type SmsReceiptRaw,
  type SmsSubmitted,
} from '@smshub/contracts';
import { errFromSmppStatus, HUB_ERR } from './domain/status.js';
import type { Dispatch, DlrStatus, Receipt } from './domain/types.js';

const TO_PROTO: Record<DlrStatus, DeliveryStatus> = {
  ENROUTE: DeliveryStatus.DELIVERY_STATUS_ENROUTE,
  ACCEPTED: DeliveryStatus.DELIVERY_STATUS_ACCEPTED,
  DELIVERED: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
  EXPIRED: DeliveryStatus.DELIVERY_STATUS_EXPIRED,
  DELETED: DeliveryStatus.DELIVERY_STATUS_DELETED,
  UNDELIVERABLE: DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE,
  REJECTED: DeliveryStatus.DELIVERY_STATUS_REJECTED,
  UNKNOWN: DeliveryStatus.DELIVERY_STATUS_UNKNOWN,
};

const FROM_PROTO = new Map<DeliveryStatus, DlrStatus>(
  Object.entries(TO_PROTO).map(([k, v]) => [v, k as DlrStatus]),
);
// The hub reports egress final failures as UNDELIVERABLE (README "Status mapping"); FAILED from another
// producer is read as the same thing.
FROM_PROTO.set(DeliveryStatus.DELIVERY_STATUS_FAILED, 'UNDELIVERABLE');

export function toProtoStatus(status: DlrStatus): DeliveryStatus {
  return TO_PROTO[status];
}

export function fromProtoStatus(status: DeliveryStatus): DlrStatus | undefined {
  return FROM_PROTO.get(status);
}

export function ms(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime();
}

/** Destination key for statistics: "mccmnc:<mcc>-<mnc>" when known, else "prefix:<matched prefix>". */
export function destKeyOf(ctx: MessageContext | undefined): string | undefined {
  const info = ctx?.destinationInfo;
  if (info?.mcc && info.mnc) return `mccmnc:${info.mcc}-${info.mnc}`;
  if (info?.matchedPrefix) return `prefix:${info.matchedPrefix}`;
  return undefined;
}

/** The customer-side context of a submitted message. */
export function contextFromSubmitted(s: SmsSubmitted): MessageContext {
  return MessageContext.fromPartial({
    messageId: s.messageId,
    accountId: s.accountId,
    systemId: s.systemId,
    customerMessageId: s.customerMessageId,
    source: s.source,
    destination: s.destination,
    registeredDelivery: s.registeredDelivery,
    dataCoding: s.dataCoding,
    trafficType: s.trafficType,
    receivedAt: s.receivedAt,
    concat: s.concat,
    channel: s.channel,
    validityUntil: s.validityUntil,
    callbackUrl: s.callbackUrl,
    clientReference: s.clientReference,
  });
}

/**
 * Merges two contexts of one message: what `base` already knows wins, `extra` fills the gaps (e.g. the
 * destination network known only after routing).
 */
export function mergeContext(
  base: MessageContext | undefined,
  extra: MessageContext | undefined,
): MessageContext {
  if (base === undefined) return MessageContext.fromPartial(extra ?? {});
  if (extra === undefined) return base;
  const out: MessageContext = { ...base };
  const o = out as unknown as Record<string, unknown>;
  const x = extra as unknown as Record<string, unknown>;
  // for…in over the own keys: Object.entries made a [key, value] array per field of every merged context
  for (const k in x) {
    if (!Object.hasOwn(x, k)) continue;
    const v = x[k];
    const cur = o[k];
    const empty = cur === undefined || cur === '' || cur === 0 || (Buffer.isBuffer(cur) && cur.length === 0);
    if (empty && v !== undefined) o[k] = v;
  }
  return out;
}

function receiptTextOf(r: SmsReceiptRaw): string | undefined {
  if (r.rawText.length === 0) return undefined;
  // UCS2 (data_coding 8) receipts exist; everything else is read as Latin-1 (receipt texts are ASCII).
  if (r.dataCoding === 8 && r.rawText.length % 2 === 0) {
    return Buffer.from(r.rawText).swap16().toString('utf16le');
  }
  return r.rawText.toString('latin1');
}

/** A raw supplier receipt as the domain sees it. */
export function toReceipt(r: SmsReceiptRaw, fallbackTime: number): Receipt {
  const out: Receipt = {
    connectorId: r.connectorId,
    receivedAt: ms(r.receivedAt) ?? fallbackTime,
  };
  if (r.receiptId) out.receiptId = r.receiptId;
  if (r.receiptedMessageId.trim()) out.tlvMessageId = r.receiptedMessageId;
  if (r.messageState > 0 && r.messageState <= 9) out.tlvMessageState = r.messageState;
  if (r.networkErrorCode !== undefined && (r.networkErrorCode.networkType || r.networkErrorCode.errorCode)) {
    out.networkErrorCode = `${String(r.networkErrorCode.networkType).padStart(2, '0')}:${String(
      r.networkErrorCode.errorCode,
    ).padStart(4, '0')}`;
  }
  const p = r.parsed;
  if (p?.id) out.textId = p.id;
  if (p?.stat) out.statText = p.stat;
  if (p?.err) out.err = p.err;
  if (p?.doneTime) out.doneDate = p.doneTime.getTime();
  const text = receiptTextOf(r);
  if (text !== undefined) out.text = text;
  return out;
}

/** What a dispatch attempt means for its part. */
export interface DispatchPart {
  dispatch: Dispatch;
  /** The part's status after this attempt (ENROUTE while waiting for a receipt). */
  status: DlrStatus;
  /** Customer err when the attempt ended the part. */
  err: string;
}

export function toDispatch(d: SmsDispatched, hubMessageId: string, fallbackTime: number): DispatchPart {
  const accepted =
    d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED && d.supplierMessageId.trim() !== '';
  const noResponse =
    d.outcome === DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT ||
    d.outcome === DispatchOutcome.DISPATCH_OUTCOME_NOT_SENT;
  const dispatch: Dispatch = {
    hubMessageId,
    partIndex: Math.max(0, d.partNumber - 1),
    partsTotal: Math.max(1, d.partTotal),
    connectorId: d.connectorId,
    attempt: Math.max(1, d.attempt),
    accepted,
    finalFailure: d.finalFailure && !accepted,
    time: ms(d.respondedAt) ?? ms(d.submittedAt) ?? fallbackTime,
  };
  if (accepted) dispatch.supplierMessageId = d.supplierMessageId.trim();
  if (!noResponse) dispatch.smppStatus = d.commandStatus;
  if (!dispatch.finalFailure) return { dispatch, status: 'ENROUTE', err: HUB_ERR.NONE };
  if (d.outcome === DispatchOutcome.DISPATCH_OUTCOME_EXPIRED) {
    return { dispatch, status: 'EXPIRED', err: HUB_ERR.EXPIRED_IN_HUB };
  }
  // Given up without a submit_sm_resp (no response in time, or egress stopped mid-send and does not resend):
  // the supplier may or may not have the message, so the honest final state is UNKNOWN, not UNDELIVERABLE.
  if (d.outcome === DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT) {
    return { dispatch, status: 'UNKNOWN', err: HUB_ERR.NO_RESPONSE };
  }
  return { dispatch, status: 'UNDELIVERABLE', err: errFromSmppStatus(dispatch.smppStatus) };
}

const ERROR_TEXT: Partial<Record<DlrStatus, string>> = {
  EXPIRED: 'The message expired before it could be delivered',
  DELETED: 'The message was deleted by the network',
  UNDELIVERABLE: 'The message could not be delivered',
  REJECTED: 'The message was rejected',
  UNKNOWN: 'The delivery outcome is unknown',
};

/** The customer error of a failed status with its 3-digit err; undefined when delivered/intermediate. */
export function customerError(status: DlrStatus, err: string, message?: string): CustomerError | undefined {
  if (status === 'DELIVERED' || status === 'ENROUTE' || status === 'ACCEPTED') return undefined;
  const n = Number.parseInt(err, 10);
  return {
    code: status,
    receiptError: Number.isFinite(n) && n >= 0 && n <= 999 ? n : 99,
    message: message ?? ERROR_TEXT[status] ?? 'The message was not delivered',
  };
}

/** 3-digit err of a CustomerError (routing rejections); '099' when it gives none. */
export function errOf(e: CustomerError | undefined): string {
  if (e === undefined || e.receiptError <= 0) return HUB_ERR.OTHER;
  return String(Math.min(999, e.receiptError)).padStart(3, '0');
}
