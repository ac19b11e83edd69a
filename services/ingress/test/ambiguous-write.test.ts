// An error command_status must mean the message will never be sent. A broker of this test's own (started by
// deploy/local/kafka.sh in a temporary directory: the run's shared broker is never paused) is stopped with
// SIGSTOP for 15 s while a client submits over real SMPP, then resumed. Every answer is then checked against
// what sms.submitted.v1 holds: no message answered with an error is on the topic, every message answered
// ESME_ROK is there exactly once, and some answers were held through the stall (past the 10 s at which
// ingress used to answer ESME_RSYSERR for a record Kafka then wrote anyway).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics as registry } from '@smshub/contracts';
import { createKafka, TypedProducer } from '@smshub/kafka';
import { SmppError, type SmppSession } from '@smshub/smpp';
import {
  createIsolatedTopics,
  startPrivateKafka,
  uniqueName,
  waitFor,
  type PrivateKafka,
} from '@smshub/testing';
import { INGRESS_PRODUCER_OPTIONS } from '../src/durable-accept.js';
import { Harness, type Replica } from './harness.js';

const STALL_MS = 15_000;

interface Answer {
  text: string;
  status: number;
  messageId?: string;
  ms: number;
}

describe('ingress: no duplicate from an ambiguous Kafka write (broker paused 15 s)', () => {
  const h = new Harness();
  let broker: PrivateKafka;
  let r: Replica;
  let tx: SmppSession;
  /**
   * Every record of sms.submitted.v1 (hub message id and text) by partition/offset: a copy written twice is
   * two entries, a record the watcher reads twice (a group rejoin after the stall) is one.
   */
  const records = new Map<string, { messageId: string; text: string }>();

  beforeAll(async () => {
    broker = await startPrivateKafka();
    // The harness's database and accounts; its Kafka side moved to the private broker.
    await h.setup();
    await h.producer.close();
    h.kafka = createKafka({ brokers: broker.brokers, clientId: uniqueName('amb'), ssl: false }, h.logger);
    h.topics = await createIsolatedTopics(registry, { brokers: broker.brokers });
    h.producer = new TypedProducer(h.kafka, h.logger, INGRESS_PRODUCER_OPTIONS);
    await h.producer.connect();
    const watch = await h.consumer({ groupId: uniqueName('amb-watch'), fromBeginning: true });
    watch.on(h.topics.submitted, (rec) => {
      records.set(`${rec.partition}/${rec.offset}`, {
        messageId: rec.value.customerMessageId,
        text: rec.value.shortMessage.toString(),
      });
    });
    const assigned = watch.waitForAssignment();
    await watch.start();
    await assigned;
    r = await h.startReplica();
    await h.addAccount({ systemId: 'amb', password: 'pw', tpsLimit: 1000, maxWindow: 200 });
    tx = await h.bind(r.port, { systemId: 'amb', password: 'pw', responseTimeoutMs: 60_000 });
  }, 180_000);

  afterAll(async () => {
    await h.teardown();
    await broker?.stop();
  }, 60_000);

  const submit = async (text: string): Promise<Answer> => {
    const t0 = Date.now();
    try {
      const resp = await tx.submit({
        source_addr_ton: 5,
        source_addr: 'AMB',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: '447700900123',
        data_coding: 0,
        short_message: Buffer.from(text),
      });
      return { text, status: 0, messageId: resp.message_id as string, ms: Date.now() - t0 };
    } catch (err) {
      if (!(err instanceof SmppError)) throw err;
      return { text, status: err.commandStatus, ms: Date.now() - t0 };
    }
  };

  it('answers no error for a message that reaches sms.submitted.v1, and writes each accepted one once', async () => {
    const answers: Array<Promise<Answer>> = [];
    const run = uniqueName('m');
    let n = 0;
    const send = (): void => void answers.push(submit(`${run}-${n++}`));
    // 20 submits a second: 2 s before the stall, through it, and 3 s after it.
    const ticker = setInterval(send, 50);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    broker.signal('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    broker.signal('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    clearInterval(ticker);
    const all = await Promise.all(answers);

    // Every answer is in; one more message, then the topic's end offsets: the watcher has read everything
    // once it holds that many records (a fresh topic, offsets from 0, no transactions).
    const sentinel = await submit(`${run}-sentinel`);
    expect(sentinel.status).toBe(0);
    const admin = h.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(h.topics.submitted.name).finally(() => admin.disconnect());
    const total = ends.reduce((sum, p) => sum + Number(p.high), 0);
    await waitFor(() => records.size >= total, {
      timeoutMs: 30_000,
      what: `the watcher to read ${total} records of sms.submitted.v1 (has ${records.size})`,
    });
    const onTopic = [...records.values()];
    expect(onTopic.some((rec) => rec.messageId === sentinel.messageId)).toBe(true);
    const ok = all.filter((a) => a.status === 0);
    const texts = new Map<string, number>();
    for (const rec of onTopic) texts.set(rec.text, (texts.get(rec.text) ?? 0) + 1);
    const errored = all.filter((a) => a.status !== 0);
    const erroredButWritten = errored.filter((a) => texts.has(a.text));
    const ids = new Map<string, number>();
    for (const rec of onTopic) ids.set(rec.messageId, (ids.get(rec.messageId) ?? 0) + 1);
    const notOnce = ok.filter((a) => ids.get(a.messageId!) !== 1);
    const held = ok.filter((a) => a.ms >= 10_000);
    console.info(
      `ambiguous-write: ${all.length} submits, ${ok.length} ESME_ROK (${held.length} held >= 10 s, longest ${Math.max(...ok.map((a) => a.ms))} ms), ` +
        `${errored.length} errors (${[...new Set(errored.map((a) => a.status))].map((s) => '0x' + s.toString(16)).join(', ')}), ` +
        `${erroredButWritten.length} answered with an error but written, ${notOnce.length} accepted not exactly once`,
    );
    expect(erroredButWritten).toEqual([]);
    expect(notOnce).toEqual([]);
    // The stall was real: answers were held through it rather than given up at 10 s.
    expect(held.length).toBeGreaterThan(0);
  }, 120_000);
});
