// ConsumerOptions.firstTopics over the real broker (src/fetch-order.ts): the batches of the named topics are
// handed to the handlers before the other topics' batches of the same fetch. The lib's spec checks the
// reordering function alone; this checks that kafkajs's ConsumerGroup.fetch is wrapped and that its
// workers take the batches in that order, which a kafkajs change could silently undo (dlr's
// dispatches-first test notices a lost reorder only when the broker happens to answer receipts first).
// Two groups read the same two topics, each naming the other one first: whatever order the broker
// answers in, one of them sees that order reversed only through the patch.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { createTestTopics, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import { createKafka, TypedConsumer, TypedProducer } from '../src/index.js';
import { itemCodec } from './fixtures/json-codec.js';

const logger = createLogger({ service: 'kafka-fetch-order-test', level: 'error' });
let kafka: Kafka;
let producer: TypedProducer;
const consumers: TypedConsumer[] = [];

/** Per group: the topic of each batch handed to a handler, and '|' where a fetch with records returned. */
const seen = new Map<string, string[]>();
type Group = { groupId: string; fetch(nodeId: number): Promise<{ topic: string; isEmpty(): boolean }[]> };
const ConsumerGroup = createRequire(import.meta.url)('kafkajs/src/consumer/consumerGroup.js') as {
  prototype: Group;
};
const libFetch = ConsumerGroup.prototype.fetch; // the lib's patches, loaded with ../src/index.js

beforeAll(async () => {
  // Marks where each fetch's batches begin (kafkajs fetches again only once they are all handled).
  ConsumerGroup.prototype.fetch = async function fetch(this: Group, nodeId: number) {
    const batches = await libFetch.call(this, nodeId);
    if (batches.some((b) => !b.isEmpty())) seen.get(this.groupId)?.push('|');
    return batches;
  };
  kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('fetch-order-test') }, logger);
  producer = new TypedProducer(kafka, logger, { lingerMs: 0 });
  await producer.connect();
});

afterAll(async () => {
  for (const c of consumers) await c.stop();
  await producer.close();
  ConsumerGroup.prototype.fetch = libFetch;
});

/** The fetches of `order` (split at '|'), each as its batches' topics. */
const fetchesOf = (order: string[]): string[][] =>
  order
    .join(',')
    .split('|')
    .map((f) => f.split(',').filter(Boolean))
    .filter((f) => f.length > 0);

describe('firstTopics', () => {
  it("hands each fetch's batches of the named topic to the handlers first", async () => {
    const [a, b] = await createTestTopics(['fetch-order-a', 'fetch-order-b'], 3);
    const codecs = { a: itemCodec(a!), b: itemCodec(b!) };
    // Produced before the groups start: their first fetch brings every partition of both topics.
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) {
      sends.push(producer.produce(codecs.a, { id: `a${i}`, n: i }));
      sends.push(producer.produce(codecs.b, { id: `b${i}`, n: i }));
    }
    await Promise.all(sends);

    const groups = { a: uniqueName('first-a'), b: uniqueName('first-b') };
    const records = { a: { a: 0, b: 0 }, b: { a: 0, b: 0 } }; // by group, then by topic
    for (const first of ['a', 'b'] as const) {
      const groupId = groups[first];
      const order: string[] = [];
      seen.set(groupId, order);
      const c = new TypedConsumer(kafka, logger, {
        groupId,
        producer,
        fromBeginning: true,
        partitionsConsumedConcurrently: 1, // one worker: batches are handled in the order queued
        firstTopics: [codecs[first].name],
      });
      consumers.push(c);
      for (const t of ['a', 'b'] as const)
        c.onBatch(codecs[t], (rs) => {
          order.push(t);
          records[first][t] += rs.length;
        });
      await Promise.all([c.waitForAssignment(), c.start()]);
    }
    await waitFor(() => Object.values(records).every((r) => r.a === 12 && r.b === 12), {
      what: 'both groups through both topics',
      timeoutMs: 30_000,
    });

    for (const first of ['a', 'b'] as const) {
      const fetches = fetchesOf(seen.get(groups[first])!);
      // not vacuous: some fetch brought batches of both topics
      expect(fetches.some((f) => f.includes('a') && f.includes('b'))).toBe(true);
      for (const f of fetches) {
        const firstOther = f.findIndex((t) => t !== first);
        if (firstOther >= 0) expect(f.slice(firstOther), `group naming ${first} first`).not.toContain(first);
      }
    }
  });
});
