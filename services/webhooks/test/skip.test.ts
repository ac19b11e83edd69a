// webhooks reads every sms.delivery.v1 record but decodes only those of accounts with an endpoint (the
// account id is read from the wire format first, src/domain/delivery-view.ts). Over real Kafka, PostgreSQL
// and HTTP: among many records of accounts without a webhook, the ones of an account with a webhook are
// still POSTed, in full; a record malformed past its account id (inside a part state) is dead-lettered when its account has a
// webhook (as any undecodable record) and skipped when it has none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsDelivery, DeliveryStatus } from '@smshub/contracts';
import { testKafkaAdmin, waitFor } from '@smshub/testing';
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

/**
 * An encoded final status of `messageId` for `accountId` whose last field, a part state (field 5), is
 * malformed inside: an unfinished varint at the end of the record. The top level and the context are
 * well-formed, so the account id is read; a full decode fails ("premature EOF").
 */
function malformedPart(messageId: string, accountId: string): Buffer {
  const good = SmsDelivery.encode(
    SmsDelivery.fromPartial({
      context: { messageId, accountId },
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    }),
  ).finish();
  return Buffer.concat([good, Buffer.from([0x2a, 2, 0x08, 0xff])]);
}

describe('records of accounts without a webhook', () => {
  it('are skipped; among them an account with a webhook still gets every receipt, and a malformed one of it is dead-lettered', async () => {
    const accountId = `acc_skip_${Date.now().toString(36)}`;
    await h.webhooks.endpoints.set({
      accountId,
      url: rx.url(`/${accountId}`),
      includeIntermediate: false,
      enabled: true,
    });
    const wanted = [uuidv7(), uuidv7(), uuidv7()];
    const badOfOurs = uuidv7();
    let k = 0;
    for (let i = 0; i < 300; i++) {
      await h.delivery({ messageId: uuidv7(), accountId: `acc_none_${i % 7}` });
      if (i % 100 === 50)
        await h.delivery({ messageId: wanted[k++]!, accountId, clientReference: `ref-${k}` });
    }
    await h.producer.produceRaw(h.topics.delivery.name, badOfOurs, malformedPart(badOfOurs, accountId));
    const badOfNone = uuidv7();
    await h.producer.produceRaw(h.topics.delivery.name, badOfNone, malformedPart(badOfNone, 'acc_none_1'));

    await waitFor(() => rx.received.filter((r) => r.path === `/${accountId}`).length === 3, {
      timeoutMs: 30_000,
      what: "the webhook account's three receipts",
    });
    const bodies = rx.received
      .filter((r) => r.path === `/${accountId}`)
      .map((r) => JSON.parse(r.body) as { data: { message_id: string; client_reference?: string } });
    expect(bodies.map((b) => b.data.message_id).sort()).toEqual([...wanted].sort());
    expect(bodies.map((b) => b.data.client_reference).sort()).toEqual(['ref-1', 'ref-2', 'ref-3']);

    // Everything read: the group's committed offsets are at the end of every partition.
    const admin = await testKafkaAdmin();
    try {
      await waitFor(
        async () => {
          const ends = await admin.fetchTopicOffsets(h.topics.delivery.name);
          const [committed] = await admin.fetchOffsets({
            groupId: h.groupId,
            topics: [h.topics.delivery.name],
          });
          return ends.every(
            (e) => committed!.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
          );
        },
        { timeoutMs: 30_000, what: 'the delivery topic read to its end' },
      );
      // One dead letter: the malformed record of the account with a webhook (the other was skipped unread).
      const [dlq] = await admin.fetchTopicOffsets(`${h.groupId}.dlq`);
      expect(dlq!.high).toBe('1');
    } finally {
      await admin.disconnect();
    }
    const { rows } = await h.pool.query<{ account_id: string; n: number }>(
      'SELECT account_id, count(*)::int AS n FROM webhook_deliveries GROUP BY account_id',
    );
    expect(rows).toEqual([{ account_id: accountId, n: 3 }]);
  }, 90_000);
});
