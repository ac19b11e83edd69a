import { describe, expect, it } from 'vitest';
import { DataCoding, encodeUcs2 } from '@smshub/smpp';
import { assemble, complete, textOf, userData } from './content.js';

const udh = (ref: number, total: number, seq: number) => Buffer.from([0x05, 0x00, 0x03, ref, total, seq]);

describe('MO content', () => {
  it('removes the UDH only when esm_class says there is one', () => {
    const sm = Buffer.concat([udh(7, 2, 1), Buffer.from('Hello ')]);
    expect(userData(sm, 0x40).toString()).toBe('Hello ');
    expect(userData(sm, 0).length).toBe(sm.length);
  });

  it('reassembles parts in part order, whatever order they came in', () => {
    const parts = [
      { partNumber: 2, shortMessage: Buffer.concat([udh(7, 2, 2), Buffer.from('world')]), esmClass: 0x40 },
      { partNumber: 1, shortMessage: Buffer.concat([udh(7, 2, 1), Buffer.from('Hello ')]), esmClass: 0x40 },
    ];
    expect(textOf(assemble(parts), 0)).toBe('Hello world');
  });

  it('decodes UCS2 as received and leaves binary undecoded', () => {
    expect(textOf(encodeUcs2('Привет'), DataCoding.UCS2)).toBe('Привет');
    expect(textOf(Buffer.from([1, 2, 3]), 0x04)).toBe('');
  });

  it('a group is complete when every part number 1..total is there', () => {
    expect(complete([1, 3, 2], 3)).toBe(true);
    expect(complete([1, 1, 2], 3)).toBe(false);
  });
});
