import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, SubmitChannel } from '@smshub/contracts';
import { CommandStatus as S, parseReceipt, SmppError, type Pdu, type SmppSession } from '@smshub/smpp';
import { testKafkaAdmin, waitFor } from '@smshub/testing';
import { Harness, type Replica } from './harness.js';

function delivery(
  messageId: string,
  systemId: string,
  status: DeliveryStatus,
  registeredDelivery = 1,
): SmsDelivery {
  return SmsDelivery.fromPartial({
    context: {
      messageId,
      accountId: 'acc',
      systemId,
      customerMessageId: messageId,
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      registeredDelivery,
      dataCoding: 0,
      receivedAt: new Date(Date.now() - 5000),
      receiptText: Buffer.from('Your code is 1234, do not share it'),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
    },
    status,
    final: status !== DeliveryStatus.DELIVERY_STATUS_ENROUTE,
    doneAt: new Date(),
    error:
      status === DeliveryStatus.DELIVERY_STATUS_DELIVERED
        ? undefined
        : { code: 'UNDELIVERABLE', receiptError: 34, message: 'absent subscriber' },
    revision: status === DeliveryStatus.DELIVERY_STATUS_ENROUTE ? 1 : 2,
    updatedAt: new Date(),
  });
}

describe('ingress: delivery receipts (store and forward, across replicas)', () => {
  const h = new Harness();
  let a: Replica;
  let b: Replica | undefined;
  const received: Pdu[] = [];
  const refused: Pdu[] = [];
  const receiver = (port: number, systemId: string, failFirst = 0): Promise<SmppSession> => {
    let failures = failFirst;
    return h.bind(port, {
      systemId,
      password: 'pw',
      bindType: 'receiver',
      handlers: {
        deliver_sm: (pdu) => {
          if (failures > 0) {
            failures--;
            refused.push(pdu);
            return { status: S.ESME_RX_T_APPN };
          }
          received.push(pdu);
          return {};
        },
      },
    });
  };
  const receiptsFor = (id: string): Pdu[] => received.filter((p) => p.receipted_message_id === id);

  beforeAll(async () => {
    await h.setup();
    a = await h.startReplica();
    await h.addAccount({ systemId: 'cust', password: 'pw', maxBinds: 4 });
    await h.addAccount({ systemId: 'later', password: 'pw' });
    await h.addAccount({ systemId: 'flaky', password: 'pw' });
    await h.addAccount({ systemId: 'other', password: 'pw', maxBinds: 4 });
  });
  afterAll(() => h.teardown());

  it('sends the receipt the customer asked for, with the id it got, and answers query_sm', async () => {
    const trx = await h.bind(a.port, {
      systemId: 'cust',
      password: 'pw',
      handlers: { deliver_sm: (pdu) => void received.push(pdu) },
    });
    const sub = await trx.submit({
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900123',
      registered_delivery: 1,
      short_message: Buffer.from('Your code is 1234'),
    });
    const id = sub.message_id as string;
    await h.producer.produce(h.topics.delivery, delivery(id, 'cust', DeliveryStatus.DELIVERY_STATUS_ENROUTE));
    await h.producer.produce(
      h.topics.delivery,
      delivery(id, 'cust', DeliveryStatus.DELIVERY_STATUS_DELIVERED),
    );
    const [r] = await waitFor(() => receiptsFor(id).length > 0 && receiptsFor(id), { what: 'the receipt' });
    expect(r!.esm_class).toBe(0x04);
    expect(r!.message_state).toBe(2);
    expect(r!.source_addr).toBe('447700900123');
    expect(r!.destination_addr).toBe('ACME');
    const text = parseReceipt(r!.short_message as Buffer);
    expect(text).toMatchObject({
      ok: true,
      id,
      stat: 'DELIVRD',
      sub: 1,
      dlvrd: 1,
      text: 'Your code is 1234, d',
    });
    const q = await trx.query({ message_id: id, source_addr: 'ACME', source_addr_ton: 5 });
    expect(q.message_state).toBe(2);
    expect(q.final_date).toMatch(/^\d{12}\d00\+$/);
    // Intermediate states give no receipt, and a redelivered event does not give a second one, also once
    // the acknowledged receipt's row is gone (its message's state row keeps the event out).
    await waitFor(
      async () =>
        (await h.pool.query(`SELECT 1 FROM ingress_pending_receipts WHERE message_id = $1`, [id]))
          .rowCount === 0,
      { what: 'the acknowledged receipt deleted' },
    );
    await h.producer.produce(
      h.topics.delivery,
      delivery(id, 'cust', DeliveryStatus.DELIVERY_STATUS_DELIVERED),
    );
    await h.receiptsSettled([id]);
    expect(receiptsFor(id)).toHaveLength(1);
  });

  it('honours registered_delivery 2 (failures only) and 0 (none), with the error in the receipt', async () => {
    const failOnlyOk = 'ffffffff-0000-7000-8000-000000000002';
    const failOnlyFailed = 'ffffffff-0000-7000-8000-000000000003';
    const none = 'ffffffff-0000-7000-8000-000000000004';
    await h.producer.produce(
      h.topics.delivery,
      delivery(failOnlyOk, 'cust', DeliveryStatus.DELIVERY_STATUS_DELIVERED, 2),
    );
    await h.producer.produce(
      h.topics.delivery,
      delivery(none, 'cust', DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE, 0),
    );
    await h.producer.produce(
      h.topics.delivery,
      delivery(failOnlyFailed, 'cust', DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE, 2),
    );
    const [r] = await waitFor(() => receiptsFor(failOnlyFailed).length > 0 && receiptsFor(failOnlyFailed), {
      what: 'the failure receipt',
    });
    expect(parseReceipt(r!.short_message as Buffer)).toMatchObject({ stat: 'UNDELIV', err: '034' });
    expect(r!.message_state).toBe(5);
    expect(r!.network_error_code).toEqual(Buffer.from([3, 0, 34]));
    // The others may be in other partitions: ingress has handled them once its group committed past them.
    await h.receiptsSettled([failOnlyOk, none]);
    const { rows } = await h.pool.query(
      `SELECT count(*)::int AS n FROM ingress_pending_receipts WHERE message_id = ANY($1::uuid[])`,
      [[failOnlyOk, none]],
    );
    expect(rows[0].n).toBe(0);
    expect(receiptsFor(failOnlyOk)).toHaveLength(0);
    expect(receiptsFor(none)).toHaveLength(0);
  });

  it('stores events consumed together: one receipt per message, and the newest state wins whatever the order', async () => {
    const ids = Array.from(
      { length: 40 },
      (_, i) => `eeeeeeee-0000-7000-8000-${String(i).padStart(12, '0')}`,
    );
    // Produced at once, so they reach ingress in the same fetches: per message the final event, then an
    // older intermediate one, then the final one again (a redelivery).
    await Promise.all(
      ids.flatMap((id) => [
        h.producer.produce(h.topics.delivery, delivery(id, 'cust', DeliveryStatus.DELIVERY_STATUS_DELIVERED)),
        h.producer.produce(h.topics.delivery, delivery(id, 'cust', DeliveryStatus.DELIVERY_STATUS_ENROUTE)),
        h.producer.produce(h.topics.delivery, delivery(id, 'cust', DeliveryStatus.DELIVERY_STATUS_DELIVERED)),
      ]),
    );
    await waitFor(() => ids.every((id) => receiptsFor(id).length > 0), {
      what: 'a receipt for every message',
    });
    await h.receiptsSettled(ids);
    for (const id of ids) expect(receiptsFor(id)).toHaveLength(1);
    const trx = await h.bind(a.port, {
      systemId: 'cust',
      password: 'pw',
      handlers: { deliver_sm: (pdu) => void received.push(pdu) },
    });
    for (const id of [ids[0]!, ids[17]!, ids[39]!]) {
      const q = await trx.query({ message_id: id, source_addr: 'ACME', source_addr_ton: 5 });
      expect(q.message_state).toBe(2); // DELIVERED, not the ENROUTE consumed after it
    }
    await trx.unbind();
  });

  it('stores receipts while the customer is not bound and forwards them when it binds', async () => {
    const id = 'ffffffff-0000-7000-8000-000000000010';
    await h.producer.produce(
      h.topics.delivery,
      delivery(id, 'later', DeliveryStatus.DELIVERY_STATUS_DELIVERED),
    );
    await waitFor(
      async () =>
        (await h.pool.query(`SELECT 1 FROM ingress_pending_receipts WHERE message_id = $1`, [id]))
          .rowCount === 1,
      {
        what: 'the receipt to be stored',
      },
    );
    const rx = await receiver(a.port, 'later');
    await waitFor(() => receiptsFor(id).length === 1, { what: 'the stored receipt after the bind' });
    await rx.unbind();
    // Acknowledged receipts are deleted together, shortly after they arrive.
    await waitFor(
      async () =>
        (await h.pool.query(`SELECT 1 FROM ingress_pending_receipts WHERE message_id = $1`, [id]))
          .rowCount === 0,
      { what: 'the acknowledged receipt deleted' },
    );
  });

  it('retries a receipt the customer did not acknowledge, without duplicates', async () => {
    const rx = await receiver(a.port, 'flaky', 2);
    const id = 'ffffffff-0000-7000-8000-000000000020';
    await h.producer.produce(
      h.topics.delivery,
      delivery(id, 'flaky', DeliveryStatus.DELIVERY_STATUS_DELIVERED),
    );
    await waitFor(() => receiptsFor(id).length === 1, {
      what: 'the receipt after two refusals',
      timeoutMs: 20_000,
    });
    await waitFor(
      async () =>
        (await h.pool.query(`SELECT 1 FROM ingress_pending_receipts WHERE message_id = $1`, [id]))
          .rowCount === 0,
      { what: 'the acknowledged receipt deleted' },
    );
    expect(refused.filter((p) => p.receipted_message_id === id)).toHaveLength(2);
    expect(receiptsFor(id)).toHaveLength(1);
    await rx.unbind();
  });

  it('delivers receipts consumed by one replica to a customer bound only to the other', async () => {
    b = await h.startReplica();
    // Both replicas share the delivery group: wait until each holds one of the two partitions.
    const admin = await testKafkaAdmin();
    try {
      await waitFor(
        async () => {
          const { groups } = await admin.describeGroups([h.deliveryGroup]);
          const g = groups[0];
          return g?.state === 'Stable' && g.members.length === 2;
        },
        { what: 'two members in the delivery group', timeoutMs: 30_000 },
      );
    } finally {
      await admin.disconnect();
    }
    const rx = await receiver(b.port, 'other');
    const ids = ['ffffffff-0000-7000-8000-000000000030', 'ffffffff-0000-7000-8000-000000000031'];
    // One event on each partition: one is consumed by replica A, which has no bind of 'other'.
    const raw = h.kafka.producer();
    await raw.connect();
    await raw.send({
      topic: h.topics.delivery.name,
      acks: -1,
      messages: ids.map((id, partition) => ({
        key: id,
        partition,
        value: Buffer.from(
          h.topics.delivery.encode(delivery(id, 'other', DeliveryStatus.DELIVERY_STATUS_DELIVERED)),
        ),
      })),
    });
    await raw.disconnect();
    await waitFor(() => ids.every((id) => receiptsFor(id).length === 1), {
      what: 'both receipts on replica B',
      timeoutMs: 20_000,
    });
    expect(rx.state).toBe('BOUND_RX');
    await rx.unbind();
  });

  it('holds max_binds across replicas', async () => {
    await h.addAccount({ systemId: 'single', password: 'pw', maxBinds: 1 });
    const first = await h.bind(a.port, { systemId: 'single', password: 'pw', bindType: 'transmitter' });
    const second = h.bind(b!.port, { systemId: 'single', password: 'pw', bindType: 'transmitter' });
    await expect(second).rejects.toMatchObject({ commandStatus: S.ESME_RBINDFAIL });
    await first.unbind();
    await waitFor(
      async () =>
        (await h
          .bind(b!.port, { systemId: 'single', password: 'pw', bindType: 'transmitter' })
          .catch(() => false)) !== false,
      { what: 'the slot to be free on the other replica' },
    );
  });

  it('refuses query_sm on a message of another account', async () => {
    const trx = await h.bind(a.port, { systemId: 'other', password: 'pw', bindType: 'transceiver' });
    try {
      await trx.query({ message_id: 'ffffffff-0000-7000-8000-000000000001', source_addr: 'ACME' });
      expect.unreachable();
    } catch (e) {
      expect((e as SmppError).commandStatus).toBe(S.ESME_RQUERYFAIL);
    }
  });
});
