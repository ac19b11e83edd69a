/**
 * User Data Header (3GPP TS 23.040 9.2.3.24): UDHL octet followed by information elements (IEI, IEDL, data).
 * node-smpp hands out IEs without the UDHL on decode and wants a raw Buffer with it on encode; this module
 * is the one place that knows the layout, for both directions.
 */

export interface UdhElement {
  iei: number;
  data: Buffer;
}

export interface ConcatInfo {
  /** 8-bit (IEI 0x00) or 16-bit (IEI 0x08) reference. */
  refBits: 8 | 16;
  ref: number;
  total: number;
  seq: number;
}

export const IEI_CONCAT_8 = 0x00;
export const IEI_CONCAT_16 = 0x08;

export type UdhParseResult =
  { ok: true; elements: UdhElement[]; udhLength: number; payload: Buffer } | { ok: false; reason: string };

/**
 * Split short_message (when esm_class has UDHI 0x40) into its IEs and the payload that follows.
 * `udhLength` counts the UDHL octet itself. Never throws.
 */
export function parseUdh(message: Uint8Array): UdhParseResult {
  const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (buf.length < 1) return { ok: false, reason: 'empty message' };
  const udhl = buf[0] as number;
  if (udhl + 1 > buf.length)
    return { ok: false, reason: `UDHL ${udhl} exceeds message length ${buf.length}` };
  const elements: UdhElement[] = [];
  let off = 1;
  const end = 1 + udhl;
  while (off < end) {
    if (off + 2 > end) return { ok: false, reason: 'truncated information element header' };
    const iei = buf[off] as number;
    const len = buf[off + 1] as number;
    if (off + 2 + len > end) return { ok: false, reason: `IE 0x${iei.toString(16)} overruns the UDH` };
    elements.push({ iei, data: Buffer.from(buf.subarray(off + 2, off + 2 + len)) });
    off += 2 + len;
  }
  return { ok: true, elements, udhLength: end, payload: buf.subarray(end) };
}

/** IEs -> UDH bytes including the UDHL octet. Throws RangeError when it would exceed 140 octets. */
export function buildUdh(elements: readonly UdhElement[]): Buffer {
  const body = Buffer.concat(
    elements.map((e) => Buffer.concat([Buffer.from([e.iei & 0xff, e.data.length]), e.data])),
  );
  if (body.length > 139) throw new RangeError(`UDH of ${body.length + 1} octets is too long`);
  return Buffer.concat([Buffer.from([body.length]), body]);
}

/** A concatenation IE (0x00 with 8-bit ref, or 0x08 with 16-bit ref). */
export function concatElement(info: ConcatInfo): UdhElement {
  if (info.refBits === 16) {
    return {
      iei: IEI_CONCAT_16,
      data: Buffer.from([(info.ref >> 8) & 0xff, info.ref & 0xff, info.total, info.seq]),
    };
  }
  return { iei: IEI_CONCAT_8, data: Buffer.from([info.ref & 0xff, info.total, info.seq]) };
}

/** The concatenation info in a list of IEs, if any well-formed one is present. */
export function findConcat(elements: readonly UdhElement[]): ConcatInfo | undefined {
  for (const e of elements) {
    if (e.iei === IEI_CONCAT_8 && e.data.length === 3) {
      return { refBits: 8, ref: e.data[0] as number, total: e.data[1] as number, seq: e.data[2] as number };
    }
    if (e.iei === IEI_CONCAT_16 && e.data.length === 4) {
      return {
        refBits: 16,
        ref: e.data.readUInt16BE(0),
        total: e.data[2] as number,
        seq: e.data[3] as number,
      };
    }
  }
  return undefined;
}
