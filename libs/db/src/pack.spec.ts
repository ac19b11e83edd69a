import { describe, expect, it } from 'vitest';
import { packBytes } from './pack.js';

describe('packBytes', () => {
  it('concatenates the values with 1-based starts and lengths, null for a missing value', () => {
    const p = packBytes([Buffer.from('abc'), null, new Uint8Array([1, 2]), Buffer.alloc(0)]);
    expect(p.bytes).toEqual(Buffer.from([0x61, 0x62, 0x63, 1, 2]));
    expect(p.starts).toEqual([1, null, 4, 6]);
    expect(p.lengths).toEqual([3, null, 2, 0]);
  });
});
