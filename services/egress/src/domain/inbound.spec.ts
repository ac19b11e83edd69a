import { describe, expect, it } from 'vitest';
import { ConcatMethod, MessageState } from '@smshub/contracts';
import type { Pdu } from '@smshub/smpp';
import { isReceipt, toMo, toReceipt, wallClockIn, type InboundContext } from './inbound.js';

const ctx: InboundContext = {
  connectorId: 'con_1',
  messageIdFormat: 'hex_resp_decimal_receipt',
  receiptTimeZone: 'UTC',
  session: {
    replica: 'egress-0',
    sessionId: 's1',
    systemId: 'hub',
    bindType: 3,
    remoteAddress: '',
    interfaceVersion: 0x34,
  },
  receivedAt: new Date('2026-11-22T07:00:00Z'),
  newId: () => '01935f3e-0000-7000-8000-000000000009',
};

function pdu(fields: Partial<Pdu>): Pdu {
  return { command: 'deliver_sm', command_id: 5, command_status: 0, sequence_number: 1, ...fields } as Pdu;
}

describe('isReceipt', () => {
  it('knows receipts by esm_class or receipt TLVs', () => {
    expect(isReceipt(pdu({ esm_class: 0x04 }))).toBe(true);
    expect(isReceipt(pdu({ esm_class: 0x20 }))).toBe(true);
    expect(isReceipt(pdu({ esm_class: 0, receipted_message_id: 'ab' }))).toBe(true);
    expect(isReceipt(pdu({ esm_class: 0x40 }))).toBe(false);
  });
});

describe('toReceipt', () => {
  it('parses the text and normalises the decimal text id like the hex resp id', () => {
    const text =
      'id:0000662316 sub:001 dlvrd:001 submit date:2611220700 done date:2611220701 stat:DELIVRD err:000 text:Hello';
    const r = toReceipt(pdu({ esm_class: 4, short_message: Buffer.from(text, 'latin1') }), ctx);
    expect(r.supplierMessageIdNormalised).toBe('662316');
    expect(r.parsed?.stat).toBe('DELIVRD');
    expect(r.parsed?.sub).toBe('001');
    expect(r.parsed?.doneTime).toEqual(new Date('2026-11-22T07:01:00Z'));
    expect(r.parseError).toBe('');
    expect(r.rawText.toString('latin1')).toBe(text);
  });

  it('prefers the receipted_message_id TLV, reads message_state and keeps TLVs', () => {
    const r = toReceipt(
      pdu({
        esm_class: 4,
        short_message: Buffer.alloc(0),
        receipted_message_id: '0A1B2C',
        message_state: 2,
        tlvs: { 0x1401: Buffer.from([1]) },
      }),
      ctx,
    );
    expect(r.supplierMessageIdNormalised).toBe('662316');
    expect(r.messageState).toBe(MessageState.MESSAGE_STATE_DELIVERED);
    expect(r.tlvs.map((t) => t.tag).sort()).toEqual([0x001e, 0x0427, 0x1401].sort());
  });

  it('reads receipts carried in message_payload', () => {
    const text = 'id:10 sub:001 dlvrd:000 submit date:2611220700 done date:2611220701 stat:UNDELIV err:005';
    const r = toReceipt(
      pdu({ esm_class: 4, short_message: Buffer.alloc(0), message_payload: Buffer.from(text) }),
      ctx,
    );
    expect(r.parsed?.stat).toBe('UNDELIV');
    expect(r.supplierMessageIdNormalised).toBe('10');
  });

  it('keeps an unparseable receipt raw with the problems', () => {
    const r = toReceipt(pdu({ esm_class: 4, short_message: Buffer.from('garbage \x01\x02') }), ctx);
    expect(r.parsed).toBeUndefined();
    expect(r.supplierMessageIdNormalised).toBe('');
    expect(r.parseError).toMatch(/no supplier message id/);
    expect(r.rawText).toEqual(Buffer.from('garbage \x01\x02'));
  });
});

describe('wallClockIn', () => {
  it('reads receipt dates in the supplier time zone', () => {
    expect(wallClockIn('Europe/Berlin', new Date('2026-07-01T12:00:00Z'))).toEqual(
      new Date('2026-07-01T10:00:00Z'),
    );
    expect(wallClockIn('Europe/Berlin', new Date('2026-01-01T12:00:00Z'))).toEqual(
      new Date('2026-01-01T11:00:00Z'),
    );
    expect(wallClockIn('Not/AZone', new Date())).toBeUndefined();
  });
});

describe('toMo', () => {
  it('keeps the bytes and reads concatenation', () => {
    const sm = Buffer.from([5, 0, 3, 9, 2, 1, 0x48, 0x69]);
    const mo = toMo(
      pdu({ esm_class: 0x40, short_message: sm, source_addr: '447700900123', destination_addr: '12345' }),
      ctx,
    );
    expect(mo.shortMessage).toEqual(sm);
    expect(mo.concat).toMatchObject({
      reference: 9,
      total: 2,
      partNumber: 1,
      method: ConcatMethod.CONCAT_METHOD_UDH_8BIT,
    });
    expect(mo.source?.address).toBe('447700900123');
  });
});
