import { describe, expect, it } from 'vitest';
import {
  decodeNetworkErrorCode,
  encodeNetworkErrorCode,
  formatReceipt,
  isFinalStat,
  messageStateToStat,
  parseReceipt,
  normalizeMessageId,
  statToMessageState,
} from './receipt.js';

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
