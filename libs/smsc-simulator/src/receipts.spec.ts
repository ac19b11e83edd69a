import { describe, expect, it } from 'vitest';
import { decodeNetworkErrorCode, normalizeMessageId, parseReceipt } from '@smshub/smpp';
import { compilePlan } from './behaviour.js';
import { formatIds, receiptFields, receiptText, type ReceiptJob } from './receipts.js';

const job: ReceiptJob = {
  messageId: '1a2b3c',
  receiptId: String(0x1a2b3c),
  systemId: 'hub',
  sourceAddr: 'ACME',
  sourceAddrTon: 5,
  sourceAddrNpi: 0,
  destinationAddr: '447700900123',
  destAddrTon: 1,
  destAddrNpi: 1,
  submitTime: Date.UTC(2026, 0, 2, 3, 4, 5),
  stat: 'DELIVRD',
  text: 'hello',
};
const done = Date.UTC(2026, 0, 2, 3, 5, 6);

describe('formatIds', () => {
  it('writes hex in the resp and hex or decimal (the same number) in the text, padded', () => {
    expect(formatIds(255, 'hex', 0)).toEqual({ messageId: 'ff', receiptId: 'ff' });
    expect(formatIds(255, 'decimal', 0)).toEqual({ messageId: 'ff', receiptId: '255' });
    const p = formatIds(0x12345678, 'decimal', 10);
    expect(p).toEqual({ messageId: '0012345678', receiptId: '0305419896' });
    expect(normalizeMessageId(p.messageId, 'hex')).toBe(normalizeMessageId(p.receiptId, 'dec'));
  });
});

describe('receiptText', () => {
  it('standard: 10-digit dates and text:', () => {
    expect(receiptText(job, done, compilePlan({}))).toBe(
      'id:1715004 sub:001 dlvrd:001 submit date:2601020304 done date:2601020305 stat:DELIVRD err:000 text:hello',
    );
  });
  it('seconds, capitalText, noText', () => {
    expect(receiptText(job, done, compilePlan({ receipts: { textVariant: 'seconds' } }))).toContain(
      'submit date:260102030405 done date:260102030506',
    );
    expect(receiptText(job, done, compilePlan({ receipts: { textVariant: 'capitalText' } }))).toMatch(
      / Text:hello$/,
    );
    const noText = receiptText(job, done, compilePlan({ receipts: { textVariant: 'noText' } }));
    expect(noText).toMatch(/err:000$/);
    expect(parseReceipt(noText)).toMatchObject({ ok: true, stat: 'DELIVRD' });
  });
  it('failures: dlvrd 0 and the error code', () => {
    const t = receiptText({ ...job, stat: 'EXPIRED' }, done, compilePlan({}));
    expect(parseReceipt(t)).toMatchObject({ ok: true, stat: 'EXPIRED', dlvrd: 0, err: '027' });
  });
});

describe('receiptFields', () => {
  it('swaps the addresses, marks esm_class 0x04 and carries TLVs per carrier', () => {
    const both = receiptFields({ ...job, stat: 'REJECTD' }, done, compilePlan({}));
    expect(both).toMatchObject({
      source_addr: '447700900123',
      source_addr_ton: 1,
      destination_addr: 'ACME',
      dest_addr_ton: 5,
      esm_class: 0x04,
      receipted_message_id: '1a2b3c',
      message_state: 8,
    });
    expect(decodeNetworkErrorCode(both.network_error_code)).toEqual({ networkType: 3, errorCode: 13 });
    expect(parseReceipt(both.short_message as Buffer).id).toBe('1715004'); // receiptId: the text form

    const text = receiptFields(job, done, compilePlan({ receipts: { carrier: 'text' } }));
    expect(text.receipted_message_id).toBeUndefined();
    expect(text.message_state).toBeUndefined();

    const tlv = receiptFields(job, done, compilePlan({ receipts: { carrier: 'tlv' } }));
    expect(tlv.short_message).toHaveLength(0);
    expect(tlv.message_state).toBe(2);
    expect(tlv.network_error_code).toBeUndefined();
  });
});
