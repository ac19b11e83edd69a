import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PrefixCsvError, PrefixTable, parsePrefixCsv } from './prefix-table.js';

describe('PrefixTable', () => {
  const table = new PrefixTable([
    { prefix: '44', country: 'GB', mcc: '234', mnc: '00', operator: 'UK default' },
    { prefix: '447', country: 'GB', mcc: '234', mnc: '10', operator: 'O2' },
    { prefix: '4474', country: 'GB', mcc: '234', mnc: '15', operator: 'Vodafone' },
    { prefix: '44740', country: 'GB', mcc: '234', mnc: '30', operator: 'EE' },
  ]);

  it('picks the longest matching prefix', () => {
    expect(table.lookup('+447400123456')?.mccMnc).toBe('234-30');
    expect(table.lookup('+447410123456')?.mccMnc).toBe('234-15');
    expect(table.lookup('447512345678')?.mccMnc).toBe('234-10');
    expect(table.lookup('+442071234567')?.operator).toBe('UK default');
    expect(table.lookup('+4915123456789')).toBeUndefined();
  });

  it('handles 100,000 prefixes', () => {
    const entries = [];
    for (let i = 0; i < 100_000; i++) {
      entries.push({
        prefix: String(2_000_000 + i * 13),
        country: 'ZZ',
        mcc: '999',
        mnc: String(i % 100).padStart(2, '0'),
        operator: `op${i}`,
      });
    }
    const big = new PrefixTable(entries);
    expect(big.size).toBe(100_000);
    expect(big.lookup(`+${2_000_000 + 77_777 * 13}12345`)?.operator).toBe('op77777');
  });
});

describe('parsePrefixCsv', () => {
  it('reads rows, skips comments, header and blank lines, unquotes fields', () => {
    const rows = parsePrefixCsv(
      '# comment\nprefix,country,mcc,mnc,operator\n\n447,gb,234,10,"O2, UK"\n4915,DE,262,01,"Telekom ""T"""\n',
    );
    expect(rows).toEqual([
      { prefix: '447', country: 'GB', mcc: '234', mnc: '10', operator: 'O2, UK' },
      { prefix: '4915', country: 'DE', mcc: '262', mnc: '01', operator: 'Telekom "T"' },
    ]);
  });

  it('reports every bad line with its number', () => {
    let err: unknown;
    try {
      parsePrefixCsv(
        'prefix,country,mcc,mnc,operator\n447,GB,234,10,O2\nx47,GB,234,10,O2\n448,GBR,23,1,EE\n447,GB,234,15,Dup\n449,GB,234\n450,GB,234,10,"open\n',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PrefixCsvError);
    const problems = (err as PrefixCsvError).problems;
    expect(problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7]);
    expect(problems[0]?.message).toMatch(/prefix "x47"/);
    expect(problems[1]?.message).toMatch(/country.*mcc.*mnc/);
    expect(problems[2]?.message).toMatch(/already defined on line 2/);
    expect(problems[3]?.message).toMatch(/expected 5 fields/);
    expect(problems[4]?.message).toMatch(/unterminated/);
    expect((err as Error).message).toContain('line 3:');
  });

  it('loads the shipped sample table', () => {
    const text = readFileSync(new URL('../../data/sample-prefixes.csv', import.meta.url), 'utf8');
    const table = new PrefixTable(parsePrefixCsv(text));
    expect(table.lookup('+447400123456')?.mcc).toBe('234');
    expect(table.lookup('+4915123456789')?.mccMnc).toBe('262-01');
    expect(table.lookup('+2348031234567')?.country).toBe('NG');
  });
});
