// Inbound messages (MO, sms.inbound.v1) as signed `message.inbound` webhooks (issue 19 part 1): POSTed to
// the account's endpoint, signed with its secret, once per message even when the record is read twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsInbound } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { verifySignature } from '../src/domain/signature.js';
import { Harness, uuidv7 } from './harness.js';
import { Receiver } from './receiver.js';

const h = new Harness();
const rx = new Receiver();

beforeAll(async () => {
  await rx.start();
  await h.setup();
}, 120_000);

afterAll(async () => {
  await h.teardown();
  await rx.stop();
});

describe('message.inbound webhooks', () => {
  it('POSTs an inbound message signed with the account secret, once even when the record comes twice', async () => {
    const accountId = `acc_mo_${Date.now().toString(36)}`;
    const path = `/${accountId}`;
    const { newSecret } = await h.webhooks.endpoints.set({
      accountId,
      url: rx.url(path),
      includeIntermediate: false,
      enabled: true,
    });
    const messageId = uuidv7();
    const mo = SmsInbound.fromPartial({
      messageId,
      accountId,
      source: { ton: 1, npi: 1, address: '447700900123' },
      destination: { ton: 1, npi: 1, address: '447700900555' },
      shortMessage: Buffer.from('STOP'),
      text: 'STOP',
      parts: 1,
      moIds: [messageId],
      receivedAt: new Date(),
    });
    await h.producer.produce(h.topics.inbound, mo);
    await h.producer.produce(h.topics.inbound, mo);
    // A later message of the same account: once it is in, the duplicate had its chance to be sent.
    const later = uuidv7();
    await h.producer.produce(h.topics.inbound, { ...mo, messageId: later, moIds: [later], text: 'later' });
    await waitFor(() => rx.bodies(path).some((b) => b.data.message_id === later), {
      timeoutMs: 30_000,
      what: 'the later message.inbound webhook',
    });
    const first = rx.received.filter((r) => r.path === path && r.body.includes(messageId));
    expect(first).toHaveLength(1);
    const req = first[0]!;
    expect(
      verifySignature({
        header: req.headers['smshub-signature'] as string,
        body: req.body,
        secrets: [newSecret!],
      }),
    ).toMatchObject({
      ok: true,
    });
    const body = JSON.parse(req.body) as { type: string; data: Record<string, unknown> };
    expect(body.type).toBe('message.inbound');
    expect(body.data).toMatchObject({
      message_id: messageId,
      account_id: accountId,
      from: '447700900123',
      to: '447700900555',
      text: 'STOP',
      parts: 1,
    });
  });
});
