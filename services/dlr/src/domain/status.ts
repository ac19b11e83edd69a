// Status normalisation, customer-facing codes, multi-part aggregation and error-code mapping.
// The tables here are reproduced in services/dlr/README.md; keep both in step.

import type { DlrStatus, NormalisedReceipt, Receipt } from './types.js';
import { parseReceiptText } from './receipt-text.js';

export const ALL_STATUSES: readonly DlrStatus[] = [
  'ENROUTE',
  'ACCEPTED',
  'DELIVERED',
  'EXPIRED',
  'DELETED',
  'UNDELIVERABLE',
  'REJECTED',
  'UNKNOWN',
];

/** SMPP 3.4 section 5.2.28 message_state values. */
const MESSAGE_STATE: Record<DlrStatus, number> = {
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8,
};

/** Customer-facing 7-character `stat:` text. */
const STAT_TEXT: Record<DlrStatus, string> = {
  ENROUTE: 'ENROUTE',
  DELIVERED: 'DELIVRD',
  EXPIRED: 'EXPIRED',
  DELETED: 'DELETED',
  UNDELIVERABLE: 'UNDELIV',
  ACCEPTED: 'ACCEPTD',
  UNKNOWN: 'UNKNOWN',
  REJECTED: 'REJECTD',
};

/**
 * ENROUTE and ACCEPTED are intermediate: more receipts may follow. (SMPP 3.4 calls ACCEPTED a final
 * state, "read on behalf of the subscriber"; in practice suppliers send ACCEPTD for "taken by the next
 * network" and follow it with a final receipt, so the hub keeps waiting, bounded by the expiry sweep.)
 * All other states are final; UNKNOWN is final too (message_state 7, "invalid state").
 */
export function isFinal(status: DlrStatus): boolean {
  return status !== 'ENROUTE' && status !== 'ACCEPTED';
}

export function toMessageState(status: DlrStatus): number {
  return MESSAGE_STATE[status];
}

export function toStatText(status: DlrStatus): string {
  return STAT_TEXT[status];
}

/**
 * message_state TLV -> status. 1..8 per SMPP 3.4; SMPP 5.0 adds 0 SCHEDULED (-> ENROUTE, still
 * pending) and 9 SKIPPED (-> UNDELIVERABLE, the SMSC will not deliver). Anything else -> undefined
 * (the caller falls back to the text).
 */
export function fromMessageState(state: number): DlrStatus | undefined {
  switch (state) {
    case 0:
      return 'ENROUTE';
    case 9:
      return 'UNDELIVERABLE';
  }
  for (const s of ALL_STATUSES) if (MESSAGE_STATE[s] === state) return s;
  return undefined;
}

const STAT_ALIASES: Record<string, DlrStatus> = {
  DELIVRD: 'DELIVERED',
  DELIVERED: 'DELIVERED',
  EXPIRED: 'EXPIRED',
  DELETED: 'DELETED',
  UNDELIV: 'UNDELIVERABLE',
  UNDELIVERABLE: 'UNDELIVERABLE',
  FAILED: 'UNDELIVERABLE',
  ACCEPTD: 'ACCEPTED',
  ACCEPTED: 'ACCEPTED',
  UNKNOWN: 'UNKNOWN',
  REJECTD: 'REJECTED',
  REJECTED: 'REJECTED',
  ENROUTE: 'ENROUTE',
  BUFFRED: 'ENROUTE',
  BUFFERED: 'ENROUTE',
};

/** `stat:` text -> status, case-insensitive, with common long spellings; undefined if unrecognised. */
export function fromStatText(stat: string): DlrStatus | undefined {
  return STAT_ALIASES[stat.trim().toUpperCase()];
}

/** True when an `err:` value means "no error" ("0", "000", "", undefined). */
export function isZeroErr(err: string | undefined): boolean {
  return err === undefined || /^0*$/.test(err.trim());
}

/**
 * Status of a receipt. Order of evidence: message_state TLV, then `stat:` text, then `err:` (non-zero
 * err without a usable state -> UNDELIVERABLE, otherwise UNKNOWN). A TLV contradicting the text wins.
 */
export function receiptStatus(
  tlvMessageState: number | undefined,
  statText: string | undefined,
  err: string | undefined,
): DlrStatus {
  const fromTlv = tlvMessageState === undefined ? undefined : fromMessageState(tlvMessageState);
  if (fromTlv !== undefined) return fromTlv;
  const fromText = statText === undefined ? undefined : fromStatText(statText);
  if (fromText !== undefined) return fromText;
  return isZeroErr(err) ? 'UNKNOWN' : 'UNDELIVERABLE';
}

/**
 * Parse the text (when fields are missing) and normalise a receipt. TLVs are preferred over text.
 * `timeZone` is the connector's receipt time zone (IANA), used for text dates.
 */
export function normaliseReceipt(receipt: Receipt, timeZone = 'UTC'): NormalisedReceipt {
  const parsed = receipt.text === undefined ? undefined : parseReceiptText(receipt.text, timeZone);
  const textId = receipt.textId ?? parsed?.id;
  const statText = receipt.statText ?? parsed?.stat;
  const err = receipt.err ?? parsed?.err;
  const doneDate = receipt.doneDate ?? parsed?.doneDate;
  const tlvId = receipt.tlvMessageId?.trim();
  const idSource = tlvId ? 'tlv' : textId?.trim() ? 'text' : 'none';
  const out: NormalisedReceipt = {
    connectorId: receipt.connectorId,
    status: receiptStatus(receipt.tlvMessageState, statText, err),
    receivedAt: receipt.receivedAt,
    idSource,
  };
  const supplierMessageId = idSource === 'tlv' ? tlvId : idSource === 'text' ? textId?.trim() : undefined;
  if (supplierMessageId !== undefined) out.supplierMessageId = supplierMessageId;
  if (err !== undefined) out.err = err;
  if (receipt.networkErrorCode !== undefined) out.networkErrorCode = receipt.networkErrorCode;
  if (doneDate !== undefined) out.doneDate = doneDate;
  return out;
}

/**
 * Final status of a multi-part message once every part is final.
 * All parts DELIVERED -> DELIVERED. Otherwise the first present of:
 * REJECTED > UNDELIVERABLE > EXPIRED > DELETED > UNKNOWN.
 * Rationale: a rejection is the most definite and actionable verdict (the content, sender or number
 * was refused and a retry will fail again); UNDELIVERABLE is a definite network failure; EXPIRED means
 * "maybe later"; DELETED is administrative; UNKNOWN carries no information. A partially delivered
 * message is never DELIVERED: the recipient did not get the whole text.
 *
 * While any part is pending the message is intermediate: ACCEPTED when at least one part reached
 * ACCEPTED or a final state, else ENROUTE.
 */
export const FAILURE_PRECEDENCE: readonly DlrStatus[] = [
  'REJECTED',
  'UNDELIVERABLE',
  'EXPIRED',
  'DELETED',
  'UNKNOWN',
];

export function aggregateStatus(parts: readonly DlrStatus[]): DlrStatus {
  if (parts.length === 0) return 'ENROUTE';
  if (!parts.every(isFinal)) {
    return parts.some((p) => p !== 'ENROUTE') ? 'ACCEPTED' : 'ENROUTE';
  }
  if (parts.every((p) => p === 'DELIVERED')) return 'DELIVERED';
  for (const s of FAILURE_PRECEDENCE) if (parts.includes(s)) return s;
  return 'UNKNOWN';
}

/** Customer-facing `err:` codes produced by the hub itself (3 decimal digits). */
export const HUB_ERR = {
  NONE: '000',
  INVALID_DESTINATION: '001',
  INVALID_SOURCE: '002',
  INVALID_MESSAGE: '003',
  THROTTLED: '004',
  SUPPLIER_ERROR: '005',
  INVALID_VALIDITY: '006',
  NO_RESPONSE: '007',
  SUPPLIER_BIND: '008',
  EXPIRED_IN_HUB: '009',
  OTHER: '099',
} as const;

/**
 * Last SMPP command_status of a failed dispatch -> customer err code.
 *
 * | command_status                                     | err |
 * |----------------------------------------------------|-----|
 * | 0x0B RINVDSTADR, 0x50 RINVDSTTON, 0x51 RINVDSTNPI  | 001 |
 * | 0x0A RINVSRCADR, 0x48 RINVSRCTON, 0x49 RINVSRCNPI  | 002 |
 * | 0x01 RINVMSGLEN, 0x03 RINVCMDID, 0xC0..0xC4 TLV errors | 003 |
 * | 0x14 RMSGQFUL, 0x58 RTHROTTLED                     | 004 |
 * | 0x08 RSYSERR, 0x45 RSUBMITFAIL, 0xFE RDELIVERYFAILURE, 0xFF RUNKNOWNERR | 005 |
 * | 0x61 RINVSCHED, 0x62 RINVEXPIRY                    | 006 |
 * | no response (timeout, connection lost)             | 007 |
 * | 0x04 RINVBNDSTS, 0x0D RBINDFAIL, 0x0E RINVPASWD, 0x0F RINVSYSID | 008 |
 * | anything else                                      | 099 |
 */
export function errFromSmppStatus(status: number | undefined): string {
  if (status === undefined) return HUB_ERR.NO_RESPONSE;
  switch (status) {
    case 0x0b:
    case 0x50:
    case 0x51:
      return HUB_ERR.INVALID_DESTINATION;
    case 0x0a:
    case 0x48:
    case 0x49:
      return HUB_ERR.INVALID_SOURCE;
    case 0x01:
    case 0x03:
    case 0xc0:
    case 0xc1:
    case 0xc2:
    case 0xc3:
    case 0xc4:
      return HUB_ERR.INVALID_MESSAGE;
    case 0x14:
    case 0x58:
      return HUB_ERR.THROTTLED;
    case 0x08:
    case 0x45:
    case 0xfe:
    case 0xff:
      return HUB_ERR.SUPPLIER_ERROR;
    case 0x61:
    case 0x62:
      return HUB_ERR.INVALID_VALIDITY;
    case 0x04:
    case 0x0d:
    case 0x0e:
    case 0x0f:
      return HUB_ERR.SUPPLIER_BIND;
    default:
      return HUB_ERR.OTHER;
  }
}

/**
 * Customer err for a code given by the router/firewall or by a supplier receipt: kept as given when it
 * is 1-3 characters (left-padded with zeros), otherwise the last 3 characters. Undefined -> '000'.
 */
export function customerErr(err: string | undefined): string {
  if (err === undefined) return HUB_ERR.NONE;
  const t = err.trim();
  if (t === '') return HUB_ERR.NONE;
  return t.length <= 3 ? t.padStart(3, '0') : t.slice(-3);
}
