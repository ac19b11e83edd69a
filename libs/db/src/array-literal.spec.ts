import { describe, expect, it } from 'vitest';
import { arrayLiteral, arrayLiteralOf } from './array-literal.js';

// The texts themselves; test/array-literal.test.ts has PostgreSQL read them back.
describe('arrayLiteral', () => {
  it('writes numbers, bigints, booleans, NULLs and Dates bare', () => {
    expect(arrayLiteralOf([])).toBe('{}');
    expect(arrayLiteralOf([1, 2.5, -3, 10n, null, undefined])).toBe('{1,2.5,-3,10,NULL,NULL}');
    expect(arrayLiteralOf([true, false])).toBe('{t,f}');
    expect(arrayLiteralOf([new Date(Date.UTC(2026, 0, 1)), null])).toBe('{2026-01-01T00:00:00.000Z,NULL}');
  });

  it('quotes every string, escaping quotes and backslashes only', () => {
    expect(arrayLiteralOf(['01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f', 'con_a|n:42'])).toBe(
      '{"01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f","con_a|n:42"}',
    );
    // empty, NULL in any case, spaces, separators, braces, quotes and backslashes stay text
    expect(
      arrayLiteralOf(['', 'NULL', 'null', 'Null', 'nulls', 'a b', ' a', 'a,b', '{x}', 'say "hi"', 'c:\\x']),
    ).toBe('{"","NULL","null","Null","nulls","a b"," a","a,b","{x}","say \\"hi\\"","c:\\\\x"}');
    expect(arrayLiteralOf(['é€', 'tab\tin'])).toBe('{"é€","tab\tin"}');
  });

  it('quotes the strings before the first one that needs escaping or a non-string, as it quotes the rest', () => {
    expect(arrayLiteralOf(['a', 'b c', 'say "hi"', 'd'])).toBe('{"a","b c","say \\"hi\\"","d"}');
    expect(arrayLiteralOf(['a', '', null, 'b'])).toBe('{"a","",NULL,"b"}');
    expect(arrayLiteralOf(['a', 'b', 7])).toBe('{"a","b",7}');
    expect(arrayLiteralOf(['x\\y', 'a'])).toBe('{"x\\\\y","a"}');
    expect(arrayLiteralOf([null, 'a'])).toBe('{NULL,"a"}');
    expect(arrayLiteralOf([''])).toBe('{""}');
  });

  it('takes column values through the getter, in order', () => {
    const rows = [
      ['a', 1],
      ['b', null],
    ];
    expect(arrayLiteral(rows, (r) => r[0])).toBe('{"a","b"}');
    expect(arrayLiteral(rows, (r) => r[1])).toBe('{1,NULL}');
  });

  it('refuses values it cannot write', () => {
    expect(() => arrayLiteralOf([{} as unknown as string])).toThrow(/unsupported element of type object/);
  });
});
