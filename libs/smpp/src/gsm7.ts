/**
 * GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table, unpacked (one septet per octet,
 * how SMPP carries data_coding 0x00 on the wire in practice) and packed (7-bit packing, as on the air
 * interface and as some SMSCs expect).
 *
 * Written here rather than taken from npm: the candidates (gsm7, @trt2/gsm-charset-utils,
 * sms-segments-calculator) either only count segments, or do not expose both unpacked and packed forms
 * with fill bits, escape-aware septet counting and strict encodability; the tables are a fixed spec.
 */

// Default alphabet, index = septet value. 0x1B is the escape to the extension table (not a character).
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Extension table: septet after 0x1B -> character. */
const EXTENSION: ReadonlyArray<[number, string]> = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
];

export const GSM7_ESCAPE = 0x1b;

const basicEncode = new Map<string, number>();
for (let i = 0; i < BASIC.length; i++) {
  if (i !== GSM7_ESCAPE) basicEncode.set(BASIC[i] as string, i);
}
const extEncode = new Map<string, number>(EXTENSION.map(([code, ch]) => [ch, code]));
const extDecode = new Map<number, string>(EXTENSION);

/** True when every character of `text` is in the GSM 03.38 default alphabet or its extension table. */
export function canEncodeGsm7(text: string): boolean {
  for (const ch of text) {
    if (!basicEncode.has(ch) && !extEncode.has(ch)) return false;
  }
  return true;
}

/** Septets needed for `text` (extension characters count 2), or -1 when it is not GSM7-encodable. */
export function gsm7SeptetLength(text: string): number {
  let n = 0;
  for (const ch of text) {
    if (basicEncode.has(ch)) n += 1;
    else if (extEncode.has(ch)) n += 2;
    else return -1;
  }
  return n;
}

/** Septets of one character: 1, 2 (escape + extension), or -1 when not encodable. */
export function gsm7CharSeptets(ch: string): number {
  if (basicEncode.has(ch)) return 1;
  if (extEncode.has(ch)) return 2;
  return -1;
}

export interface Gsm7EncodeOptions {
  /** Replacement for characters that have no GSM7 form; when omitted such characters throw. */
  replacement?: string;
}

/** Text -> septets, one per octet (unpacked). Throws RangeError on a non-GSM character unless a replacement is given. */
export function encodeGsm7(text: string, options: Gsm7EncodeOptions = {}): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const basic = basicEncode.get(ch);
    if (basic !== undefined) {
      out.push(basic);
      continue;
    }
    const ext = extEncode.get(ch);
    if (ext !== undefined) {
      out.push(GSM7_ESCAPE, ext);
      continue;
    }
    if (options.replacement === undefined) {
      throw new RangeError(
        `character U+${ch.codePointAt(0)?.toString(16).padStart(4, '0')} is not in GSM 03.38`,
      );
    }
    const rep = basicEncode.get(options.replacement) ?? 0x3f; // '?'
    out.push(rep);
  }
  return Buffer.from(out);
}

/**
 * Unpacked septets -> text. Bytes are masked to 7 bits. An escape followed by a septet that is not in the
 * extension table decodes as that septet's default character (TS 23.038 6.2.1.1); a trailing lone escape
 * is dropped.
 */
export function decodeGsm7(septets: Uint8Array): string {
  let s = '';
  for (let i = 0; i < septets.length; i++) {
    const v = (septets[i] as number) & 0x7f;
    if (v === GSM7_ESCAPE) {
      if (i + 1 >= septets.length) break;
      const next = (septets[++i] as number) & 0x7f;
      const ext = extDecode.get(next);
      if (ext !== undefined) s += ext;
      else if (next === GSM7_ESCAPE) s += ' ';
      else s += BASIC[next] as string;
      continue;
    }
    s += BASIC[v] as string;
  }
  return s;
}

/**
 * Pack septets 7-bit (LSB first). `fillBits` (0-6) leading zero bits are inserted first, as needed after a
 * UDH so the text starts on a septet boundary.
 */
export function packSeptets(septets: Uint8Array, fillBits = 0): Buffer {
  const totalBits = fillBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(totalBits / 8));
  let bit = fillBits;
  for (const raw of septets) {
    const v = raw & 0x7f;
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte] = (out[byte] as number) | ((v << shift) & 0xff);
    if (shift > 1) out[byte + 1] = (out[byte + 1] as number) | (v >> (8 - shift));
    bit += 7;
  }
  return out;
}

/**
 * Unpack 7-bit packed octets. `septetCount` defaults to what fits; when the last septet is a zero that only
 * exists because 7 spare bits were left at the end, it is dropped (an '@' cannot be told apart from padding,
 * so 3GPP recommends CR padding: pass septetCount when it is known, e.g. from a UDL).
 */
export function unpackSeptets(packed: Uint8Array, septetCount?: number, fillBits = 0): Buffer {
  const available = Math.floor((packed.length * 8 - fillBits) / 7);
  let count = septetCount === undefined ? available : Math.min(septetCount, available);
  const out = Buffer.alloc(Math.max(count, 0));
  let bit = fillBits;
  for (let i = 0; i < count; i++) {
    const byte = bit >> 3;
    const shift = bit & 7;
    let v = (packed[byte] as number) >> shift;
    if (shift > 1 && byte + 1 < packed.length) v |= (packed[byte + 1] as number) << (8 - shift);
    out[i] = v & 0x7f;
    bit += 7;
  }
  if (
    septetCount === undefined &&
    count > 0 &&
    (packed.length * 8 - fillBits) % 7 === 0 &&
    out[count - 1] === 0
  ) {
    count -= 1;
    return out.subarray(0, count);
  }
  return out;
}
