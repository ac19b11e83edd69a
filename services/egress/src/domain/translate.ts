import type { SmsSubmitted } from '@smshub/contracts';
import { ConcatMethod } from '@smshub/contracts';
import {
  canEncodeGsm7,
  canEncodeLatin1,
  canEncodeAscii,
  dataCodingInfo,
  decodeText,
  DataCoding,
  ESM_CLASS_UDHI,
  partFields,
  segmentBinary,
  segmentText,
  type PduFields,
  type SegmentEncoding,
  type SegmentMethod,
  type Segmented,
} from '@smshub/smpp';

/** The per-connector settings translation needs. */
export interface TranslationSettings {
  dataCodings: readonly number[];
  gsm7Packed: boolean;
  segmentation: SegmentMethod;
  defaultSourceTon: number;
  defaultSourceNpi: number;
}

export interface SubmitPlan {
  /** data_coding of every part. */
  dataCoding: number;
  /** submit_sm fields of each part (addresses included), in part order. */
  parts: PduFields[];
}

export type PlanResult = { ok: true; plan: SubmitPlan } | { ok: false; reason: string };

export interface Address {
  ton: number;
  npi: number;
  address: string;
}

const TON_INTERNATIONAL = 1;
const NPI_ISDN = 1;
const TON_ALPHANUMERIC = 5;

/**
 * Sender normalisation: an alphanumeric sender goes as TON 5 / NPI 0; "+digits", digits the customer
 * marked international, or digits long enough to be an E.164 number (8+) go as TON 1 / NPI 1 without
 * the "+"; short codes keep the connector's default source TON/NPI.
 */
export function normaliseSource(src: Address, defaults: { ton: number; npi: number }): Address {
  const a = src.address.trim();
  const digits = a.startsWith('+') ? a.slice(1) : a;
  if (!/^[0-9]+$/.test(digits)) return { ton: TON_ALPHANUMERIC, npi: 0, address: a };
  if (a.startsWith('+') || src.ton === TON_INTERNATIONAL || digits.length >= 8) {
    return { ton: TON_INTERNATIONAL, npi: NPI_ISDN, address: digits };
  }
  return { ton: defaults.ton, npi: defaults.npi, address: digits };
}

/** Destinations reach egress as E.164 digits (routing normalised them): TON 1 / NPI 1 without "+". */
export function normaliseDestination(dst: Address): Address {
  const a = dst.address.trim();
  const digits = a.startsWith('+') ? a.slice(1) : a;
  if (/^[0-9]+$/.test(digits) && (a.startsWith('+') || dst.ton === TON_INTERNATIONAL || digits.length >= 8)) {
    return { ton: TON_INTERNATIONAL, npi: NPI_ISDN, address: digits };
  }
  return { ton: dst.ton, npi: dst.npi, address: digits };
}

/**
 * Concatenation reference derived from the hub message id, so a message re-planned after a restart or a
 * failover gets the same reference (the handset can still reassemble parts sent by different runs).
 */
export function concatReference(messageId: string, bits: 8 | 16): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < messageId.length; i++) {
    h ^= messageId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return bits === 8 ? h & 0xff : h & 0xffff;
}

type TextChoice = { encoding: SegmentEncoding; dataCoding: number; packed: boolean };

/**
 * Which alphabet to send a text in: the customer's own when the supplier takes it, else GSM 7-bit,
 * Latin-1, then UCS2 (which carries any text), each only when the supplier lists it.
 */
export function chooseEncoding(
  text: string,
  customerAlphabet: string,
  s: Pick<TranslationSettings, 'dataCodings' | 'gsm7Packed'>,
): TextChoice | undefined {
  const gsm7 = s.gsm7Packed ? GSM7_PACKED : GSM7;
  const own =
    customerAlphabet === 'gsm7'
      ? gsm7
      : customerAlphabet === 'latin1'
        ? LATIN1
        : customerAlphabet === 'ascii'
          ? ASCII
          : customerAlphabet === 'ucs2'
            ? UCS2
            : undefined;
  if (own && fits(own, text, s.dataCodings)) return own;
  // The same order as before: the customer's own, then GSM 7-bit, Latin-1, UCS2 (a choice already refused
  // as the customer's own is not tried again).
  if (gsm7 !== own && fits(gsm7, text, s.dataCodings)) return gsm7;
  if (LATIN1 !== own && fits(LATIN1, text, s.dataCodings)) return LATIN1;
  if (UCS2 !== own && fits(UCS2, text, s.dataCodings)) return UCS2;
  return undefined;
}

// The choices, shared (read only): chooseEncoding runs for every message, and building them and two
// closures per call was most of its cost.
const GSM7: TextChoice = Object.freeze({
  encoding: 'gsm7',
  dataCoding: DataCoding.SMSC_DEFAULT,
  packed: false,
});
const GSM7_PACKED: TextChoice = Object.freeze({
  encoding: 'gsm7',
  dataCoding: DataCoding.SMSC_DEFAULT,
  packed: true,
});
const LATIN1: TextChoice = Object.freeze({
  encoding: 'latin1',
  dataCoding: DataCoding.LATIN1,
  packed: false,
});
const ASCII: TextChoice = Object.freeze({ encoding: 'latin1', dataCoding: DataCoding.IA5, packed: false });
const UCS2: TextChoice = Object.freeze({ encoding: 'ucs2', dataCoding: DataCoding.UCS2, packed: false });

/** The supplier lists the choice's data_coding and its alphabet can carry the text (UCS2 carries any). */
function fits(c: TextChoice, text: string, dataCodings: readonly number[]): boolean {
  if (!dataCodings.includes(c.dataCoding)) return false;
  if (c === GSM7 || c === GSM7_PACKED) return canEncodeGsm7(text);
  if (c === LATIN1) return canEncodeLatin1(text);
  if (c === ASCII) return canEncodeAscii(text);
  return true;
}

const FORWARDED_TLV_EXCLUDED = new Set([0x0424, 0x020c, 0x020e, 0x020f, 0x001e]);

function commonFields(msg: SmsSubmitted, s: TranslationSettings): PduFields {
  const src = normaliseSource(
    { ton: msg.source?.ton ?? 0, npi: msg.source?.npi ?? 0, address: msg.source?.address ?? '' },
    { ton: s.defaultSourceTon, npi: s.defaultSourceNpi },
  );
  const dst = normaliseDestination({
    ton: msg.destination?.ton ?? 0,
    npi: msg.destination?.npi ?? 0,
    address: msg.destination?.address ?? '',
  });
  const fields: PduFields = {
    service_type: msg.serviceType,
    source_addr_ton: src.ton,
    source_addr_npi: src.npi,
    source_addr: src.address,
    dest_addr_ton: dst.ton,
    dest_addr_npi: dst.npi,
    destination_addr: dst.address,
    protocol_id: msg.protocolId,
    priority_flag: msg.priority,
    schedule_delivery_time: msg.scheduleDeliveryTimeRaw,
    validity_period: msg.validityPeriodRaw,
    // The hub always asks for a final receipt: dlr needs it for every message, whatever the customer
    // asked (the customer's registered_delivery only decides the receipt ingress sends back).
    registered_delivery: 1,
    replace_if_present_flag: msg.replaceIfPresent,
    sm_default_msg_id: msg.smDefaultMsgId,
  };
  const tlvs: Record<number, Buffer> = {};
  for (const t of msg.tlvs) if (!FORWARDED_TLV_EXCLUDED.has(t.tag)) tlvs[t.tag] = Buffer.from(t.value);
  if (Object.keys(tlvs).length) fields.tlvs = tlvs;
  return fields;
}

/**
 * One part's submit_sm fields: the message's common fields and the part's, in one literal with every key
 * (absent ones undefined, which the codec skips), so every part has the same shape: two object spreads per
 * part were slower to build and made the codec's field reads polymorphic.
 */
function submitFields(c: PduFields, p: PduFields): PduFields {
  return {
    service_type: c.service_type,
    source_addr_ton: c.source_addr_ton,
    source_addr_npi: c.source_addr_npi,
    source_addr: c.source_addr,
    dest_addr_ton: c.dest_addr_ton,
    dest_addr_npi: c.dest_addr_npi,
    destination_addr: c.destination_addr,
    protocol_id: c.protocol_id,
    priority_flag: c.priority_flag,
    schedule_delivery_time: c.schedule_delivery_time,
    validity_period: c.validity_period,
    registered_delivery: c.registered_delivery,
    replace_if_present_flag: c.replace_if_present_flag,
    sm_default_msg_id: c.sm_default_msg_id,
    tlvs: c.tlvs,
    short_message: p.short_message,
    data_coding: p.data_coding,
    esm_class: p.esm_class,
    message_payload: p.message_payload,
    sar_msg_ref_num: p.sar_msg_ref_num,
    sar_total_segments: p.sar_total_segments,
    sar_segment_seqnum: p.sar_segment_seqnum,
  };
}

/**
 * Turns a routed submission into the submit_sm PDUs for one connector:
 * - a part the customer split (UDH or SAR) is forwarded unchanged as one part (its UDH kept; SAR
 *   re-attached from ConcatInfo);
 * - text is re-encoded for the supplier (chooseEncoding), binary is kept, and a message longer than one
 *   SMS is split by the connector's method (udh8/udh16/sar, or one message_payload part);
 * - sender and destination TON/NPI are normalised.
 */
export function planSubmit(msg: SmsSubmitted, s: TranslationSettings): PlanResult {
  const common = commonFields(msg, s);
  const bytes = Buffer.from(msg.shortMessage);
  const customerSplit = msg.concat !== undefined || (msg.esmClass & ESM_CLASS_UDHI) !== 0;
  if (customerSplit) {
    if (bytes.length > 254) return { ok: false, reason: 'customer-split part longer than 254 octets' };
    const fields: PduFields = {
      ...common,
      esm_class: msg.esmClass,
      data_coding: msg.dataCoding,
      short_message: bytes,
    };
    if (msg.concat?.method === ConcatMethod.CONCAT_METHOD_SAR) {
      fields.sar_msg_ref_num = msg.concat.reference;
      fields.sar_total_segments = msg.concat.total;
      fields.sar_segment_seqnum = msg.concat.partNumber;
    }
    return { ok: true, plan: { dataCoding: msg.dataCoding, parts: [fields] } };
  }

  const info = dataCodingInfo(msg.dataCoding);
  const esmClass = msg.esmClass & ~ESM_CLASS_UDHI;
  const method = s.segmentation;
  // The single-SMS probe of a 'payload' connector uses udh8 (one part, no UDH): its reference is unused.
  const probe: SegmentMethod = method === 'payload' ? 'udh8' : method;
  const reference = concatReference(msg.messageId, probe === 'udh8' ? 8 : 16);
  let segmented: Segmented;
  try {
    if (info.alphabet === 'binary' || msg.dataCoding >= 0xc0) {
      // Binary, message-class and MWI codings are carried as they are.
      if (
        !s.dataCodings.includes(msg.dataCoding) &&
        !(info.alphabet === 'binary' && s.dataCodings.includes(DataCoding.BINARY_2))
      )
        return {
          ok: false,
          reason: `data_coding 0x${msg.dataCoding.toString(16)} not supported by the connector`,
        };
      // segmentBinary's dataCoding parameter is typed as the literal of its default (libs/smpp): widen here.
      const dcs = msg.dataCoding as typeof DataCoding.BINARY_2;
      segmented = segmentBinary(bytes, { method: probe, reference }, dcs);
      if (segmented.parts.length > 1 && method === 'payload')
        segmented = segmentBinary(bytes, { method, reference }, dcs);
    } else {
      const text = decodeText(bytes, msg.dataCoding);
      const choice = chooseEncoding(text, info.alphabet, s);
      if (!choice) return { ok: false, reason: 'no data_coding of the connector can carry this text' };
      // A message that fits one SMS goes in short_message whatever the method.
      segmented = segmentText(text, {
        encoding: choice.encoding,
        packed: choice.packed,
        reference,
        method: probe,
      });
      if (segmented.parts.length > 1 && method === 'payload')
        segmented = segmentText(text, {
          encoding: choice.encoding,
          packed: choice.packed,
          reference,
          method,
        });
      if (choice.dataCoding !== segmented.dataCoding)
        segmented = { ...segmented, dataCoding: choice.dataCoding };
    }
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  return {
    ok: true,
    plan: {
      dataCoding: segmented.dataCoding,
      parts: segmented.parts.map((p) => submitFields(common, partFields(segmented, p, esmClass))),
    },
  };
}
