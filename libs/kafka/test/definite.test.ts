// definiteOutcome on the shared broker: a record the broker refuses fails by itself (certainly not written)
// while the records that shared its request are written once and resolve. Pausing a broker (the ambiguous
// case) is tested on a broker of its own in services/ingress/test/ambiguous-write.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { createTestTopics, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import { createKafka, TypedProducer } from '../src/index.js';
import { itemCodec, type Item } from './fixtures/json-codec.js';

const logger = createLogger({ service: 'kafka-definite-test', level: 'fatal' });
let kafka: Kafka;

beforeAll(() => {
  kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('definite') }, logger);
});

/** Every key on `topic` (one partition) once `expected` records are there. */
async function keysOn(topic: string, expected: number): Promise<string[]> {
  const c = kafka.consumer({ groupId: uniqueName('reader') });
  const keys: string[] = [];
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({ eachMessage: async ({ message }) => void keys.push(message.key!.toString()) });
  try {
    await waitFor(() => keys.length >= expected, {
      what: `${expected} records on ${topic}`,
      timeoutMs: 30_000,
    });
    // The end offset says nothing more is there: the records read are all of them.
    const admin = kafka.admin();
    await admin.connect();
    const [end] = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
    await waitFor(() => keys.length >= Number(end!.high), { what: `all ${end!.high} records of ${topic}` });
  } finally {
    await c.disconnect();
  }
  return keys;
}

describe('TypedProducer with definiteOutcome', () => {
  const producers: TypedProducer[] = [];
  afterAll(async () => {
    for (const p of producers) await p.close();
  });

  it('rejects a record the broker refuses, and writes the others of its batch exactly once', async () => {
    const [topic] = await createTestTopics(['definite'], 1);
    const codec = itemCodec(topic!);
    // One request for all four (linger 50 ms, no byte cap to split them): the broker refuses the whole
    // partition batch because of the 1.1 MB record.
    const p = new TypedProducer(kafka, logger, {
      definiteOutcome: true,
      lingerMs: 50,
      maxBatchBytes: 8 * 1024 * 1024,
    });
    producers.push(p);
    await p.connect();
    const outcomes = await Promise.allSettled([
      p.produce(codec, { id: 'a', n: 1 }),
      p.produce(codec, { id: 'huge', n: 2, pad: 'x'.repeat(1_100_000) } as Item),
      p.produce(codec, { id: 'b', n: 3 }),
      p.produce(codec, { id: 'c', n: 4 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as { type?: string }).type).toBe(
      'MESSAGE_TOO_LARGE',
    );
    const keys = await keysOn(topic!, 3);
    expect(keys.sort()).toEqual(['a', 'b', 'c']);
    // And the producer goes on.
    await p.produce(codec, { id: 'd', n: 5 });
  });
});
