// Issue 14 items 4 and 5 over real SMPP, Kafka and PostgreSQL: query_sm answers from the message's state
// (ENROUTE from the moment it is accepted, on any replica; its final state once sms.delivery.v1 says so;
// RQUERYFAIL for unknown ids and other accounts' messages), and the receipt text keeps GSM extension
// characters such as the euro sign.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, SubmitChannel, type SmsSubmitted } from '@smshub/contracts';
import {
  CommandStatus as S,
  decodeText,
  encodeGsm7,
  MessageState,
  parseReceipt,
  SmppError,
  type Pdu,
  type SmppSession,
} from '@smshub/smpp';
import { waitFor } from '@smshub/testing';
import { Harness, type Replica } from './harness.js';

/** The sms.delivery.v1 event dlr would publish for a submitted message, with its context as submitted. */
function deliveryOf(
  sub: SmsSubmitted,
  status: DeliveryStatus,
  final: boolean,
  revision: number,
): SmsDelivery {
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
      // What egress passes on: the first 20 octets of the user data.
      receiptText: sub.shortMessage.subarray(0, 20),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
    },
    status,
    final,
    doneAt: final ? new Date() : undefined,
    updatedAt: new Date(),
    error: final ? { code: 'UNDELIVERABLE', receiptError: 34, message: 'absent subscriber' } : undefined,
    revision,
  });
}

async function queryStatus(s: SmppSession, id: string): Promise<number> {
  try {
    await s.query({ message_id: id, source_addr: 'ACME', source_addr_ton: 5 });
    return S.ESME_ROK;
  } catch (e) {
    if (e instanceof SmppError) return e.commandStatus;
    throw e;
  }
}

describe('ingress: query_sm from the message state, receipt text', () => {
  const h = new Harness();
  let a: Replica;
  let b: Replica;
  const received: Pdu[] = [];

  beforeAll(async () => {
    await h.setup();
    await h.watchSubmitted();
    a = await h.startReplica();
    b = await h.startReplica();
    await h.addAccount({ systemId: 'cust', password: 'pw', maxBinds: 4 });
    await h.addAccount({ systemId: 'other', password: 'pw' });
  });
  afterAll(() => h.teardown());

  it('answers ENROUTE right after the submit, on any replica; the final state, date and error after delivery', async () => {
    const trx = await h.bind(a.port, {
      systemId: 'cust',
      password: 'pw',
      handlers: { deliver_sm: (pdu) => void received.push(pdu) },
    });
    const text = 'Pay €5 [ref 42] now';
    const sub = await trx.submit({
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: '447700900123',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      registered_delivery: 1,
      data_coding: 0,
      short_message: encodeGsm7(text),
    });
    const id = sub.message_id as string;

    // At once, on the replica that accepted it.
    const q1 = await trx.query({ message_id: id, source_addr: 'ACME', source_addr_ton: 5 });
    expect([q1.message_state, q1.final_date, q1.error_code]).toEqual([MessageState.ENROUTE, '', 0]);
    // On the other replica too, once the accepted state is written (within the flush interval).
    const onB = await h.bind(b.port, { systemId: 'cust', password: 'pw', bindType: 'transmitter' });
    await waitFor(async () => (await queryStatus(onB, id)) === S.ESME_ROK, {
      what: 'the other replica to know the accepted message',
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect((await onB.query({ message_id: id, source_addr: 'ACME' })).message_state).toBe(
      MessageState.ENROUTE,
    );

    // Another account, or an id nobody was given: RQUERYFAIL.
    const other = await h.bind(a.port, { systemId: 'other', password: 'pw', bindType: 'transmitter' });
    expect(await queryStatus(other, id)).toBe(S.ESME_RQUERYFAIL);
    expect(await queryStatus(trx, '01900000-0000-7000-8000-000000000000')).toBe(S.ESME_RQUERYFAIL);

    // An intermediate event (the supplier's SMSC accepted it) is still ENROUTE; then the final outcome.
    const submitted = await h.waitSubmitted(id);
    await h.producer.produce(
      h.topics.delivery,
      deliveryOf(submitted, DeliveryStatus.DELIVERY_STATUS_ACCEPTED, false, 1),
    );
    await h.producer.produce(
      h.topics.delivery,
      deliveryOf(submitted, DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE, true, 2),
    );
    const [receipt] = await waitFor(
      () =>
        received.filter((p) => p.receipted_message_id === id).length > 0 &&
        received.filter((p) => p.receipted_message_id === id),
      { what: 'the receipt', timeoutMs: 20_000 },
    );
    const final = await trx.query({ message_id: id, source_addr: 'ACME', source_addr_ton: 5 });
    expect(final.message_state).toBe(MessageState.UNDELIVERABLE);
    expect(final.error_code).toBe(34);
    expect(final.final_date).toMatch(/^\d{12}\d00\+$/);

    // The receipt keeps the euro sign and the brackets (GSM 03.38 extension characters).
    expect(receipt!.data_coding ?? 0).toBe(0);
    const parsed = parseReceipt(decodeText(receipt!.short_message as Buffer, receipt!.data_coding ?? 0));
    expect(parsed).toMatchObject({ ok: true, id, stat: 'UNDELIV', text: 'Pay €5 [ref 42] n' });
  });
});
