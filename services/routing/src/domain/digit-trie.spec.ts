import { describe, expect, it } from 'vitest';
import { DigitTrie } from './digit-trie.js';

describe('DigitTrie', () => {
  it('finds the longest stored prefix', () => {
    const t = new DigitTrie<string>(4);
    t.set('44', 'uk');
    t.set('447', 'uk-mobile');
    t.set('4477', 'uk-77');
    expect(t.longest('447700900123')).toEqual({ value: 'uk-77', length: 4 });
    expect(t.longest('447800900123')).toEqual({ value: 'uk-mobile', length: 3 });
    expect(t.longest('442071234567')).toEqual({ value: 'uk', length: 2 });
    expect(t.longest('33612345678')).toBeUndefined();
  });

  it('grows past its initial size and keeps exact lookups', () => {
    const t = new DigitTrie<number>(1);
    for (let i = 0; i < 5000; i++) t.set(String(100000 + i * 7), i);
    t.compact();
    expect(t.size).toBe(5000);
    expect(t.get(String(100000 + 4999 * 7))).toBe(4999);
    expect(t.get('1000')).toBeUndefined();
  });

  it('visits every prefix along the path, shortest first, and merges duplicates', () => {
    const t = new DigitTrie<string[]>();
    t.set('4', ['a']);
    t.set('447', ['b']);
    t.set('447', ['c'], (x, y) => [...x, ...y]);
    const seen: Array<[string[], number]> = [];
    t.forEachPrefixOf('4479', (v, len) => seen.push([v, len]));
    expect(seen).toEqual([
      [['a'], 1],
      [['b', 'c'], 3],
    ]);
  });

  it('rejects non-digit prefixes', () => {
    expect(() => new DigitTrie<number>().set('+44', 1)).toThrow(RangeError);
  });
});
