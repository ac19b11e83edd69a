import { describe, expect, it } from 'vitest';
import {
  decodeNetworkErrorCode,
  encodeNetworkErrorCode,
  formatReceipt,
  isFinalStat,
  messageStateToStat,
  parseReceipt,
  parseReceiptDate,
  RECEIPT_STATS,
  normalizeMessageId,
  statToMessageState,
} from './receipt.js';

/** parseReceiptDate as it was (one regular expression): the reference for the digit-by-digit one. */
function referenceDate(raw: string): Date | undefined {
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(raw);
  if (!m) return undefined;
  const [yy, mo, dd, hh, mi, ss] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as number[];
  if (mo! < 1 || mo! > 12 || dd! < 1 || dd! > 31 || hh! > 23 || mi! > 59 || ss! > 59) return undefined;
  const d = new Date(Date.UTC(2000 + yy!, mo! - 1, dd!, hh!, mi!, ss!));
  return d.getUTCDate() === dd ? d : undefined;
}

/** A small seeded generator (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('receipt text in the common format (read by position)', () => {
  const rnd = random(17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const canonical = (): string =>
    formatReceipt({
      id: pick(['1a2b3c', '00000000001a2b3c', '0123456789', 'X-9_z', 'id:5', 'é€']),
      sub: pick([0, 1, 2, 12, 999]),
      dlvrd: pick([0, 1, 3]),
      submitDate: new Date(Date.UTC(2000, 0, 1) + Math.floor(rnd() * 3.1e12)),
      doneDate: new Date(Date.UTC(2000, 0, 1) + Math.floor(rnd() * 3.1e12)),
      stat: pick(RECEIPT_STATS),
      err: pick([0, 1, 12, 'A1', '000']),
      text: pick(['', 'Hello world', ' lead', 'stat:FAKE id:2 err:9', 'text:x', 'tab\there', 'tail  ']),
      dateDigits: pick([10, 12] as const),
    });
  // Edits that take a text out of the exact format, or keep it in the format with a value it must refuse.
  const mutations: Array<(s: string) => string> = [
    (s) => s,
    (s) => s.replace('stat:', 'Stat:'),
    (s) => s.replace(' sub:', '  sub:'),
    (s) => s.replace(' err:', ' err :'),
    (s) => s.replace(/stat:\w+/, 'stat:FOO'),
    (s) => s.replace(/stat:\w+/, 'stat:delivrd'),
    (s) => s.replace(/sub:\d+/, 'sub:0x1'),
    (s) => s.replace(/dlvrd:\d+/, 'dlvrd:'),
    // digits past a double's range: the general parser refuses them (not Infinity)
    (s) => s.replace(/sub:\d+/, `sub:1${'0'.repeat(400)}`),
    (s) => s.replace(/dlvrd:\d+/, `dlvrd:9${'9'.repeat(400)}`),
    (s) => s.replace(/^id:\S+/, 'id:'),
    (s) => s.replace(/^id:\S+/, 'id:a b'),
    (s) => s.replace(/^id:\S+/, 'id:a\u00a0b'),
    (s) => s.replace(/submit date:\d+/, 'submit date:2602310000'),
    (s) => s.replace(/done date:\d+/, 'done date:2613010000'),
    (s) => s.replace(/done date:\d+/, 'done date:26010100001'),
    (s) => s.replace(/submit date:(\d+)/, 'submit date:$1 '),
    (s) => s.replace(' text:', ' Text:'),
    (s) => s.replace(/ text:.*$/, ''),
    (s) => s.replace(' dlvrd:', ' sub:'),
    (s) => `${s.replace(/ err:\S+/, '')} err:1`,
    (s) => s.replace('id:', 'id :'),
    (s) => `\t${s}`,
  ];

  it('reads every text as the general parser does (a leading space sends a text to the general parser)', () => {
    let ok = 0;
    for (let i = 0; i < 600; i++) {
      const base = canonical();
      for (const mutate of mutations) {
        const s = mutate(base);
        const r = parseReceipt(s);
        expect(r, s).toEqual(parseReceipt(` ${s}`));
        if (r.ok && s === base) ok++;
      }
    }
    expect(ok).toBe(600);
  });

  it('reads a date digit by digit as the regular expression did', () => {
    const chars = '0123456789012345678901234567890123456789x /';
    for (let i = 0; i < 20_000; i++) {
      const len = pick([9, 10, 10, 10, 11, 12, 12, 12, 13]);
      const raw = Array.from({ length: len }, () => pick([...chars])).join('');
      expect(parseReceiptDate(raw), raw).toEqual(referenceDate(raw));
    }
    for (const raw of [
      '2602290000',
      '2402290000',
      '0001010000',
      '9912312359',
      '991231235959',
      '2604310000',
      '2601011260',
    ])
      expect(parseReceiptDate(raw), raw).toEqual(referenceDate(raw));
  });
});

describe('delivery receipt text', () => {
  it('parses the cloudhopper DeliveryReceiptTest sample (capitalised Text:)', () => {
    const r = parseReceipt(
      'id:0123456789 sub:002 dlvrd:001 submit date:1005232039 done date:1005242339 stat:DELIVRD err:012 Text:This is a sample mes',
    );
    expect(r).toMatchObject({
      ok: true,
      id: '0123456789',
      sub: 2,
      dlvrd: 1,
      stat: 'DELIVRD',
      err: '012',
      text: 'This is a sample mes',
    });
    expect(r.submitDate?.toISOString()).toBe('2010-05-23T20:39:00.000Z');
    expect(r.doneDate?.toISOString()).toBe('2010-05-24T23:39:00.000Z');
    expect(r.problems).toEqual([]);
  });

  it('accepts 12-digit dates, extra spaces, missing text and lower-case stat', () => {
    const r = parseReceipt(
      'id:abc123  sub:1  dlvrd:0 submit date:240131235959   done date:240201000001 stat:undeliv err:34',
    );
    expect(r).toMatchObject({ ok: true, id: 'abc123', sub: 1, dlvrd: 0, stat: 'UNDELIV', err: '34' });
    expect(r.text).toBeUndefined();
    expect(r.doneDate?.toISOString()).toBe('2024-02-01T00:00:01.000Z');
  });

  it('keeps a text that itself contains key-like words', () => {
    const r = parseReceipt(
      'id:1 sub:001 dlvrd:001 submit date:2401010000 done date:2401010001 stat:DELIVRD err:000 text:stat:FAKE id:2',
    );
    expect(r).toMatchObject({ ok: true, id: '1', stat: 'DELIVRD', text: 'stat:FAKE id:2' });
  });

  it('returns ok:false with what it found for garbage and partial input, never throwing', () => {
    expect(parseReceipt('')).toMatchObject({ ok: false });
    expect(parseReceipt('hello world').ok).toBe(false);
    const partial = parseReceipt('id:77 submit date:99999 stat:WHATEVER');
    expect(partial).toMatchObject({ ok: false, id: '77', statRaw: 'WHATEVER' });
    expect(partial.problems.length).toBeGreaterThan(0);
    expect(parseReceipt(Buffer.from([0xff, 0x00, 0x3a, 0x1b])).ok).toBe(false);
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.from(Array.from({ length: 60 }, (_, k) => (k * 7919 + i * 104729) % 256));
      expect(() => parseReceipt(junk)).not.toThrow();
    }
  });

  it('reads receipts from message_payload bytes', () => {
    const payload = Buffer.from(
      'id:XYZ sub:001 dlvrd:000 submit date:2312312359 done date:2401010000 stat:EXPIRED err:000 text:',
      'latin1',
    );
    expect(parseReceipt(payload)).toMatchObject({ ok: true, id: 'XYZ', stat: 'EXPIRED', text: '' });
  });

  it('formats what it parses', () => {
    const text = formatReceipt({
      id: '4F2A',
      submitDate: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      doneDate: new Date(Date.UTC(2024, 0, 2, 3, 5, 6)),
      stat: 'DELIVRD',
      text: 'Hello there, this is longer than twenty',
    });
    expect(text).toBe(
      'id:4F2A sub:001 dlvrd:001 submit date:2401020304 done date:2401020305 stat:DELIVRD err:000 text:Hello there, this is',
    );
    const twelve = formatReceipt({
      id: '1',
      submitDate: new Date(0),
      doneDate: new Date(Date.UTC(2024, 0, 2, 3, 5, 6)),
      stat: 'REJECTD',
      err: 7,
      dateDigits: 12,
    });
    expect(parseReceipt(twelve)).toMatchObject({ ok: true, stat: 'REJECTD', err: '007', dlvrd: 0 });
    expect(parseReceipt(twelve).doneDate?.getUTCSeconds()).toBe(6);
  });

  it('maps stat to message_state (TLV 0x0427) both ways', () => {
    expect(statToMessageState('DELIVRD')).toBe(2);
    expect(statToMessageState('REJECTD')).toBe(8);
    expect(statToMessageState('ENROUTE')).toBe(1);
    expect(messageStateToStat(5)).toBe('UNDELIV');
    expect(messageStateToStat(42)).toBeUndefined();
  });

  it('encodes network_error_code (0x0423) as 3 octets', () => {
    expect(encodeNetworkErrorCode({ networkType: 3, errorCode: 0x0101 }).toString('hex')).toBe('030101');
    expect(decodeNetworkErrorCode(Buffer.from('030022', 'hex'))).toEqual({ networkType: 3, errorCode: 0x22 });
    expect(decodeNetworkErrorCode(Buffer.from('03', 'hex'))).toBeUndefined();
  });
});

describe('message id normalisation', () => {
  it('matches a hex id with its decimal twin, ignoring case and zero padding', () => {
    expect(normalizeMessageId('0000ABCDEF', 'hex')).toBe('11259375');
    expect(normalizeMessageId('11259375', 'dec')).toBe('11259375');
    expect(normalizeMessageId('00abcdef', 'hex')).toBe(normalizeMessageId('0011259375', 'dec'));
    expect(normalizeMessageId(' 00Ab-1 ')).toBe('ab-1');
    expect(normalizeMessageId('000')).toBe('0');
    expect(normalizeMessageId('not-hex', 'hex')).toBe('not-hex');
    expect(normalizeMessageId('ffffffffffffffffffff', 'hex')).toBe('1208925819614629174706175');
  });
});

describe('final stats', () => {
  it('UNKNOWN ends a message (SMPP 3.4 message_state 7); ENROUTE and ACCEPTD do not', () => {
    expect(isFinalStat('UNKNOWN')).toBe(true);
    expect(isFinalStat('DELIVRD')).toBe(true);
    expect(isFinalStat('UNDELIV')).toBe(true);
    expect(isFinalStat('REJECTD')).toBe(true);
    expect(isFinalStat('ENROUTE')).toBe(false);
    expect(isFinalStat('ACCEPTD')).toBe(false);
  });
});
