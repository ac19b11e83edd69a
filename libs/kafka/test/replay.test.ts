// Dead letters replayed through `<group>.replay` reach the group that failed them, and no other group.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { createTestTopics, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import {
  createKafka,
  DLQ_HEADERS,
  KafkaLibError,
  replayRecordOf,
  TypedConsumer,
  TypedProducer,
  type DeadLetterRecord,
} from '../src/index.js';
import { itemCodec } from './fixtures/json-codec.js';

const logger = createLogger({ service: 'kafka-replay-test', level: 'error' });
let kafka: Kafka;
let producer: TypedProducer;
const consumers: TypedConsumer[] = [];

beforeAll(async () => {
  kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('kafka-replay') }, logger);
  producer = new TypedProducer(kafka, logger);
  await producer.connect();
});

afterAll(async () => {
  for (const c of consumers) await c.stop();
  await producer.close();
});

function newConsumer(groupId = uniqueName('g')): TypedConsumer {
  const c = new TypedConsumer(kafka, logger, {
    groupId,
    producer,
    retry: { maxAttempts: 2, initialBackoffMs: 20, maxBackoffMs: 50 },
    commitIntervalMs: 100,
  });
  consumers.push(c);
  return c;
}

/** The dead letters of a topic, waiting until there are `expected`. */
async function deadLetters(topic: string, expected: number): Promise<DeadLetterRecord[]> {
  const c = kafka.consumer({ groupId: uniqueName('reader') });
  const seen: DeadLetterRecord[] = [];
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      seen.push({
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: message.headers ?? {},
      });
    },
  });
  try {
    await waitFor(() => seen.length >= expected, {
      what: `${expected} records on ${topic}`,
      timeoutMs: 30_000,
    });
  } finally {
    await c.disconnect();
  }
  return seen;
}

async function replay(consumer: TypedConsumer, dl: DeadLetterRecord): Promise<void> {
  const r = replayRecordOf(dl);
  await producer.produceRaw(consumer.replayTopic, r.key, r.value, { headers: r.headers, noTrace: true });
}

/** Waits until `group` has committed `offset` on `topic` partition 0 (it processed everything before). */
async function committed(group: string, topic: string, offset: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        return t?.partitions.find((p) => p.partition === 0)?.offset === offset;
      },
      { what: `${group} committed ${offset} on ${topic}`, timeoutMs: 30_000 },
    );
  } finally {
    await admin.disconnect();
  }
}

describe('dead-letter replay', () => {
  it.each(['record', 'batch'] as const)(
    'hands a replayed dead letter to the failing group only (%s handler); a replay that fails again is dead-lettered with attempts added',
    async (kind) => {
      const [topic] = await createTestTopics(['replay']);
      const codec = itemCodec(topic!);
      let broken = true;
      // A batch is retried whole when one record fails: A's handler is idempotent, as handlers must be.
      const handledA = new Set<string>();
      let badHandled = 0;
      const seenB: string[] = [];
      const groupA = uniqueName('failing');
      const a = newConsumer(groupA);
      const handle = (id: string) => {
        if (id === 'bad' && broken) throw new KafkaLibError('tariff missing', { retriable: false });
        if (id === 'bad') badHandled++;
        handledA.add(id);
      };
      if (kind === 'record') a.on(codec, (r) => handle(r.value.id));
      else a.onBatch(codec, (rs) => rs.forEach((r) => handle(r.value.id)));
      const b = newConsumer().on(codec, (r) => void seenB.push(r.value.id));

      for (const id of ['good1', 'bad', 'good2']) await producer.produce(codec, { id, n: 0 });
      await Promise.all([a.start(), b.start()]);
      await waitFor(() => handledA.size === 2 && seenB.length === 3, {
        what: 'both groups through the topic',
      });
      const [first] = await deadLetters(a.deadLetterTopic, 1);
      expect(first!.headers[DLQ_HEADERS.sourceOffset]?.toString()).toBe('1');

      // Replayed while the fault is still there: dead-lettered again, same origin, attempts 1 + 1.
      await replay(a, first!);
      const [, second] = await deadLetters(a.deadLetterTopic, 2);
      expect(second!.key?.toString()).toBe('bad');
      expect(second!.headers[DLQ_HEADERS.sourceTopic]?.toString()).toBe(topic);
      expect(second!.headers[DLQ_HEADERS.sourceOffset]?.toString()).toBe('1');
      expect(second!.headers[DLQ_HEADERS.attempts]?.toString()).toBe('2');
      expect(second!.headers[DLQ_HEADERS.error]?.toString()).toBe('tariff missing');
      expect(second!.headers[DLQ_HEADERS.errorType]?.toString()).toBe('KafkaLibError');
      expect([...handledA]).toEqual(['good1', 'good2']);

      // Fixed, then replayed: handled once by A.
      broken = false;
      await replay(a, second!);
      await waitFor(() => handledA.has('bad'), { what: 'the replayed record handled' });
      await committed(groupA, a.replayTopic, '2');
      expect(badHandled).toBe(1);

      // B does not see it again: a later record on the topic reaches B, 'bad' is still there once.
      await producer.produce(codec, { id: 'later', n: 0 });
      await waitFor(() => seenB.includes('later'), { what: 'B reads a later record' });
      expect(seenB).toEqual(['good1', 'bad', 'good2', 'later']);
    },
    // four group joins and a commit wait, each up to seconds on a busy machine
    120_000,
  );
});
