// The user data of an MO part: its UDH (when esm_class has UDHI) and the text it carries, and how parts
// become one message. GSM7/UCS2/8-bit are passed through as received (never transcoded): a reassembled
// message is the parts' user data (UDH removed) concatenated in part order, with the first part's
// data_coding. The text is decoded only for the keyword match, webhooks and the timeline.
import { dataCodingInfo, decodeText } from '@smshub/smpp';

export const UDHI = 0x40;

/** short_message without its UDH (when esm_class says there is one and it parses). */
export function userData(shortMessage: Uint8Array, esmClass: number): Buffer {
  const buf = Buffer.from(shortMessage);
  if ((esmClass & UDHI) === 0 || buf.length === 0) return buf;
  const udhl = buf[0] as number;
  if (udhl + 1 > buf.length) return buf;
  return buf.subarray(udhl + 1);
}

/** The text of user data (UDH already removed); '' for binary data codings. */
export function textOf(data: Uint8Array, dataCoding: number): string {
  return dataCodingInfo(dataCoding).alphabet === 'binary' ? '' : decodeText(data, dataCoding);
}

export interface PartData {
  partNumber: number;
  shortMessage: Uint8Array;
  esmClass: number;
}

/** The parts' user data in part order, UDH removed. The caller checks that every part is there. */
export function assemble(parts: readonly PartData[]): Buffer {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  return Buffer.concat(sorted.map((p) => userData(p.shortMessage, p.esmClass)));
}

/** Whether parts 1..total are all present (duplicates of a part number count once). */
export function complete(partNumbers: readonly number[], total: number): boolean {
  const seen = new Set(partNumbers.filter((n) => n >= 1 && n <= total));
  return seen.size === total;
}
