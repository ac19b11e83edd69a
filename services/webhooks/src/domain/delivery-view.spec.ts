import { describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery } from '@smshub/contracts';
import { deliveryView, peekAccountId } from './delivery-view.js';

type Init = Parameters<typeof SmsDelivery.fromPartial>[0];
const encode = (e: Init) => SmsDelivery.encode(SmsDelivery.fromPartial(e)).finish();

const full = {
  context: {
    messageId: '0193a7c2-5b1e-7c3d-9e4f-0a1b2c3d4e5f',
    accountId: 'acc-Ünïcode-42',
    systemId: 'acme',
    source: { ton: 5, npi: 0, address: 'ACME' },
    destination: { ton: 1, npi: 1, address: '447400123456' },
    registeredDelivery: 1,
    receivedAt: new Date('2026-12-07T04:00:00Z'),
    receiptText: Buffer.from('id:1 sub:001 dlvrd:001'),
    callbackUrl: 'https://example.com/hook',
    validityUntil: new Date('2026-12-08T04:00:00Z'),
  },
  status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
  final: true,
  parts: [{ partNumber: 1, status: DeliveryStatus.DELIVERY_STATUS_DELIVERED, connectorId: 'c1' }],
  doneAt: new Date(),
  segments: 1,
  revision: 3,
  updatedAt: new Date(),
} satisfies Init;

describe('peekAccountId', () => {
  it('reads the account id a full decode reads, without decoding the rest', () => {
    expect(peekAccountId(encode(full))).toBe('acc-Ünïcode-42');
    expect(peekAccountId(encode({ ...full, context: { messageId: 'm', accountId: 'a' } }))).toBe('a');
  });

  it('is empty without a context or an account id, as the decoded event is', () => {
    expect(peekAccountId(encode({ status: DeliveryStatus.DELIVERY_STATUS_DELIVERED }))).toBe('');
    expect(peekAccountId(encode({ context: { messageId: 'm' } }))).toBe('');
    expect(peekAccountId(new Uint8Array())).toBe('');
  });

  it('follows protobuf merging: two contexts in one record give the last account id', () => {
    const a = encode({ context: { messageId: 'm', accountId: 'first' }, revision: 1 });
    const b = encode({ context: { messageId: 'm', accountId: 'second' }, revision: 2 });
    const both = Buffer.concat([a, b]);
    expect(SmsDelivery.decode(both).context?.accountId).toBe('second');
    expect(peekAccountId(both)).toBe('second');
  });

  it('gives up (undefined) on bytes that are not well-formed where it walks', () => {
    const bytes = encode(full);
    // The context's length runs past the end of the record.
    expect(peekAccountId(bytes.subarray(0, 20))).toBeUndefined();
    // Wire type 3 (a group start) and field number 0 are not proto3.
    expect(peekAccountId(Uint8Array.of(0x0b))).toBeUndefined();
    expect(peekAccountId(Uint8Array.of(0x00, 0x01))).toBeUndefined();
    // An unfinished varint.
    expect(peekAccountId(Uint8Array.of(0x10, 0xff))).toBeUndefined();
  });

  it('agrees with the full decode on many generated events', () => {
    for (let i = 0; i < 500; i++) {
      const accountId = i % 7 === 0 ? '' : `acc-${i}-${'x'.repeat(i % 130)}`;
      const e: Init = {
        ...full,
        context: { ...full.context, accountId, messageId: `m-${i}` },
        revision: i,
        segments: i % 4,
        parts: Array.from({ length: i % 4 }, (_, n) => ({ partNumber: n + 1, connectorId: `c${n}` })),
        connectorId: i % 2 ? 'con' : '',
      };
      const bytes = encode(e);
      expect(peekAccountId(bytes)).toBe(SmsDelivery.decode(bytes).context?.accountId ?? '');
    }
  });
});

describe('deliveryView', () => {
  it('decodes the whole event on demand, once', () => {
    const v = deliveryView(encode(full));
    expect(v.accountId).toBe('acc-Ünïcode-42');
    expect(v.event()).toBe(v.event());
    expect(v.event().revision).toBe(3);
    expect(v.event().context?.callbackUrl).toBe('https://example.com/hook');
  });

  it('throws at once on bytes it cannot walk (the consumer dead-letters them)', () => {
    expect(() => deliveryView(Uint8Array.of(0x0b, 0x01))).toThrow();
  });
});
