import { describe, expect, it } from 'vitest';
import { buildUdh, concatElement, findConcat, parseUdh } from './udh.js';

describe('UDH', () => {
  it('builds the 8-bit and 16-bit concatenation headers', () => {
    expect(buildUdh([concatElement({ refBits: 8, ref: 0x42, total: 3, seq: 1 })]).toString('hex')).toBe(
      '050003420301',
    );
    expect(buildUdh([concatElement({ refBits: 16, ref: 0x1234, total: 2, seq: 2 })]).toString('hex')).toBe(
      '06080412340202',
    );
  });

  it('parses IEs and the payload after the UDH', () => {
    const msg = Buffer.from('0500034203014869', 'hex');
    const r = parseUdh(msg);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.udhLength).toBe(6);
    expect(r.payload.toString()).toBe('Hi');
    expect(findConcat(r.elements)).toEqual({ refBits: 8, ref: 0x42, total: 3, seq: 1 });
    const r16 = parseUdh(Buffer.from('0608041234020241', 'hex'));
    expect(r16.ok && findConcat(r16.elements)).toEqual({ refBits: 16, ref: 0x1234, total: 2, seq: 2 });
  });

  it('reports malformed headers instead of throwing', () => {
    expect(parseUdh(Buffer.alloc(0)).ok).toBe(false);
    expect(parseUdh(Buffer.from('0a0003', 'hex')).ok).toBe(false);
    expect(parseUdh(Buffer.from('03000542', 'hex')).ok).toBe(false);
    expect(parseUdh(Buffer.from('0100', 'hex')).ok).toBe(false);
  });

  it('keeps other IEs (e.g. national language shift 0x25)', () => {
    const udh = buildUdh([
      { iei: 0x25, data: Buffer.from([0x02]) },
      concatElement({ refBits: 8, ref: 1, total: 2, seq: 1 }),
    ]);
    const r = parseUdh(Buffer.concat([udh, Buffer.from('x')]));
    expect(r.ok && r.elements.map((e) => e.iei)).toEqual([0x25, 0x00]);
  });
});
