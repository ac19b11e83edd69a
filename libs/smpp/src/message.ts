import type { Pdu, PduFields } from './codec.js';
import type { SegmentPart, Segmented } from './segment.js';
import { CommandStatus } from './status.js';
import { decodeText } from './text.js';
import { findConcat, parseUdh, type ConcatInfo, type UdhElement } from './udh.js';

export const ESM_CLASS_UDHI = 0x40;
export const ESM_CLASS_DELIVERY_RECEIPT = 0x04;

export interface MessageContent {
  /** The user data without UDH: from short_message, or from message_payload when short_message is empty. */
  bytes: Buffer;
  dataCoding: number;
  /** IEs when esm_class had UDHI set. */
  udh?: UdhElement[];
  /** Concatenation info from the UDH (0x00/0x08) or from the SAR TLVs. */
  concat?: ConcatInfo & { via: 'udh' | 'sar' };
  /** The bytes came from message_payload. */
  fromPayload: boolean;
}

export type MessageContentResult =
  ({ ok: true } & MessageContent) | { ok: false; status: number; reason: string };

/**
 * The message of a submit_sm / deliver_sm / data_sm, with the UDH split off and concatenation info found,
 * whichever way the peer sent it. Never throws; a UDHI flag with a malformed UDH gives ESME_RINVESMCLASS.
 */
export function messageContent(pdu: Pdu): MessageContentResult {
  const sm = pdu.short_message ?? Buffer.alloc(0);
  const fromPayload = sm.length === 0 && pdu.message_payload !== undefined;
  let bytes = fromPayload ? (pdu.message_payload as Buffer) : sm;
  const dataCoding = pdu.data_coding ?? 0;
  const out: MessageContent = { bytes, dataCoding, fromPayload };
  if (((pdu.esm_class ?? 0) & ESM_CLASS_UDHI) !== 0) {
    const r = parseUdh(bytes);
    if (!r.ok)
      return { ok: false, status: CommandStatus.ESME_RINVESMCLASS, reason: `UDHI set but ${r.reason}` };
    bytes = r.payload;
    out.bytes = Buffer.from(bytes);
    out.udh = r.elements;
    const c = findConcat(r.elements);
    if (c) out.concat = { ...c, via: 'udh' };
  }
  if (
    !out.concat &&
    pdu.sar_msg_ref_num !== undefined &&
    pdu.sar_total_segments !== undefined &&
    pdu.sar_segment_seqnum !== undefined
  ) {
    out.concat = {
      refBits: 16,
      ref: pdu.sar_msg_ref_num,
      total: pdu.sar_total_segments,
      seq: pdu.sar_segment_seqnum,
      via: 'sar',
    };
  }
  return { ok: true, ...out };
}

/** Text of a message (UDH removed) per its data_coding; see decodeText for binary codings. */
export function messageText(pdu: Pdu): string | undefined {
  const c = messageContent(pdu);
  return c.ok ? decodeText(c.bytes, c.dataCoding) : undefined;
}

/**
 * The submit_sm / deliver_sm fields for one part from segmentText/segmentBinary: short_message (with UDH),
 * esm_class with UDHI when needed (other bits of `esmClass` kept), data_coding, SAR TLVs or message_payload.
 */
export function partFields(segmented: Segmented, part: SegmentPart, esmClass = 0): PduFields {
  const fields: PduFields = {
    short_message: part.shortMessage,
    data_coding: segmented.dataCoding,
    esm_class: part.udhi ? esmClass | ESM_CLASS_UDHI : esmClass & ~ESM_CLASS_UDHI,
  };
  if (part.messagePayload) fields.message_payload = part.messagePayload;
  if (part.sar) {
    fields.sar_msg_ref_num = part.sar.ref;
    fields.sar_total_segments = part.sar.total;
    fields.sar_segment_seqnum = part.sar.seq;
  }
  return fields;
}
