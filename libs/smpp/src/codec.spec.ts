import { describe, expect, it } from 'vitest';
import { decodePdu, encodePdu } from './codec.js';
import { CommandStatus } from './status.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('PDU codec', () => {
  it('decodes and encodes the cloudhopper enquire_link vectors', () => {
    const req = decodePdu(h('00000010 00000015 00000000 0a342ee7'));
    expect(req).toMatchObject({ ok: true, pdu: { command: 'enquire_link', sequence_number: 0x0a342ee7 } });
    expect(encodePdu({ command: 'enquire_link_resp', sequence_number: 0x0a342ee7 }).toString('hex')).toBe(
      '00000010800000150000000' + '00a342ee7',
    );
  });

  it('round-trips submit_sm with raw bytes, data_coding, times, known and unknown TLVs', () => {
    const buf = encodePdu({
      command: 'submit_sm',
      sequence_number: 9,
      source_addr: 'Shop',
      destination_addr: '447700900123',
      esm_class: 0x40,
      data_coding: 0x08,
      schedule_delivery_time: '000001000000000R',
      validity_period: '000001', // node-smpp would pad this; it is passed through untouched
      short_message: Buffer.from([0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x00, 0xe9]),
      sar_msg_ref_num: 0x1234,
      receipted_message_id: 'abc',
      tlvs: { 0x1401: Buffer.from([9, 8, 7]) },
    });
    const r = decodePdu(buf);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.pdu).toMatchObject({
      command: 'submit_sm',
      source_addr: 'Shop',
      destination_addr: '447700900123',
      esm_class: 0x40,
      data_coding: 0x08,
      schedule_delivery_time: '000001000000000R',
      validity_period: '000001',
      sar_msg_ref_num: 0x1234,
      receipted_message_id: 'abc',
    });
    expect(r.pdu.short_message?.toString('hex')).toBe('05000301020100e9');
    expect(r.pdu.tlvs?.[0x1401]?.toString('hex')).toBe('090807');
  });

  it('answers unknown command ids with RINVCMDID and keeps the sequence number', () => {
    const r = decodePdu(h('00000010 00000999 00000000 00000077'));
    expect(r).toMatchObject({ ok: false, status: CommandStatus.ESME_RINVCMDID, sequence_number: 0x77 });
  });

  it('reports truncated bodies, unterminated strings and bad TLVs without throwing', () => {
    const good = encodePdu({
      command: 'submit_sm',
      sequence_number: 5,
      destination_addr: '123',
      short_message: Buffer.from('hello'),
    });
    // Cut inside destination_addr, and on a field boundary; fix command_length each time.
    for (const at of [24, 30]) {
      const cut = Buffer.from(good.subarray(0, at));
      cut.writeUInt32BE(cut.length, 0);
      expect(decodePdu(cut)).toMatchObject({
        ok: false,
        status: CommandStatus.ESME_RINVCMDLEN,
        sequence_number: 5,
      });
    }
    // sm_length larger than the remaining bytes.
    const longSm = Buffer.from(good);
    longSm[longSm.length - 6] = 200;
    expect(decodePdu(longSm)).toMatchObject({ ok: false, status: CommandStatus.ESME_RINVMSGLEN });
    // TLV header truncated, then a TLV whose length overruns.
    const tlvHead = Buffer.concat([good, Buffer.from([0x02, 0x0c])]);
    tlvHead.writeUInt32BE(tlvHead.length, 0);
    expect(decodePdu(tlvHead)).toMatchObject({ ok: false, status: CommandStatus.ESME_RINVTLVSTREAM });
    const tlvLong = Buffer.concat([good, Buffer.from([0x02, 0x0c, 0x00, 0x09, 0x00])]);
    tlvLong.writeUInt32BE(tlvLong.length, 0);
    expect(decodePdu(tlvLong)).toMatchObject({ ok: false, status: CommandStatus.ESME_RINVTLVLEN });
    const tlvSize = Buffer.concat([good, Buffer.from([0x02, 0x0c, 0x00, 0x01, 0x00])]); // sar_msg_ref_num must be 2 octets
    tlvSize.writeUInt32BE(tlvSize.length, 0);
    expect(decodePdu(tlvSize)).toMatchObject({ ok: false, status: CommandStatus.ESME_RINVTLVLEN });
  });

  it('accepts an error response without a body', () => {
    const r = decodePdu(h('00000010 80000004 00000058 00000003'));
    expect(r).toMatchObject({
      ok: true,
      pdu: { command: 'submit_sm_resp', command_status: 0x58, message_id: '' },
    });
  });

  it('refuses to encode a short_message that does not fit sm_length', () => {
    expect(() =>
      encodePdu({ command: 'submit_sm', destination_addr: '1', short_message: Buffer.alloc(300) }),
    ).toThrow(/message_payload/);
    expect(() => encodePdu({ command: 'no_such_command' })).toThrow();
  });

  it('survives random bytes', () => {
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      const len = 16 + (i % 80);
      const b = Buffer.alloc(len);
      for (let k = 0; k < len; k++) b[k] = (x = (x * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      b.writeUInt32BE(len, 0);
      if (i % 2 === 0) b.writeUInt32BE([4, 5, 9, 0x103, 0x80000004][i % 5] as number, 4);
      expect(() => decodePdu(b)).not.toThrow();
    }
  });
});
