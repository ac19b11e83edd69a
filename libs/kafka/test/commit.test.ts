// Offset commits of a TypedConsumer (real Kafka): at most one OffsetCommit request per commit interval
// under a live flow (kafkajs's autoCommit sent one after every partition batch), every handled offset
// committed within the interval, and what was handled committed by stop().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { createTestTopics, testKafkaAdmin, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import { createKafka, TypedConsumer, TypedProducer } from '../src/index.js';
import { itemCodec } from './fixtures/json-codec.js';

const logger = createLogger({ service: 'kafka-commit-test', level: 'error' });
let kafka: Kafka;
let producer: TypedProducer;
/** OffsetCommit requests sent by the consumers made on `kafka`, by group. */
const commits = new Map<string, number>();
const consumers: TypedConsumer[] = [];

beforeAll(async () => {
  kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('commit-test') }, logger);
  // Every kafkajs consumer made on this client counts its OffsetCommit requests.
  const make = kafka.consumer.bind(kafka);
  kafka.consumer = (config: ConsumerConfig): Consumer => {
    const c = make(config);
    c.on(c.events.REQUEST, (e) => {
      if (e.payload.apiName === 'OffsetCommit')
        commits.set(config.groupId, (commits.get(config.groupId) ?? 0) + 1);
    });
    return c;
  };
  producer = new TypedProducer(kafka, logger, { lingerMs: 0 });
  await producer.connect();
});

afterAll(async () => {
  for (const c of consumers) await c.stop();
  await producer.close();
});

/** Committed offsets of `groupId` on `topic`, summed over its partitions (records behind the commit). */
async function committed(groupId: string, topic: string): Promise<number> {
  const admin = await testKafkaAdmin();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('offset commits', () => {
  it('commits a flow of batches at most once per interval, and every handled record within it', async () => {
    const [topic] = await createTestTopics(['commits'], 6);
    const codec = itemCodec(topic!);
    const groupId = uniqueName('g');
    const c = new TypedConsumer(kafka, logger, { groupId, producer, commitIntervalMs: 1000 });
    consumers.push(c);
    let batches = 0;
    let handled = 0;
    c.onBatch(codec, (records) => {
      batches++;
      handled += records.length;
    });
    await Promise.all([c.waitForAssignment(), c.start()]);

    // A paced flow: 40 rounds of 6 records 50 ms apart (about 2 s), each round a batch per partition.
    const started = Date.now();
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => producer.produce(codec, { id: `r${round}-${i}`, n: i })),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await waitFor(() => handled >= 240, { what: '240 records handled', timeoutMs: 30_000 });
    const flowSeconds = (Date.now() - started) / 1000;
    // Every handled offset is committed within the interval (the positive signal before counting).
    await waitFor(async () => (await committed(groupId, topic!)) === 240, {
      what: 'all 240 offsets committed',
      timeoutMs: 10_000,
    });
    const sent = commits.get(groupId) ?? 0;
    // kafkajs's autoCommit sent one per non-empty partition batch (at least 40 here).
    expect(batches).toBeGreaterThanOrEqual(40);
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThanOrEqual(Math.ceil(flowSeconds) + 2);
  }, 60_000);

  it('commits what was handled when stopped, however long the interval', async () => {
    const [topic] = await createTestTopics(['stop-commit'], 3);
    const codec = itemCodec(topic!);
    const groupId = uniqueName('g');
    const c = new TypedConsumer(kafka, logger, { groupId, producer, commitIntervalMs: 600_000 });
    let handled = 0;
    c.on(codec, () => {
      handled++;
    });
    await Promise.all([c.waitForAssignment(), c.start()]);
    await Promise.all(Array.from({ length: 30 }, (_, i) => producer.produce(codec, { id: `s${i}`, n: i })));
    await waitFor(() => handled >= 30, { what: '30 records handled', timeoutMs: 30_000 });
    expect(await committed(groupId, topic!)).toBe(0); // nothing yet: the interval is 10 minutes
    await c.stop();
    expect(await committed(groupId, topic!)).toBe(30);

    // A new member of the group starts after them: it gets only what comes next.
    const next = new TypedConsumer(kafka, logger, { groupId, producer });
    consumers.push(next);
    const seen: string[] = [];
    next.on(codec, (r) => {
      seen.push(r.value.id);
    });
    await Promise.all([next.waitForAssignment(), next.start()]);
    await producer.produce(codec, { id: 'later', n: 0 });
    await waitFor(() => seen.includes('later'), { what: 'the later record' });
    expect(seen).toEqual(['later']);
  }, 60_000);
});
