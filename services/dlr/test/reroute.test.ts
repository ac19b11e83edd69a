// Re-routing fast failures in dlr over real Kafka (isolated topics) and Postgres: a covered UNDELIV is
// withheld and ordered once on sms.reroute.v1, also when the receipt is replayed and after a restart that
// reads the receipts again; the re-sent attempt's outcome is the one final delivery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsRouted, SmsSubmitted, type SmsReroute } from '@smshub/contracts';
import { TypedConsumer } from '@smshub/kafka';
import { testKafkaAdmin, uniqueName, waitFor } from '@smshub/testing';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();
const orders: SmsReroute[] = [];
let reader: TypedConsumer | undefined;

beforeAll(async () => {
  await h.setup();
  reader = new TypedConsumer(h.kafka, h.logger, {
    groupId: uniqueName('dlr-test-reroute'),
    producer: h.producer,
  }).on(h.topics.reroute, (r) => {
    orders.push(r.value);
  });
  const joined = reader.waitForAssignment(60_000);
  await reader.start();
  await joined;
});

afterAll(async () => {
  await reader?.stop();
  await h.teardown();
});

async function routed(hubId: string, reroute: boolean): Promise<void> {
  const ctx = h.context({ hubId });
  await h.producer.produce(
    h.topics.routed,
    SmsRouted.fromPartial({
      message: SmsSubmitted.fromPartial({
        messageId: hubId,
        accountId: ctx.accountId,
        destination: ctx.destination,
        shortMessage: Buffer.from('Your code is 123456'),
      }),
      candidates: [
        { connectorId: 'con_a', ruleId: 'rr_otp' },
        { connectorId: 'con_b', ruleId: 'rr_otp' },
      ],
      destinationInfo: ctx.destinationInfo,
      routedAt: new Date(),
      ...(reroute
        ? {
            reroute: {
              failures: ['UNDELIV', 'REJECTD'],
              exceptErrors: [],
              windowMs: 30_000,
              ruleId: 'rr_otp',
            },
          }
        : {}),
    }),
  );
}

describe('re-routing fast failures', () => {
  it('orders one re-route for a covered UNDELIV, whatever is replayed, and ends with the re-sent outcome once', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await routed(hubId, true);
    await h.dispatch({ hubId }, { connectorId: 'con_a', supplierId: 'a1a1', normalised: 'a1a1' });
    const receiptId = await h.receipt({
      connectorId: 'con_a',
      textId: 'a1a1',
      normalised: 'a1a1',
      stat: 'UNDELIV',
      err: '001',
    });
    const order = await waitFor(() => orders.find((o) => o.routed?.message?.messageId === hubId), {
      what: 'the re-route order',
    });
    expect(order).toMatchObject({
      fromCandidate: 1,
      attempt: 2,
      failedConnectorId: 'con_a',
      failure: 'UNDELIV',
      partNumber: 1,
    });
    expect(order.sendBefore).toBeUndefined(); // no DLR_REROUTE_TIMEOUT_SECONDS in this harness
    expect(order.routed?.candidates.map((c) => c.connectorId)).toEqual(['con_a', 'con_b']);
    expect(order.routed?.message?.shortMessage.toString()).toBe('Your code is 123456');

    // The same receipt again (a redelivery) and a second copy from the supplier; then a restart that reads
    // every receipt again from the start (a crash before any offset was committed).
    await h.receipt({
      connectorId: 'con_a',
      textId: 'a1a1',
      normalised: 'a1a1',
      stat: 'UNDELIV',
      err: '001',
      receiptId,
    });
    await h.receipt({
      connectorId: 'con_a',
      textId: 'a1a1',
      normalised: 'a1a1',
      stat: 'UNDELIV',
      err: '001',
    });
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    await h.restartDlr([h.topics.receiptRaw.name, h.topics.dispatched.name]);
    await h.waitCaughtUp(h.topics.receiptRaw.name, 60_000);

    // The re-sent attempt, as egress publishes it, and its receipt.
    await h.dispatch({ hubId }, { connectorId: 'con_b', supplierId: 'b2b2', normalised: 'b2b2', attempt: 2 });
    await h.receipt({ connectorId: 'con_b', textId: 'b2b2', normalised: 'b2b2', stat: 'DELIVRD' });
    const final = await h.waitFinal(hubId);
    expect(final).toMatchObject({
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      connectorId: 'con_b',
      reroutedFromConnectorId: 'con_a',
      reroutedFromStatus: DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE,
    });
    // After the final delivery: exactly one order was ever written to the (this file's own) topic, and one
    // final delivery.
    const admin = await testKafkaAdmin();
    try {
      const ends = await admin.fetchTopicOffsets(h.topics.reroute.name);
      expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
    } finally {
      await admin.disconnect();
    }
    expect(orders.filter((o) => o.routed?.message?.messageId === hubId)).toHaveLength(1);
    expect(h.finals(hubId)).toHaveLength(1);
    expect(
      h.deliveries.get(hubId)?.some((d) => d.status === DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE),
    ).toBe(false);

    const res = await waitFor(
      async () => {
        const r = await h.getMessage({ messageId: hubId });
        // the join stage writes a dispatch's timeline row just after applying its state
        const dispatches = r.timeline.filter((e) => e.event?.$case === 'dispatched').length;
        return r.message?.final && dispatches === 2 ? r : undefined;
      },
      { what: 'the final timeline with both dispatches' },
    );
    const kinds = res.timeline.map((e) => e.event?.$case);
    expect(kinds.filter((k) => k === 'rerouted')).toHaveLength(1);
    expect(kinds.indexOf('rerouted')).toBeLessThan(kinds.lastIndexOf('dispatched'));
  });

  it("a re-routed REJECTD: the final delivery names the failed attempt's own status for its cost record", async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await routed(hubId, true);
    await h.dispatch({ hubId }, { connectorId: 'con_a', supplierId: 'e5e5', normalised: 'e5e5' });
    await h.receipt({
      connectorId: 'con_a',
      textId: 'e5e5',
      normalised: 'e5e5',
      stat: 'REJECTD',
      err: '011',
    });
    await waitFor(() => orders.find((o) => o.routed?.message?.messageId === hubId), {
      what: 'the re-route order',
    });
    await h.dispatch({ hubId }, { connectorId: 'con_b', supplierId: 'f6f6', normalised: 'f6f6', attempt: 2 });
    await h.receipt({ connectorId: 'con_b', textId: 'f6f6', normalised: 'f6f6', stat: 'DELIVRD' });
    expect(await h.waitFinal(hubId)).toMatchObject({
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      connectorId: 'con_b',
      reroutedFromConnectorId: 'con_a',
      reroutedFromStatus: DeliveryStatus.DELIVERY_STATUS_REJECTED,
    });
  });

  it('without re-route terms, the same failure is the final delivery', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await routed(hubId, false);
    await h.dispatch({ hubId }, { connectorId: 'con_a', supplierId: 'c3c3', normalised: 'c3c3' });
    await h.receipt({
      connectorId: 'con_a',
      textId: 'c3c3',
      normalised: 'c3c3',
      stat: 'UNDELIV',
      err: '001',
    });
    const final = await h.waitFinal(hubId);
    expect(final.status).toBe(DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE);
    expect(final.reroutedFromConnectorId).toBe('');
    expect(orders.some((o) => o.routed?.message?.messageId === hubId)).toBe(false);
  });

  it('an extra attempt never accepted (order dead-lettered in egress) ends with the withheld failure after the re-route timeout', async () => {
    // Read by the aggregator on every commit (the same options object): this message's row gets the
    // order time + 1 s as its deadline, and the sweep (every 250 ms) ends it.
    h.options.rerouteTimeoutMs = 1_000;
    const hubId = uuidv7();
    await h.submit({ hubId });
    await routed(hubId, true);
    await h.dispatch({ hubId }, { connectorId: 'con_a', supplierId: 'd4d4', normalised: 'd4d4' });
    await h.receipt({
      connectorId: 'con_a',
      textId: 'd4d4',
      normalised: 'd4d4',
      stat: 'REJECTD',
      err: '011',
    });
    const order = await waitFor(() => orders.find((o) => o.routed?.message?.messageId === hubId), {
      what: 'the re-route order',
    });
    // egress may start the attempt within half the timeout
    expect(order.sendBefore).toBeInstanceOf(Date);
    // No dispatch of attempt 2 ever comes.
    const final = await h.waitFinal(hubId);
    expect(final).toMatchObject({
      status: DeliveryStatus.DELIVERY_STATUS_REJECTED,
      connectorId: 'con_a',
      // one supplier carried it: rating records no second cost
      reroutedFromConnectorId: '',
    });
    expect(final.error?.receiptError).toBe(11);
    expect(h.finals(hubId)).toHaveLength(1);
    const res = await h.getMessage({ messageId: hubId });
    expect(res.timeline.map((e) => e.event?.$case)).not.toContain('expired');
  });
});
