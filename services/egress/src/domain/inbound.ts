import {
  ConcatMethod,
  MessageState,
  type NetworkErrorCode,
  type ReceiptText,
  type SmppSession as SessionRef,
  type SmsMo,
  type SmsReceiptRaw,
  type Tlv,
} from '@smshub/contracts';
import { decodeNetworkErrorCode, decodeUcs2, messageContent, parseReceipt, type Pdu } from '@smshub/smpp';
import { instantOfWallClock } from '@smshub/smpp/zone';
import { normaliseSupplierId, type MessageIdFormat } from './connector.js';

/** esm_class message-type bits (2-5): 0x04 SMSC delivery receipt, 0x20 intermediate notification. */
const RECEIPT_TYPES = new Set([0x04, 0x20]);

/** A deliver_sm/data_sm is a receipt when its esm_class says so or it carries receipt TLVs. */
export function isReceipt(pdu: Pdu): boolean {
  return (
    RECEIPT_TYPES.has((pdu.esm_class ?? 0) & 0x3c) ||
    pdu.receipted_message_id !== undefined ||
    pdu.message_state !== undefined
  );
}

export interface InboundContext {
  connectorId: string;
  messageIdFormat: MessageIdFormat;
  /** IANA zone the supplier writes receipt dates in. */
  receiptTimeZone: string;
  session: SessionRef;
  receivedAt: Date;
  /** UUIDv7 for the receipt / MO. */
  newId: () => string;
}

/**
 * A receipt date read as UTC wall-clock (parseReceipt) re-read as wall-clock in `zone`. Returns undefined
 * for an unknown zone rather than guessing.
 */
export function wallClockIn(zone: string, wall: Date): Date | undefined {
  if (zone === 'UTC' || zone === 'Etc/UTC') return wall;
  try {
    return new Date(instantOfWallClock(zone, wall.getTime()));
  } catch {
    return undefined;
  }
}

/** The TLVs of a PDU as received: the ones the codec knows are re-encoded, unknown ones are verbatim. */
export function pduTlvs(pdu: Pdu): Tlv[] {
  const out: Tlv[] = [];
  if (pdu.receipted_message_id !== undefined)
    out.push({ tag: 0x001e, value: Buffer.from(`${pdu.receipted_message_id}\0`, 'latin1') });
  if (pdu.message_state !== undefined) out.push({ tag: 0x0427, value: Buffer.from([pdu.message_state]) });
  if (pdu.network_error_code !== undefined)
    out.push({ tag: 0x0423, value: Buffer.from(pdu.network_error_code) });
  if (pdu.sar_msg_ref_num !== undefined) {
    const v = Buffer.alloc(2);
    v.writeUInt16BE(pdu.sar_msg_ref_num & 0xffff);
    out.push({ tag: 0x020c, value: v });
  }
  if (pdu.sar_total_segments !== undefined)
    out.push({ tag: 0x020e, value: Buffer.from([pdu.sar_total_segments]) });
  if (pdu.sar_segment_seqnum !== undefined)
    out.push({ tag: 0x020f, value: Buffer.from([pdu.sar_segment_seqnum]) });
  for (const [tag, value] of Object.entries(pdu.tlvs ?? {}))
    out.push({ tag: Number(tag), value: Buffer.from(value) });
  return out;
}

function address(ton: number | undefined, npi: number | undefined, addr: string | undefined) {
  return { ton: ton ?? 0, npi: npi ?? 0, address: addr ?? '' };
}

/**
 * A supplier receipt as SmsReceiptRaw: the raw octets, every TLV, what the text parser read (never
 * failing: problems go to parse_error) and the supplier id normalised like the dispatch's, TLV first.
 */
export function toReceipt(pdu: Pdu, ctx: InboundContext): SmsReceiptRaw {
  const sm = pdu.short_message ?? Buffer.alloc(0);
  const raw = sm.length === 0 && pdu.message_payload ? Buffer.from(pdu.message_payload) : Buffer.from(sm);
  const text = (pdu.data_coding ?? 0) === 0x08 ? decodeUcs2(raw) : raw.toString('latin1');
  const problems: string[] = [];
  let parsed: ReceiptText | undefined;
  let textId = '';
  if (raw.length > 0) {
    const r = parseReceipt(text);
    for (const p of r.problems) problems.push(p);
    if (r.id !== undefined || r.stat !== undefined || r.statRaw !== undefined) {
      textId = r.id ?? '';
      // One object literal (a field left undefined is not encoded): spreading optional fields into it
      // was a good part of this function's cost.
      parsed = {
        id: r.id ?? '',
        sub: r.sub === undefined ? '' : String(r.sub).padStart(3, '0'),
        dlvrd: r.dlvrd === undefined ? '' : String(r.dlvrd).padStart(3, '0'),
        submitDate: r.submitDateRaw ?? '',
        doneDate: r.doneDateRaw ?? '',
        stat: r.stat ?? r.statRaw ?? '',
        err: r.err ?? '',
        text: r.text ?? '',
        submitTime: r.submitDate ? wallClockIn(ctx.receiptTimeZone, r.submitDate) : undefined,
        doneTime: r.doneDate ? wallClockIn(ctx.receiptTimeZone, r.doneDate) : undefined,
      };
    } else if (problems.length === 0) {
      problems.push('no receipt fields in the text');
    }
  } else if (pdu.receipted_message_id === undefined) {
    problems.push('empty receipt text and no receipted_message_id');
  }
  const tlvId = pdu.receipted_message_id?.trim() ?? '';
  const normalised = tlvId
    ? normaliseSupplierId(tlvId, ctx.messageIdFormat, 'resp')
    : textId.trim()
      ? normaliseSupplierId(textId, ctx.messageIdFormat, 'receipt_text')
      : '';
  if (!normalised) problems.push('no supplier message id');
  const nec = decodeNetworkErrorCode(pdu.network_error_code);
  const networkErrorCode: NetworkErrorCode | undefined = nec
    ? { networkType: nec.networkType, errorCode: nec.errorCode }
    : undefined;
  return {
    receiptId: ctx.newId(),
    connectorId: ctx.connectorId,
    session: ctx.session,
    receivedAt: ctx.receivedAt,
    rawText: raw,
    esmClass: pdu.esm_class ?? 0,
    dataCoding: pdu.data_coding ?? 0,
    source: address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr),
    destination: address(pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr),
    tlvs: pduTlvs(pdu),
    parsed,
    receiptedMessageId: tlvId,
    messageState:
      pdu.message_state !== undefined && pdu.message_state >= 1 && pdu.message_state <= 8
        ? (pdu.message_state as MessageState)
        : MessageState.MESSAGE_STATE_UNSPECIFIED,
    networkErrorCode,
    supplierMessageIdNormalised: normalised,
    parseError: problems.join('; '),
  };
}

/** A mobile-originated deliver_sm as SmsMo (bytes as received, UDH included). */
export function toMo(pdu: Pdu, ctx: InboundContext): SmsMo {
  const sm = pdu.short_message ?? Buffer.alloc(0);
  const fromPayload = sm.length === 0 && pdu.message_payload !== undefined;
  const content = messageContent(pdu);
  const c = content.ok ? content.concat : undefined;
  return {
    moId: ctx.newId(),
    connectorId: ctx.connectorId,
    session: ctx.session,
    receivedAt: ctx.receivedAt,
    source: address(pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr),
    destination: address(pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr),
    esmClass: pdu.esm_class ?? 0,
    protocolId: pdu.protocol_id ?? 0,
    dataCoding: pdu.data_coding ?? 0,
    shortMessage: fromPayload ? Buffer.from(pdu.message_payload as Buffer) : Buffer.from(sm),
    fromMessagePayload: fromPayload,
    concat: c
      ? {
          reference: c.ref,
          total: c.total,
          partNumber: c.seq,
          method:
            c.via === 'sar'
              ? ConcatMethod.CONCAT_METHOD_SAR
              : c.refBits === 16
                ? ConcatMethod.CONCAT_METHOD_UDH_16BIT
                : ConcatMethod.CONCAT_METHOD_UDH_8BIT,
          groupId: '',
        }
      : undefined,
    serviceType: pdu.service_type ?? '',
    tlvs: pduTlvs(pdu).filter((t) => t.tag !== 0x020c && t.tag !== 0x020e && t.tag !== 0x020f),
  };
}
