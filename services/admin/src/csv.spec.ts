import { describe, expect, it } from 'vitest';
import { parseCsv, parseDecimal, parseTime } from './csv.js';

describe('parseCsv', () => {
  it('reads quoted fields, CRLF and blank lines, keeping each record line number', () => {
    const f = parseCsv(Buffer.from('\ufeffA,B\r\n1,"x, ""y"""\r\n\r\n2,"multi\nline"\n3,z\n'), ['a', 'b']);
    expect(f.header).toEqual(['a', 'b']);
    expect(f.records.map((r) => [r.line, r.values['a'], r.values['b']])).toEqual([
      [2, '1', 'x, "y"'],
      [4, '2', 'multi\nline'],
      [6, '3', 'z'],
    ]);
  });

  it('reports an unterminated quote and refuses a wrong header or non-UTF-8 bytes', () => {
    expect(parseCsv(Buffer.from('a\n"open\n'), ['a']).errors).toEqual([
      { line: 2, message: 'unterminated quoted field' },
    ]);
    expect(() => parseCsv(Buffer.from('a,c\n'), ['a', 'b'])).toThrow(/csv: header \(line 1\) lacks b/);
    expect(() => parseCsv(Buffer.from('a,zz\n'), ['a'])).toThrow(/unknown column zz/);
    expect(() => parseCsv(Buffer.from([0x61, 0xff, 0x0a]), ['a'])).toThrow(/UTF-8/);
  });
});

describe('decimal and time fields', () => {
  it('keeps decimal prices exact', () => {
    expect(parseDecimal('0.00345')).toEqual({ amount: 345n, scale: 5 });
    expect(parseDecimal('12')).toEqual({ amount: 12n, scale: 0 });
    expect(parseDecimal('-1')).toBeUndefined();
    expect(parseDecimal('1e3')).toBeUndefined();
  });

  it('requires RFC 3339 times with a zone', () => {
    expect(parseTime('2026-01-01T00:00:00Z')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTime('2026-01-01T02:00:00+02:00')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTime('2026-01-01')).toBeUndefined();
    expect(parseTime('2026-13-01T00:00:00Z')).toBeUndefined();
  });
});
