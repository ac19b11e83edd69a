import { describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery } from '@smshub/contracts';
import { deliveryBody, wanted } from './payload.js';

const event = SmsDelivery.fromPartial({
  context: {
    messageId: 'm1',
    accountId: 'a1',
    customerMessageId: 'c1',
    source: { address: 'ACME' },
    destination: { address: '447400123456' },
  },
  status: DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE,
  final: true,
  error: { code: 'ABSENT_SUBSCRIBER', receiptError: 1, message: 'absent subscriber' },
  segments: 2,
  revision: 3,
  doneAt: new Date('2026-12-01T00:00:05Z'),
});

describe('webhook body', () => {
  it('carries the normalised status without its enum prefix, the error, and the revision', () => {
    const b = deliveryBody('d1', event, new Date('2026-12-01T00:00:06Z'));
    expect(b).toMatchObject({
      id: 'd1',
      type: 'message.status',
      created_at: '2026-12-01T00:00:06.000Z',
      data: {
        message_id: 'm1',
        status: 'UNDELIVERABLE',
        final: true,
        error: { code: 'ABSENT_SUBSCRIBER', receipt_error: 1, message: 'absent subscriber' },
        segments: 2,
        revision: 3,
        to: '447400123456',
        from: 'ACME',
        done_at: '2026-12-01T00:00:05.000Z',
      },
    });
  });

  it('sends final statuses always, intermediate ones only when asked', () => {
    const enroute = { ...event, final: false, status: DeliveryStatus.DELIVERY_STATUS_ENROUTE };
    expect(wanted(event, false)).toBe(true);
    expect(wanted(enroute, false)).toBe(false);
    expect(wanted(enroute, true)).toBe(true);
  });
});
