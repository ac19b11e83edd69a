import { canEncodeGsm7, encodeGsm7, gsm7CharSeptets, packSeptets } from './gsm7.js';
import { canEncodeLatin1, DataCoding, encodeUcs2 } from './text.js';
import { buildUdh, concatElement, type ConcatInfo } from './udh.js';

/** How parts of a long message are tied together. */
export type SegmentMethod = 'udh8' | 'udh16' | 'sar' | 'payload';

/** Text encodings that can be segmented ('binary' is for segmentBinary). */
export type SegmentEncoding = 'gsm7' | 'ucs2' | 'latin1';

export interface SegmentOptions {
  /** Default: gsm7 when the text fits the GSM alphabet, else ucs2. */
  encoding?: SegmentEncoding;
  method: SegmentMethod;
  /** Concatenation reference (0-255 for udh8, 0-65535 for udh16/sar). Required for multi-part. */
  reference?: number;
  /** Pack GSM7 septets (default false: SMPP data_coding 0x00 is normally unpacked). */
  packed?: boolean;
}

export interface SegmentPart {
  /** short_message bytes for this part, UDH included when method is udh8/udh16. Empty for 'payload'. */
  shortMessage: Buffer;
  /** message_payload bytes (method 'payload' only). */
  messagePayload?: Buffer;
  /** The UDH octets at the start of shortMessage (including UDHL), when present. */
  udh?: Buffer;
  /** Set esm_class bit 0x40 (UDHI) for this part. */
  udhi: boolean;
  /** SAR TLVs to send with this part (method 'sar' only): sar_msg_ref_num, sar_total_segments, sar_segment_seqnum. */
  sar?: { ref: number; total: number; seq: number };
  concat?: ConcatInfo;
}

export interface Segmented {
  dataCoding: number;
  encoding: SegmentEncoding | 'binary';
  parts: SegmentPart[];
}

/** Limits per part: [single, multi with 6-octet UDH (8-bit ref), multi with 7-octet UDH (16-bit ref)]. */
const LIMITS = {
  gsm7: [160, 153, 152], // septets
  ucs2: [70, 67, 66], // UTF-16 code units (2 octets each)
  octets: [140, 134, 133], // octets (latin1 / binary)
} as const;

function limitFor(kind: keyof typeof LIMITS, method: SegmentMethod): { single: number; multi: number } {
  const l = LIMITS[kind];
  // SAR: the SMSC adds the UDH itself, so each part must leave room for it (same as 8-bit ref).
  return { single: l[0], multi: method === 'udh16' ? l[2] : l[1] };
}

/** Split text into chunks whose cost (septets / code units / octets) is at most `max`, never inside an escape or surrogate pair. */
function chunk(text: string, max: number, cost: (ch: string) => number): string[] {
  const out: string[] = [];
  let cur = '';
  let used = 0;
  for (const ch of text) {
    const c = cost(ch);
    if (used + c > max) {
      out.push(cur);
      cur = '';
      used = 0;
    }
    cur += ch;
    used += c;
  }
  if (cur.length > 0 || out.length === 0) out.push(cur);
  return out;
}

function encodeChunk(s: string, enc: SegmentEncoding, packed: boolean, udhOctets: number): Buffer {
  if (enc === 'gsm7') {
    const septets = encodeGsm7(s);
    if (!packed) return septets;
    // After a UDH of n octets, fill bits align the text on a septet boundary.
    const fill = udhOctets === 0 ? 0 : (7 - ((udhOctets * 8) % 7)) % 7;
    return packSeptets(septets, fill);
  }
  if (enc === 'ucs2') return encodeUcs2(s);
  return Buffer.from(s, 'latin1');
}

/**
 * Split a text into SMS parts for the given encoding and method. A text that fits one SMS gives one part
 * without UDH/SAR. 'payload' always gives one part carrying everything in message_payload.
 * Throws RangeError when the text cannot be encoded as asked, or needs more than 255 parts.
 */
export function segmentText(text: string, options: SegmentOptions): Segmented {
  const encoding: SegmentEncoding = options.encoding ?? (canEncodeGsm7(text) ? 'gsm7' : 'ucs2');
  if (encoding === 'gsm7' && !canEncodeGsm7(text)) throw new RangeError('text is not GSM 03.38 encodable');
  if (encoding === 'latin1' && !canEncodeLatin1(text)) throw new RangeError('text is not Latin-1 encodable');
  const packed = options.packed === true && encoding === 'gsm7';
  const dataCoding =
    encoding === 'gsm7' ? DataCoding.SMSC_DEFAULT : encoding === 'ucs2' ? DataCoding.UCS2 : DataCoding.LATIN1;

  if (options.method === 'payload') {
    const bytes = encodeChunk(text, encoding, packed, 0);
    return {
      dataCoding,
      encoding,
      parts: [{ shortMessage: Buffer.alloc(0), messagePayload: bytes, udhi: false }],
    };
  }

  const kind = encoding === 'gsm7' ? 'gsm7' : encoding === 'ucs2' ? 'ucs2' : 'octets';
  const cost =
    encoding === 'gsm7'
      ? (ch: string) => gsm7CharSeptets(ch)
      : encoding === 'ucs2'
        ? (ch: string) => ch.length // 2 code units for a surrogate pair: never split
        : () => 1;
  const { single, multi } = limitFor(kind, options.method);
  const whole = chunk(text, single, cost);
  if (whole.length === 1) {
    return {
      dataCoding,
      encoding,
      parts: [{ shortMessage: encodeChunk(text, encoding, packed, 0), udhi: false }],
    };
  }
  const chunks = chunk(text, multi, cost);
  return {
    dataCoding,
    encoding,
    parts: assemble(
      chunks.map((c) => (udhOctets: number) => encodeChunk(c, encoding, packed, udhOctets)),
      options,
    ),
  };
}

/** Split binary data (data_coding 0x02/0x04) into parts: 140 octets single, 134 (udh8/sar) or 133 (udh16) per part. */
export function segmentBinary(
  data: Uint8Array,
  options: Omit<SegmentOptions, 'encoding' | 'packed'>,
  dataCoding: number = DataCoding.BINARY_2,
): Segmented {
  const buf = Buffer.from(data);
  if (options.method === 'payload') {
    return {
      dataCoding,
      encoding: 'binary',
      parts: [{ shortMessage: Buffer.alloc(0), messagePayload: buf, udhi: false }],
    };
  }
  const { single, multi } = limitFor('octets', options.method);
  if (buf.length <= single)
    return { dataCoding, encoding: 'binary', parts: [{ shortMessage: buf, udhi: false }] };
  const pieces: Buffer[] = [];
  for (let off = 0; off < buf.length; off += multi) pieces.push(buf.subarray(off, off + multi));
  return {
    dataCoding,
    encoding: 'binary',
    parts: assemble(
      pieces.map((p) => () => p),
      options,
    ),
  };
}

function assemble(
  encoders: Array<(udhOctets: number) => Buffer>,
  options: SegmentOptions | Omit<SegmentOptions, 'encoding' | 'packed'>,
): SegmentPart[] {
  const total = encoders.length;
  if (total > 255) throw new RangeError(`message needs ${total} parts; at most 255 are possible`);
  const method = options.method;
  const maxRef = method === 'udh8' ? 0xff : 0xffff;
  const ref = options.reference ?? 0;
  if (!Number.isInteger(ref) || ref < 0 || ref > maxRef)
    throw new RangeError(`reference ${ref} out of range for ${method}`);
  return encoders.map((enc, i) => {
    const seq = i + 1;
    if (method === 'sar') {
      return { shortMessage: enc(0), udhi: false, sar: { ref, total, seq } };
    }
    const concat: ConcatInfo = { refBits: method === 'udh16' ? 16 : 8, ref, total, seq };
    const udh = buildUdh([concatElement(concat)]);
    return { shortMessage: Buffer.concat([udh, enc(udh.length)]), udh, udhi: true, concat };
  });
}
