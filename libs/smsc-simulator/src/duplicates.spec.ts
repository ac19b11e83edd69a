import { describe, expect, it } from 'vitest';
import type { Pdu } from '@smshub/smpp';
import { DuplicateDetector, submitKey } from './duplicates.js';

const pdu = (over: Partial<Pdu> = {}): Pdu =>
  ({
    command: 'submit_sm',
    command_id: 4,
    command_status: 0,
    sequence_number: 1,
    source_addr: 'ACME',
    destination_addr: '447700900123',
    short_message: Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x41, 0x42]),
    ...over,
  }) as Pdu;

describe('submitKey', () => {
  it('is equal for the same source, destination, bytes and SAR info, whatever else differs', () => {
    expect(submitKey(pdu())).toBe(
      submitKey(pdu({ sequence_number: 99, registered_delivery: 1, data_coding: 8 })),
    );
  });

  it('differs by destination, source, UDH part/reference, payload and SAR part', () => {
    const base = submitKey(pdu());
    expect(submitKey(pdu({ destination_addr: '447700900124' }))).not.toBe(base);
    expect(submitKey(pdu({ source_addr: 'ACME2' }))).not.toBe(base);
    expect(submitKey(pdu({ short_message: Buffer.from([5, 0, 3, 0x2a, 2, 2, 0x41, 0x42]) }))).not.toBe(base);
    expect(submitKey(pdu({ short_message: Buffer.from([5, 0, 3, 0x2b, 2, 1, 0x41, 0x42]) }))).not.toBe(base);
    const sar = pdu({
      short_message: Buffer.from('hi'),
      sar_msg_ref_num: 1,
      sar_total_segments: 2,
      sar_segment_seqnum: 1,
    });
    expect(submitKey({ ...sar, sar_segment_seqnum: 2 })).not.toBe(submitKey(sar));
    const payload = pdu({ short_message: Buffer.alloc(0), message_payload: Buffer.from('x') });
    expect(submitKey({ ...payload, message_payload: Buffer.from('y') })).not.toBe(submitKey(payload));
    // Fields moved between places are not confused: "AB" + "C" vs "A" + "BC".
    expect(submitKey(pdu({ source_addr: 'AB', destination_addr: 'C' }))).not.toBe(
      submitKey(pdu({ source_addr: 'A', destination_addr: 'BC' })),
    );
  });

  it('gives distinct keys to many distinct messages', () => {
    const keys = new Set<number>();
    for (let i = 0; i < 50_000; i++)
      keys.add(submitKey(pdu({ destination_addr: `4477${i}`, short_message: Buffer.from(`m${i % 7}`) })));
    expect(keys.size).toBe(50_000);
    for (const k of [...keys].slice(0, 100)) expect(Number.isSafeInteger(k)).toBe(true);
  });
});

describe('DuplicateDetector', () => {
  it('flags a key seen less than the window before, and not after', () => {
    const d = new DuplicateDetector(60_000, 1_000_000, 0);
    expect(d.check(1, 0)).toBe(false);
    expect(d.check(1, 59_999)).toBe(true);
    expect(d.check(2, 61_000)).toBe(false);
    // last seen at 59 999, so still within 60 s at 119 998 even across a generation rotation
    expect(d.check(1, 119_998)).toBe(true);
    expect(d.check(1, 179_999)).toBe(false);
  });

  it('keeps memory to two generations', () => {
    const d = new DuplicateDetector(1000, 100, 0);
    for (let i = 0; i < 1000; i++) d.check(i, i);
    expect(d.size).toBeLessThanOrEqual(200);
  });
});
