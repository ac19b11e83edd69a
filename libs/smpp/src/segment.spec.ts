import { describe, expect, it } from 'vitest';
import { decodeGsm7, unpackSeptets } from './gsm7.js';
import { segmentBinary, segmentText } from './segment.js';
import { decodeUcs2 } from './text.js';
import { findConcat, parseUdh } from './udh.js';

function textOf(parts: ReturnType<typeof segmentText>['parts'], dcs: 'gsm7' | 'ucs2'): string {
  return parts
    .map((p) => {
      const body = p.udh ? p.shortMessage.subarray(p.udh.length) : p.shortMessage;
      return dcs === 'gsm7' ? decodeGsm7(body) : decodeUcs2(body);
    })
    .join('');
}

describe('segmentation', () => {
  it('keeps 160 GSM septets in one part and splits 161 into 153 + 8', () => {
    expect(segmentText('a'.repeat(160), { method: 'udh8', reference: 1 }).parts).toHaveLength(1);
    const s = segmentText('a'.repeat(161), { method: 'udh8', reference: 7 });
    expect(s.dataCoding).toBe(0x00);
    expect(s.parts.map((p) => p.shortMessage.length - (p.udh?.length ?? 0))).toEqual([153, 8]);
    expect(s.parts.every((p) => p.udhi)).toBe(true);
    expect(s.parts[1]?.udh?.toString('hex')).toBe('050003070202');
  });

  it('never splits an escape pair', () => {
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(10);
    const s = segmentText(text, { method: 'udh8', reference: 1 });
    const first = s.parts[0]!;
    const body = first.shortMessage.subarray(first.udh!.length);
    expect(body.length).toBe(152);
    expect(body[body.length - 1]).not.toBe(0x1b);
    expect(textOf(s.parts, 'gsm7')).toBe(text);
  });

  it('splits UCS2 at 67 units and never inside a surrogate pair', () => {
    expect(segmentText('я'.repeat(70), { method: 'udh8', reference: 1 }).parts).toHaveLength(1);
    const text = 'я'.repeat(66) + '😀' + 'я'.repeat(5);
    const s = segmentText(text, { method: 'udh8', reference: 1 });
    expect(s.dataCoding).toBe(0x08);
    expect(s.parts.map((p) => (p.shortMessage.length - p.udh!.length) / 2)).toEqual([66, 7]);
    expect(textOf(s.parts, 'ucs2')).toBe(text);
  });

  it('uses 152 septets with a 16-bit reference', () => {
    const s = segmentText('x'.repeat(400), { method: 'udh16', reference: 0xbeef });
    expect(s.parts.map((p) => p.shortMessage.length - 7)).toEqual([152, 152, 96]);
    const r = parseUdh(s.parts[2]!.shortMessage);
    expect(r.ok && findConcat(r.elements)).toEqual({ refBits: 16, ref: 0xbeef, total: 3, seq: 3 });
  });

  it('gives SAR info instead of a UDH', () => {
    const s = segmentText('y'.repeat(200), { method: 'sar', reference: 300 });
    expect(s.parts.map((p) => [p.udhi, p.sar])).toEqual([
      [false, { ref: 300, total: 2, seq: 1 }],
      [false, { ref: 300, total: 2, seq: 2 }],
    ]);
    expect(s.parts[0]!.shortMessage.length).toBe(153);
  });

  it('puts everything in message_payload for the payload method', () => {
    const s = segmentText('z'.repeat(500), { method: 'payload' });
    expect(s.parts).toHaveLength(1);
    expect(s.parts[0]!.shortMessage.length).toBe(0);
    expect(s.parts[0]!.messagePayload!.length).toBe(500);
  });

  it('packs GSM7 parts with fill bits after the UDH', () => {
    const text = 'p'.repeat(170);
    const s = segmentText(text, { method: 'udh8', reference: 9, packed: true });
    const decoded = s.parts
      .map((p) => {
        const septets = unpackSeptets(p.shortMessage, undefined, 0).subarray(7); // 6-octet UDH = 7 septets incl. fill
        return decodeGsm7(septets);
      })
      .join('');
    expect(decoded).toBe(text);
    expect(s.parts[0]!.shortMessage.length).toBe(140);
  });

  it('splits binary at 134 octets (140 single)', () => {
    expect(segmentBinary(Buffer.alloc(140), { method: 'udh8', reference: 1 }).parts).toHaveLength(1);
    const s = segmentBinary(Buffer.alloc(300, 1), { method: 'udh8', reference: 1 });
    expect(s.parts.map((p) => p.shortMessage.length - 6)).toEqual([134, 134, 32]);
    expect(s.dataCoding).toBe(0x04);
  });

  it('refuses impossible requests', () => {
    expect(() => segmentText('Привет', { method: 'udh8', encoding: 'gsm7' })).toThrow(RangeError);
    expect(() => segmentText('a'.repeat(161), { method: 'udh8', reference: 256 })).toThrow(RangeError);
  });
});
