import { describe, expect, it } from 'vitest';
import {
  canEncodeGsm7,
  decodeGsm7,
  encodeGsm7,
  gsm7CharSeptets,
  gsm7SeptetLength,
  packSeptets,
  unpackSeptets,
} from './gsm7.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

describe('GSM 03.38', () => {
  it('packs "Hello world" to the fiorix/go-smpp vector', () => {
    expect(hex(packSeptets(encodeGsm7('Hello world')))).toBe('C8329BFD06DDDF723619');
  });

  it('packs "hellohello" to the classic 3GPP example and back', () => {
    const packed = packSeptets(encodeGsm7('hellohello'));
    expect(hex(packed)).toBe('E8329BFD4697D9EC37');
    expect(decodeGsm7(unpackSeptets(packed))).toBe('hellohello');
  });

  it('maps the default alphabet by position', () => {
    expect([...encodeGsm7('@£$¥ΔÆ¡§¿àA')]).toEqual([
      0x00, 0x01, 0x02, 0x03, 0x10, 0x1c, 0x40, 0x5f, 0x60, 0x7f, 0x41,
    ]);
  });

  it('escapes extension characters and counts them as two septets', () => {
    expect([...encodeGsm7('€[]{}^~|\\\f')]).toEqual([
      0x1b, 0x65, 0x1b, 0x3c, 0x1b, 0x3e, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x14, 0x1b, 0x3d, 0x1b, 0x40, 0x1b,
      0x2f, 0x1b, 0x0a,
    ]);
    expect(gsm7SeptetLength('a€')).toBe(3);
    expect(gsm7SeptetLength('Hello')).toBe(5);
    expect(gsm7SeptetLength('привет')).toBe(-1);
  });

  it('round-trips every encodable character unpacked and packed', () => {
    const all =
      '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà€[]{}^~|\\';
    expect(decodeGsm7(encodeGsm7(all))).toBe(all);
    const septets = encodeGsm7(all);
    expect(decodeGsm7(unpackSeptets(packSeptets(septets), septets.length))).toBe(all);
  });

  it('tells encodable text apart', () => {
    expect(canEncodeGsm7('Hello {world} €5')).toBe(true);
    expect(canEncodeGsm7('ç')).toBe(false); // only capital Ç is in the table
    expect(canEncodeGsm7('😀')).toBe(false);
    expect(canEncodeGsm7('')).toBe(true);
  });

  it('throws on non-GSM characters unless a replacement is given', () => {
    expect(() => encodeGsm7('a😀')).toThrow(RangeError);
    expect(decodeGsm7(encodeGsm7('a😀b', { replacement: '?' }))).toBe('a?b');
  });

  it('decodes an unknown escape as the base character and drops a trailing escape', () => {
    expect(decodeGsm7(Buffer.from([0x1b, 0x41, 0x42, 0x1b]))).toBe('AB');
  });

  it('packs with fill bits after a UDH and unpacks with the same offset', () => {
    const septets = encodeGsm7('Hi there');
    const packed = packSeptets(septets, 1);
    expect(decodeGsm7(unpackSeptets(packed, septets.length, 1))).toBe('Hi there');
  });

  it('drops the padding septet when 7 septets fill 7 octets exactly', () => {
    const packed = packSeptets(encodeGsm7('1234567'));
    expect(packed.length).toBe(7);
    expect(decodeGsm7(unpackSeptets(packed))).toBe('1234567');
  });
});

// The Map-per-character implementation the lookup tables replaced (session 11), as the reference.
const REF_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const REF_EXT: Array<[number, string]> = [
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
const refBasic = new Map<string, number>();
for (let i = 0; i < REF_BASIC.length; i++) if (i !== 0x1b) refBasic.set(REF_BASIC[i]!, i);
const refExt = new Map<string, number>(REF_EXT.map(([c, ch]) => [ch, c]));
const refExtDecode = new Map<number, string>(REF_EXT);
const ref = {
  can(text: string): boolean {
    for (const ch of text) if (!refBasic.has(ch) && !refExt.has(ch)) return false;
    return true;
  },
  length(text: string): number {
    let n = 0;
    for (const ch of text) {
      if (refBasic.has(ch)) n += 1;
      else if (refExt.has(ch)) n += 2;
      else return -1;
    }
    return n;
  },
  char(ch: string): number {
    return refBasic.has(ch) ? 1 : refExt.has(ch) ? 2 : -1;
  },
  encode(text: string, replacement?: string): Buffer {
    const out: number[] = [];
    for (const ch of text) {
      const b = refBasic.get(ch);
      if (b !== undefined) {
        out.push(b);
        continue;
      }
      const e = refExt.get(ch);
      if (e !== undefined) {
        out.push(0x1b, e);
        continue;
      }
      if (replacement === undefined)
        throw new RangeError(
          `character U+${ch.codePointAt(0)?.toString(16).padStart(4, '0')} is not in GSM 03.38`,
        );
      out.push(refBasic.get(replacement) ?? 0x3f);
    }
    return Buffer.from(out);
  },
  decode(septets: Uint8Array): string {
    let s = '';
    for (let i = 0; i < septets.length; i++) {
      const v = septets[i]! & 0x7f;
      if (v === 0x1b) {
        if (i + 1 >= septets.length) break;
        const next = septets[++i]! & 0x7f;
        const ext = refExtDecode.get(next);
        if (ext !== undefined) s += ext;
        else if (next === 0x1b) s += ' ';
        else s += REF_BASIC[next]!;
        continue;
      }
      s += REF_BASIC[v]!;
    }
    return s;
  },
};

function outcome<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

/** Compares the two implementations on `text`; a mismatch is described, else ''. */
function differs(text: string): string {
  const pairs: Array<[string, unknown, unknown]> = [
    ['can', canEncodeGsm7(text), ref.can(text)],
    ['length', gsm7SeptetLength(text), ref.length(text)],
    ['encode', outcome(() => encodeGsm7(text)), outcome(() => ref.encode(text))],
  ];
  for (const r of ['?', ' ', '€', 'ab', ''])
    pairs.push([`encode/${r}`, encodeGsm7(text, { replacement: r }), ref.encode(text, r)]);
  for (const ch of text) pairs.push([`char ${ch}`, gsm7CharSeptets(ch), ref.char(ch)]);
  for (const [what, got, want] of pairs) {
    const same = Buffer.isBuffer(got) && Buffer.isBuffer(want) ? got.equals(want) : got === want;
    if (!same) return `${what} of ${JSON.stringify(text)}: ${String(got)} != ${String(want)}`;
  }
  return '';
}

describe('GSM 03.38 lookup tables: the same answers as the Map-per-character implementation', () => {
  it('for every UTF-16 code unit on its own, after a letter and before an extension character', () => {
    const bad: string[] = [];
    for (let c = 0; c <= 0xffff && bad.length < 5; c++) {
      const ch = String.fromCharCode(c);
      for (const text of [ch, `a${ch}`, `${ch}€`]) {
        const d = differs(text);
        if (d) bad.push(d);
      }
    }
    expect(bad).toEqual([]);
  }, 60_000);

  it('for surrogate pairs, lone surrogates, replacements and random mixes (seeded)', () => {
    let seed = Number(process.env['SMPP_GSM7_SEED'] ?? 17);
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pool = [
      ...REF_BASIC,
      ...REF_EXT.map(([, ch]) => ch),
      'ç',
      'Ж',
      '😀',
      '𝄞',
      '\ud800',
      '\udc00',
      '\u20ac',
    ];
    const bad: string[] = [];
    for (let k = 0; k < 20_000 && bad.length < 5; k++) {
      let text = '';
      const len = rnd(40);
      for (let i = 0; i < len; i++) text += pool[rnd(pool.length)]!;
      const d = differs(text);
      if (d) bad.push(d);
      const bytes = Buffer.from(Array.from({ length: rnd(60) }, () => rnd(256)));
      if (decodeGsm7(bytes) !== ref.decode(bytes)) bad.push(`decode ${bytes.toString('hex')}`);
    }
    expect(bad).toEqual([]);
  }, 60_000);

  it('decodes every septet pair and a long message_payload-sized text', () => {
    const bad: string[] = [];
    for (let a = 0; a < 256; a++)
      for (let b = 0; b < 256; b++) {
        const bytes = Uint8Array.of(a, b);
        if (decodeGsm7(bytes) !== ref.decode(bytes)) bad.push(`${a} ${b}`);
      }
    expect(bad).toEqual([]);
    const long = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 31) & 0xff));
    expect(decodeGsm7(long)).toBe(ref.decode(long));
    expect(encodeGsm7(decodeGsm7(long), { replacement: '?' })).toEqual(ref.encode(ref.decode(long), '?'));
  });

  it('returns a Buffer of exactly the septets', () => {
    const b = encodeGsm7('Hello €');
    expect(Buffer.isBuffer(b)).toBe(true);
    expect([...b]).toEqual([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x1b, 0x65]);
  });
});
