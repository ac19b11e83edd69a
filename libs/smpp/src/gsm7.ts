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

// Lookup by UTF-16 code unit instead of a Map per character (these run on every message: a submit's
// text in egress, every receipt's text in ingress). Every character of both tables is below U+0400 except
// the euro sign. Entry: 0 = not GSM, 1 + septet = default alphabet, EXT | septet = extension table.
const TABLE_SIZE = 0x400;
const EXT = 0x100;
const EURO = 0x20ac;
let euroEntry = 0;
const ENCODE = new Uint16Array(TABLE_SIZE);
for (const [ch, septet] of basicEncode) ENCODE[ch.charCodeAt(0)] = 1 + septet;
for (const [code, ch] of EXTENSION) {
  if (ch.charCodeAt(0) === EURO) euroEntry = EXT | code;
  else ENCODE[ch.charCodeAt(0)] = EXT | code;
}
/** Decode of an extension septet (after the escape): its character, or undefined. */
const DECODE_EXT: Array<string | undefined> = new Array<string | undefined>(128).fill(undefined);
for (const [code, ch] of EXTENSION) DECODE_EXT[code] = ch;

/** The table entry of the code unit `c` (see ENCODE). */
function entry(c: number): number {
  if (c < TABLE_SIZE) return ENCODE[c] as number;
  return c === EURO ? euroEntry : 0;
}

/** Code units taken by the character starting at `i` (2 for a surrogate pair, else 1). */
function unitsAt(text: string, i: number, c: number): number {
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 2;
  }
  return 1;
}

/** True when every character of `text` is in the GSM 03.38 default alphabet or its extension table. */
export function canEncodeGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (entry(text.charCodeAt(i)) === 0) return false;
  return true;
}

/** Septets needed for `text` (extension characters count 2), or -1 when it is not GSM7-encodable. */
export function gsm7SeptetLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const e = entry(text.charCodeAt(i));
    if (e === 0) return -1;
    n += e & EXT ? 2 : 1;
  }
  return n;
}

/** Septets of one character: 1, 2 (escape + extension), or -1 when not encodable. */
export function gsm7CharSeptets(ch: string): number {
  if (ch.length !== 1) return -1;
  const e = entry(ch.charCodeAt(0));
  return e === 0 ? -1 : e & EXT ? 2 : 1;
}

export interface Gsm7EncodeOptions {
  /** Replacement for characters that have no GSM7 form; when omitted such characters throw. */
  replacement?: string;
}

/** Text -> septets, one per octet (unpacked). Throws RangeError on a non-GSM character unless a replacement is given. */
export function encodeGsm7(text: string, options: Gsm7EncodeOptions = {}): Buffer {
  // At most two septets per code unit (an extension character); a surrogate pair gives one replacement.
  const out = Buffer.allocUnsafe(text.length * 2);
  let n = 0;
  let rep = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const e = entry(c);
    if (e !== 0) {
      if (e & EXT) {
        out[n++] = GSM7_ESCAPE;
        out[n++] = e & 0x7f;
      } else out[n++] = e - 1;
      continue;
    }
    if (options.replacement === undefined) {
      throw new RangeError(
        `character U+${text.codePointAt(i)?.toString(16).padStart(4, '0')} is not in GSM 03.38`,
      );
    }
    if (rep < 0) rep = basicEncode.get(options.replacement) ?? 0x3f; // '?'
    out[n++] = rep;
    i += unitsAt(text, i, c) - 1;
  }
  // A copy of its own (not a view of the larger buffer), as Buffer.from(array) gave.
  return Buffer.from(out.subarray(0, n));
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
      const ext = DECODE_EXT[next];
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
