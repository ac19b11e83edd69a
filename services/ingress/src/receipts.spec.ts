import { describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, SubmitChannel } from '@smshub/contracts';
import { decodeText, encodeGsm7, parseReceipt } from '@smshub/smpp';
import { buildReceipt, receiptText, wantsReceipt } from './receipts.js';

const now = new Date('2026-11-22T07:05:00Z');
const ev = (status: DeliveryStatus, rd: number, final = true) =>
  SmsDelivery.fromPartial({
    context: {
      messageId: 'm-1',
      systemId: 'acme',
      customerMessageId: 'c-1',
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      registeredDelivery: rd,
      dataCoding: 8,
      receivedAt: new Date('2026-11-22T07:00:00Z'),
      receiptText: Buffer.from('00480069002004140430', 'hex'),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
    },
    status,
    final,
    doneAt: new Date('2026-11-22T07:04:00Z'),
    revision: 1,
  });

describe('receipts', () => {
  it('follows registered_delivery: 1 every final outcome, 2 failures only, 0 none, intermediate never', () => {
    const D = DeliveryStatus.DELIVERY_STATUS_DELIVERED;
    const U = DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE;
    expect([wantsReceipt(ev(D, 1)), wantsReceipt(ev(U, 1))]).toEqual([true, true]);
    expect([wantsReceipt(ev(D, 2)), wantsReceipt(ev(U, 2))]).toEqual([false, true]);
    expect([wantsReceipt(ev(D, 0)), wantsReceipt(ev(U, 0))]).toEqual([false, false]);
    expect(wantsReceipt(ev(DeliveryStatus.DELIVERY_STATUS_ENROUTE, 1, false))).toBe(false);
    expect(wantsReceipt(ev(D, 0x11))).toBe(true);
  });

  it('builds the standard receipt with the customer id, swapped addresses and ASCII-only text', () => {
    const r = buildReceipt(ev(DeliveryStatus.DELIVERY_STATUS_FAILED, 1), 3600, now);
    expect(r.customerMessageId).toBe('c-1');
    expect([r.source, r.dest, r.messageState]).toEqual(['447700900123', 'ACME', 5]);
    expect(r.shortMessage.toString('latin1')).toBe(
      'id:c-1 sub:001 dlvrd:000 submit date:2611220700 done date:2611220704 stat:UNDELIV err:000 text:Hi ??',
    );
    expect(parseReceipt(r.shortMessage)).toMatchObject({ ok: true, id: 'c-1', stat: 'UNDELIV' });
    // Held until the validity end, but at least the minimum hold from now.
    expect(r.expiresAt.toISOString()).toBe('2026-11-22T08:05:00.000Z');
    expect(
      buildReceipt(ev(DeliveryStatus.DELIVERY_STATUS_DELIVERED, 1), 86_400, now).expiresAt.toISOString(),
    ).toBe('2026-11-23T07:00:00.000Z');
  });

  it("keeps a receipt until the message's own validity end when the event carries it, not the account default", () => {
    const withValidity = (until: string) => {
      const d = ev(DeliveryStatus.DELIVERY_STATUS_DELIVERED, 1);
      d.context!.validityUntil = new Date(until);
      return buildReceipt(d, 86_400, now).expiresAt.toISOString();
    };
    // validity_period of 3 days: kept 3 days, though the account's default is 1.
    expect(withValidity('2026-11-25T07:00:00Z')).toBe('2026-11-25T07:00:00.000Z');
    // A validity that ends in 10 minutes: still the minimum hold of an hour from now.
    expect(withValidity('2026-11-22T07:15:00Z')).toBe('2026-11-22T08:05:00.000Z');
  });

  it('keeps GSM extension characters (€ and the like) in the text, sent as GSM 03.38', () => {
    const gsm = encodeGsm7('Pay €5 [ref] {x}~|^\\ now');
    expect(receiptText(gsm, 0)).toBe('Pay €5 [ref] {x}~|^\\');
    // UCS2 input: the euro sign survives too; what GSM cannot carry, and line breaks, become "?".
    expect(receiptText(Buffer.from('Caf\u00e9 \u20ac', 'utf16le').swap16(), 8)).toBe('Café €');
    expect(receiptText(Buffer.from('Line1\nLine2 \u0416', 'utf16le').swap16(), 8)).toBe('Line1?Line2 ?');
    const d = ev(DeliveryStatus.DELIVERY_STATUS_DELIVERED, 1);
    d.context!.dataCoding = 0;
    // Egress passes the first 20 octets on: the escape of the last "}" is cut off with it.
    d.context!.receiptText = gsm.subarray(0, 20);
    const r = buildReceipt(d, 3600, now);
    expect(r.dataCoding).toBe(0);
    const text = decodeText(r.shortMessage, r.dataCoding);
    expect(parseReceipt(text)).toMatchObject({
      ok: true,
      id: 'c-1',
      stat: 'DELIVRD',
      text: 'Pay €5 [ref] {x',
    });
  });
});
