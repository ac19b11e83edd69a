import { describe, expect, it } from 'vitest';
import { SmsDelivery } from './index.js';
import { WIRE_FALLBACK, WireReader } from './wire.js';

const bytes = (...b: number[]) => new Uint8Array(b);

/** The error a read throws (undefined when it returns). */
function thrown(read: () => unknown): unknown {
  try {
    read();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('WireReader', () => {
  it('reads varints of up to 5 bytes and delimited bytes, as the generated encoder writes them', () => {
    const encoded = SmsDelivery.encode({
      ...SmsDelivery.fromPartial({}),
      status: 7,
      connectorId: 'con_é',
    }).finish();
    const r = new WireReader(encoded);
    expect(r.varint()).toBe(16); // field 2, varint
    expect(r.varint()).toBe(7);
    expect(r.varint()).toBe(58); // field 7, bytes
    const start = r.delimited();
    expect(Buffer.from(encoded.subarray(start, r.pos)).toString('utf8')).toBe('con_é');
    expect(r.pos).toBe(r.end);
    expect(new WireReader(bytes(0xff, 0xff, 0xff, 0xff, 0x7f)).varint()).toBe(2 ** 35 - 1);
  });

  it('skips a field of each wire type (a 10-byte varint too)', () => {
    const r = new WireReader(
      bytes(
        ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // varint
        ...[1, 2, 3, 4, 5, 6, 7, 8], // fixed64
        ...[2, 9, 9], // bytes
        ...[1, 2, 3, 4], // fixed32
        42,
      ),
    );
    r.skip(0);
    r.skip(1);
    r.skip(2);
    r.skip(5);
    expect(r.varint()).toBe(42);
  });

  it('throws WIRE_FALLBACK for what the generated decoder must read', () => {
    const six = bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
    expect(thrown(() => new WireReader(six).varint())).toBe(WIRE_FALLBACK); // over 35 bits
    expect(thrown(() => new WireReader(bytes(0x80)).varint())).toBe(WIRE_FALLBACK); // cut short
    expect(thrown(() => new WireReader(bytes(3, 1, 2)).delimited())).toBe(WIRE_FALLBACK); // past the end
    expect(thrown(() => new WireReader(bytes(1, 2, 3)).skip(1))).toBe(WIRE_FALLBACK);
    expect(thrown(() => new WireReader(bytes(1, 2, 3)).skip(5))).toBe(WIRE_FALLBACK);
    expect(thrown(() => new WireReader(new Uint8Array(11).fill(0x80)).skip(0))).toBe(WIRE_FALLBACK); // no last byte
    for (const group of [3, 4, 6, 7])
      expect(thrown(() => new WireReader(bytes(0)).skip(group))).toBe(WIRE_FALLBACK);
  });

  it('reads only up to its end, and is pointed at other bytes by reset', () => {
    const b = bytes(2, 5, 6, 7);
    const r = new WireReader(b, 0, 2);
    expect(thrown(() => r.skip(2))).toBe(WIRE_FALLBACK); // the 2 bytes lie past end 2
    r.reset(b, 1);
    expect(r.end).toBe(4);
    expect([r.varint(), r.varint(), r.varint()]).toEqual([5, 6, 7]);
  });
});
