import { describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, SubmitChannel } from '@smshub/contracts';
import { callbackAllowed, deliveryBody, wanted } from './payload.js';

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

  it("never sends the hub's own probe messages (internal traffic)", () => {
    const probe = { ...event, context: { ...event.context!, channel: SubmitChannel.SUBMIT_CHANNEL_PROBE } };
    expect(wanted(probe, true)).toBe(false);
  });
});

describe('callback_url', () => {
  it('takes public http(s) URLs and refuses private, loopback and link-local addresses unless allowed', () => {
    for (const ok of ['https://example.com/hook', 'http://203.0.113.7:8080/x', 'https://[2001:db8::1]/h'])
      expect(callbackAllowed(ok, false)).toBe(true);
    for (const bad of [
      'ftp://example.com/',
      'https://user:pw@example.com/',
      'http://localhost:8080/',
      'http://127.0.0.1/',
      'http://10.1.2.3/',
      'http://172.20.0.1/',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0/',
      'http://[::1]/',
      'http://[fd00::1]/',
      'http://[::ffff:127.0.0.1]/',
      'not a url',
    ])
      expect(callbackAllowed(bad, false)).toBe(false);
    expect(callbackAllowed('http://127.0.0.1:8787/', true)).toBe(true);
  });
});
