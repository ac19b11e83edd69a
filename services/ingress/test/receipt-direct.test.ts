// Receipts of a customer whose receiver is bound on the replica that consumed them are inserted claimed by
// that replica and sent at once: no claim statement per stored batch, no notification to the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { DeliveryStatus, SmsDelivery, SubmitChannel } from '@smshub/contracts';
import type { Pdu } from '@smshub/smpp';
import { waitFor } from '@smshub/testing';
import { DEFAULT_OPTIONS } from '../src/index.js';
import { Harness, type Replica } from './harness.js';

function delivery(messageId: string, systemId: string): SmsDelivery {
  return SmsDelivery.fromPartial({
    context: {
      messageId,
      accountId: 'acc',
      systemId,
      customerMessageId: messageId,
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      registeredDelivery: 1,
      dataCoding: 0,
      receivedAt: new Date(Date.now() - 5000),
      receiptText: Buffer.from('Your code is 1234'),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    doneAt: new Date(),
    revision: 2,
    updatedAt: new Date(),
  });
}

describe('ingress: receipts for a receiver bound on the consuming replica', () => {
  const h = new Harness();
  let a: Replica;
  let claims = 0;

  beforeAll(async () => {
    await h.setup();
    await h.addAccount({ systemId: 'direct', password: 'pw' });
    // The replica's pool counts the dispatcher's claim statements; everything else passes through.
    const counting = new Proxy(h.pool, {
      get(target, prop) {
        if (prop === 'query')
          return (...args: Parameters<Pool['query']>) => {
            if (String(args[0]).includes('SET claimed_by = $2')) claims++;
            return (target.query as (...a: unknown[]) => unknown)(...args);
          };
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    // No poll while the test runs: only a bind or stored unclaimed rows make the dispatcher claim.
    a = await h.startReplica(
      { receipts: { ...DEFAULT_OPTIONS.receipts, pollMs: 600_000 } },
      { pool: counting },
    );
  });
  afterAll(() => h.teardown());

  it('are sent without a claim statement, each once, and deleted once acknowledged', async () => {
    const received: Pdu[] = [];
    await h.bind(a.port, {
      systemId: 'direct',
      password: 'pw',
      bindType: 'receiver',
      handlers: { deliver_sm: (pdu) => void received.push(pdu) },
    });
    // The bind wakes the dispatcher once: a claim that finds nothing.
    await waitFor(() => claims >= 1, { what: "the bind's claim" });
    const claimsAfterBind = claims;

    const ids = Array.from(
      { length: 60 },
      (_, i) => `dddddddd-0000-7000-8000-${String(i).padStart(12, '0')}`,
    );
    // In several fetches: three rounds of produced events.
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        ids
          .slice(round * 20, round * 20 + 20)
          .map((id) => h.producer.produce(h.topics.delivery, delivery(id, 'direct'))),
      );
      await waitFor(() => received.length >= (round + 1) * 20, { what: `receipts of round ${round + 1}` });
    }
    await h.receiptsSettled(ids);

    expect(received.map((p) => p.receipted_message_id).sort()).toEqual([...ids].sort());
    expect(claims).toBe(claimsAfterBind);
    // Acknowledged: their rows are deleted (the messages' state rows keep a redelivered event out).
    await waitFor(
      async () =>
        (
          await h.pool.query('SELECT 1 FROM ingress_pending_receipts WHERE message_id = ANY($1::uuid[])', [
            ids,
          ])
        ).rowCount === 0,
      { what: 'the acknowledged receipts deleted' },
    );
    expect(received).toHaveLength(ids.length);
  });
});
