import { describe, expect, it } from 'vitest';
import { parseReceiptDate, parseReceiptText, receiptTextId } from './receipt-text.js';

describe('parseReceiptText', () => {
  it('parses the Appendix B layout', () => {
    const r = parseReceiptText(
      'id:0123456789 sub:001 dlvrd:001 submit date:2311221530 done date:2311221531 stat:DELIVRD err:000 text:Hello: world',
    );
    expect(r).toEqual({
      id: '0123456789',
      sub: '001',
      dlvrd: '001',
      submitDate: Date.UTC(2023, 10, 22, 15, 30),
      doneDate: Date.UTC(2023, 10, 22, 15, 31),
      stat: 'DELIVRD',
      err: '000',
      text: 'Hello: world',
    });
  });

  it('accepts 12-digit dates, capitalised keys, missing text and other key orders', () => {
    const r = parseReceiptText('stat:UNDELIV ID:660268 Done Date:231122153045 err:34');
    expect(r.id).toBe('660268');
    expect(r.stat).toBe('UNDELIV');
    expect(r.err).toBe('34');
    expect(r.doneDate).toBe(Date.UTC(2023, 10, 22, 15, 30, 45));
    expect(r.text).toBeUndefined();
  });

  it('does not read keys inside the message text', () => {
    const r = parseReceiptText('id:1 stat:DELIVRD err:0 Text:stat:REJECTD id:2');
    expect(r.id).toBe('1');
    expect(r.stat).toBe('DELIVRD');
    expect(r.text).toBe('stat:REJECTD id:2');
  });

  it('returns nothing useful for unrelated text', () => {
    expect(parseReceiptText('hello there')).toEqual({});
  });
});

describe('parseReceiptDate', () => {
  it('rejects malformed and impossible dates', () => {
    expect(parseReceiptDate('2302311200')).toBeUndefined(); // 31 Feb
    expect(parseReceiptDate('23112215')).toBeUndefined();
    expect(parseReceiptDate('2311222460')).toBeUndefined();
  });
});

describe('receipt dates in a supplier time zone', () => {
  it('converts wall-clock dates in summer and winter time', () => {
    expect(parseReceiptDate('2607011200', 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 1, 10, 0)); // CEST, +2
    expect(parseReceiptDate('2601011200', 'Europe/Berlin')).toBe(Date.UTC(2026, 0, 1, 11, 0)); // CET, +1
    expect(parseReceiptDate('2601011200', 'America/New_York')).toBe(Date.UTC(2026, 0, 1, 17, 0)); // EST, -5
    expect(parseReceiptText('id:1 done date:2607011200 stat:DELIVRD', 'Asia/Kolkata').doneDate).toBe(
      Date.UTC(2026, 6, 1, 6, 30),
    );
  });
});

describe('receiptTextId', () => {
  it('gives the id of the text just parsed and of any other text, and none when there is none', () => {
    const a = 'id:abc123 stat:DELIVRD err:000 text:hi';
    const b = 'ID:XYZ stat:UNDELIV';
    expect(parseReceiptText(a).stat).toBe('DELIVRD');
    expect(receiptTextId(a)).toBe('abc123'); // the one just parsed
    expect(receiptTextId(b)).toBe('XYZ'); // parsed now
    expect(receiptTextId(a)).toBe('abc123'); // parsed again: b was the last
    expect(receiptTextId('stat:DELIVRD')).toBeUndefined();
    expect(receiptTextId(b)).toBe('XYZ');
  });

  it('is not answered from a text whose parse failed', () => {
    const t = 'id:first done date:2607011200 stat:DELIVRD';
    expect(() => parseReceiptText(t, 'No/Such_Zone')).toThrow();
    expect(receiptTextId(t)).toBe('first');
  });
});
