// The account's message_id_format over real SMPP, Kafka and PostgreSQL: a 'decimal' or 'hex' account gets
// numbers below 2^63 in submit_sm_resp, distinct across two replicas; the same id is in the event (so it
// reaches the receipt), in query_sm and in the receipt; a 'uuid' account keeps the hub id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, SubmitChannel, type SmsSubmitted } from '@smshub/contracts';
import { decodeText, encodeGsm7, MessageState, parseReceipt, type Pdu, type SmppSession } from '@smshub/smpp';
import { waitFor } from '@smshub/testing';
import { Harness, type Replica } from './harness.js';

const SUBMIT = {
  source_addr: 'ACME',
  source_addr_ton: 5,
  destination_addr: '447700900123',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  registered_delivery: 1,
  data_coding: 0,
  short_message: encodeGsm7('your code is 1234'),
};

function delivered(sub: SmsSubmitted): SmsDelivery {
  return SmsDelivery.fromPartial({
    context: {
      messageId: sub.messageId,
      accountId: sub.accountId,
      systemId: sub.systemId,
      customerMessageId: sub.customerMessageId,
      source: sub.source,
      destination: sub.destination,
      registeredDelivery: sub.registeredDelivery,
      dataCoding: sub.dataCoding,
      receivedAt: sub.receivedAt,
      validityUntil: sub.validityUntil,
      receiptText: sub.shortMessage.subarray(0, 20),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    doneAt: new Date(),
    updatedAt: new Date(),
    revision: 1,
  });
}

describe('ingress: message_id_format', () => {
  const h = new Harness();
  let a: Replica;
  let b: Replica;

  async function account(systemId: string, format: string): Promise<void> {
    await h.addAccount({ systemId, password: 'pw', maxBinds: 4 });
    await h.pool.query(`UPDATE accounts SET message_id_format = $2 WHERE system_id = $1`, [systemId, format]);
    for (const r of [a, b]) await r.ingress.accounts.reload();
  }

  async function submitMany(s: SmppSession, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await s.submit(SUBMIT)).message_id as string);
    return ids;
  }

  beforeAll(async () => {
    await h.setup();
    await h.watchSubmitted();
    a = await h.startReplica();
    b = await h.startReplica();
    await account('dec', 'decimal');
    await account('hexa', 'hex');
    await account('uid', 'uuid');
  });
  afterAll(() => h.teardown());

  it('decimal: numbers below 2^63, distinct across replicas, carried to the event, query_sm and the receipt', async () => {
    const received: Pdu[] = [];
    const onA = await h.bind(a.port, {
      systemId: 'dec',
      password: 'pw',
      handlers: { deliver_sm: (pdu) => void received.push(pdu) },
    });
    const onB = await h.bind(b.port, { systemId: 'dec', password: 'pw', bindType: 'transmitter' });
    const ids = [...(await submitMany(onA, 20)), ...(await submitMany(onB, 20))];
    for (const id of ids) {
      expect(id).toMatch(/^[1-9]\d{0,18}$/);
      expect(BigInt(id) < 2n ** 63n).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);

    const id = ids[0]!;
    const sub = await h.waitSubmitted(id);
    expect(sub.messageId).toMatch(/^[0-9a-f]{8}-/); // the hub id stays a UUID
    const q = await onA.query({ message_id: id, source_addr: 'ACME', source_addr_ton: 5 });
    expect(q.message_state).toBe(MessageState.ENROUTE);

    await h.producer.produce(h.topics.delivery, delivered(sub));
    const receipt = await waitFor(() => received.find((p) => p.receipted_message_id === id), {
      what: 'the receipt with the numeric id',
      timeoutMs: 20_000,
    });
    const parsed = parseReceipt(decodeText(receipt.short_message as Buffer, receipt.data_coding ?? 0));
    expect(parsed).toMatchObject({ ok: true, id, stat: 'DELIVRD' });
  });

  it('hex: the same kind of number in at most 16 lowercase hex digits; uuid keeps the hub id', async () => {
    const hex = await h.bind(a.port, { systemId: 'hexa', password: 'pw', bindType: 'transmitter' });
    for (const id of await submitMany(hex, 5)) expect(id).toMatch(/^[1-9a-f][0-9a-f]{0,15}$/);
    const uid = await h.bind(b.port, { systemId: 'uid', password: 'pw', bindType: 'transmitter' });
    const id = (await submitMany(uid, 1))[0]!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await h.waitSubmitted(id)).messageId).toBe(id);
  });
});
