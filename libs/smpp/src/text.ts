import { canEncodeGsm7, decodeGsm7, encodeGsm7, packSeptets, unpackSeptets } from './gsm7.js';

/** data_coding values of SMPP 3.4 section 5.2.19 that this lib encodes. */
export const DataCoding = {
  SMSC_DEFAULT: 0x00, // GSM 03.38, unpacked on the SMPP wire unless agreed otherwise
  IA5: 0x01, // IA5 / ASCII
  BINARY: 0x02, // 8-bit binary
  LATIN1: 0x03, // ISO-8859-1
  BINARY_2: 0x04, // 8-bit binary (second value)
  UCS2: 0x08, // UTF-16BE
} as const;

export type Alphabet = 'gsm7' | 'ascii' | 'latin1' | 'ucs2' | 'binary';

export interface DataCodingInfo {
  alphabet: Alphabet;
  /** Message class 0-3 when the scheme carries one (0xF0-0xFF group, 0x10-0x3F general group with bit 4). */
  messageClass?: number;
  /** True for values this lib does not know; they are treated as 8-bit binary. */
  unknown?: boolean;
}

/**
 * What a data_coding value means. 0x00-0x0F per SMPP 3.4; 0x10-0x3F, 0xC0-0xEF and 0xF0-0xFF per the
 * GSM 03.38 coding groups (general data coding, message waiting indication, data coding/message class).
 * Unlike node-smpp, the value is never masked with 0x0F (which turns 0xF4 into 0x04 by luck and 0x18 into
 * UCS2 by accident).
 */
export function dataCodingInfo(dcs: number): DataCodingInfo {
  const v = dcs & 0xff;
  if (v <= 0x0f) {
    switch (v) {
      case 0x00:
        return { alphabet: 'gsm7' };
      case 0x01:
        return { alphabet: 'ascii' };
      case 0x03:
        return { alphabet: 'latin1' };
      case 0x08:
        return { alphabet: 'ucs2' };
      case 0x02:
      case 0x04:
        return { alphabet: 'binary' };
      default:
        // 0x05 JIS, 0x06 Cyrillic, 0x07 Hebrew, 0x09 pictogram, 0x0A ISO-2022-JP, 0x0D/0x0E Kanji/KS C: not decoded.
        return { alphabet: 'binary', unknown: true };
    }
  }
  if (v <= 0x3f) {
    // General data coding group 00xxxxxx: bit 5 compressed, bit 4 class meaningful, bits 3-2 alphabet.
    const compressed = (v & 0x20) !== 0;
    const alphabetBits = (v >> 2) & 0x03;
    const cls = (v & 0x10) !== 0 ? { messageClass: v & 0x03 } : {};
    if (compressed) return { alphabet: 'binary', unknown: true, ...cls };
    if (alphabetBits === 0) return { alphabet: 'gsm7', ...cls };
    if (alphabetBits === 1) return { alphabet: 'binary', ...cls };
    if (alphabetBits === 2) return { alphabet: 'ucs2', ...cls };
    return { alphabet: 'binary', unknown: true, ...cls };
  }
  if (v >= 0xf0) {
    // Data coding / message class group: bit 2 = 0 GSM7, 1 = 8-bit data; bits 1-0 = class.
    return (v & 0x04) === 0
      ? { alphabet: 'gsm7', messageClass: v & 0x03 }
      : { alphabet: 'binary', messageClass: v & 0x03 };
  }
  if (v >= 0xc0 && v <= 0xdf) return { alphabet: 'gsm7' }; // MWI discard / store, GSM7
  if (v >= 0xe0 && v <= 0xef) return { alphabet: 'ucs2' }; // MWI store, UCS2
  return { alphabet: 'binary', unknown: true }; // 0x40-0xBF: auto-deletion / reserved groups
}

export interface DecodeTextOptions {
  /** GSM7 payload is 7-bit packed (only when agreed with the peer; SMPP default is unpacked). */
  packed?: boolean;
}

/**
 * Bytes (without UDH) -> text for the given data_coding. Never throws. Binary and unknown schemes decode
 * one byte per character (latin1), which is lossless but not meaningful: check `dataCodingInfo` first.
 */
export function decodeText(bytes: Uint8Array, dataCoding: number, options: DecodeTextOptions = {}): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dataCodingInfo(dataCoding).alphabet) {
    case 'gsm7':
      return decodeGsm7(options.packed ? unpackSeptets(buf) : buf);
    case 'ascii': {
      let s = '';
      for (const b of buf) s += String.fromCharCode(b & 0x7f);
      return s;
    }
    case 'ucs2':
      return decodeUcs2(buf);
    case 'latin1':
    case 'binary':
      return buf.toString('latin1');
  }
}

/** UTF-16BE -> string; a trailing odd byte is dropped. Surrogate pairs come back as one code point. */
export function decodeUcs2(buf: Uint8Array): string {
  const even = buf.byteLength & ~1;
  const copy = Buffer.from(buf.subarray(0, even));
  copy.swap16();
  return copy.toString('utf16le');
}

/** string -> UTF-16BE (surrogate pairs are two code units, kept together). */
export function encodeUcs2(text: string): Buffer {
  const b = Buffer.from(text, 'utf16le');
  b.swap16();
  return b;
}

export function canEncodeLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

export function canEncodeAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

export interface EncodedText {
  dataCoding: number;
  alphabet: Exclude<Alphabet, 'binary'>;
  bytes: Buffer;
}

export interface EncodeTextOptions {
  /** GSM7 output packed 7-bit instead of one septet per octet. */
  packed?: boolean;
}

/**
 * Text -> bytes + data_coding. Uses `preferred` when the text fits it, else GSM7 (0x00) when possible,
 * else UCS2 (0x08). Never lets node-smpp pick (it labels GSM as 0x01).
 */
export function encodeText(
  text: string,
  preferred?: Exclude<Alphabet, 'binary'>,
  options: EncodeTextOptions = {},
): EncodedText {
  if (preferred === 'ucs2') return { dataCoding: DataCoding.UCS2, alphabet: 'ucs2', bytes: encodeUcs2(text) };
  if (preferred === 'latin1' && canEncodeLatin1(text)) {
    return { dataCoding: DataCoding.LATIN1, alphabet: 'latin1', bytes: Buffer.from(text, 'latin1') };
  }
  if (preferred === 'ascii' && canEncodeAscii(text)) {
    return { dataCoding: DataCoding.IA5, alphabet: 'ascii', bytes: Buffer.from(text, 'latin1') };
  }
  if (canEncodeGsm7(text)) {
    const septets = encodeGsm7(text);
    return {
      dataCoding: DataCoding.SMSC_DEFAULT,
      alphabet: 'gsm7',
      bytes: options.packed ? packSeptets(septets) : septets,
    };
  }
  return { dataCoding: DataCoding.UCS2, alphabet: 'ucs2', bytes: encodeUcs2(text) };
}
