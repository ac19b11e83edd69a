import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { metricsRegistry } from '@smshub/telemetry';
import { createTestTopics, testKafkaAdmin, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import {
  createKafka,
  DLQ_HEADERS,
  ensureTopics,
  FETCH_LIMITS_DEFAULT,
  KafkaLibError,
  TypedConsumer,
  TypedProducer,
  type ConsumedRecord,
} from '../src/index.js';
import { itemCodec, type Item } from './fixtures/json-codec.js';

const logger = createLogger({ service: 'kafka-test', level: 'error' });
let kafka: Kafka;
let producer: TypedProducer;
const consumers: TypedConsumer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('kafka-test') }, logger);
  producer = new TypedProducer(kafka, logger);
  await producer.connect();
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const c of consumers) await c.stop();
  await producer.close();
});

function newConsumer(
  groupId = uniqueName('g'),
  fetch?: { maxBytes: number; maxBytesPerPartition: number },
): TypedConsumer {
  const c = new TypedConsumer(kafka, logger, {
    groupId,
    producer,
    ...(fetch ? { fetch } : {}),
    retry: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 100 },
    commitIntervalMs: 100,
  });
  consumers.push(c);
  return c;
}

/** Reads every record of a topic from the beginning with a throwaway group. */
async function readAll(
  topic: string,
  expected: number,
): Promise<Array<{ key: string | null; value: Buffer | null; headers: Record<string, string> }>> {
  const c = kafka.consumer({ groupId: uniqueName('reader') });
  const seen: Array<{ key: string | null; value: Buffer | null; headers: Record<string, string> }> = [];
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      seen.push({ key: message.key?.toString() ?? null, value: message.value, headers });
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

describe('producer', () => {
  it('resolves produce() only after the record is on the topic, keyed by the codec', async () => {
    const [topic] = await createTestTopics(['produce'], 3);
    const codec = itemCodec(topic!);
    await Promise.all(Array.from({ length: 50 }, (_, i) => producer.produce(codec, { id: `m${i}`, n: i })));
    const records = await readAll(topic!, 50);
    expect(records).toHaveLength(50);
    expect(new Set(records.map((r) => r.key))).toEqual(
      new Set(Array.from({ length: 50 }, (_, i) => `m${i}`)),
    );
  });

  it('rejects the records of a batch Kafka refuses, and carries the next ones on a new idempotent producer', async () => {
    const [topic] = await createTestTopics(['renew'], 1);
    const codec = itemCodec(topic!);
    const p = new TypedProducer(kafka, logger, { lingerMs: 0 });
    await p.connect();
    try {
      await p.produce(codec, { id: 'before', n: 0 });
      // Over the broker's message.max.bytes (1 MB): refused, and the batch's records are rejected.
      await expect(
        p.produce(codec, { id: 'huge', n: 1, pad: 'x'.repeat(1_100_000) } as Item),
      ).rejects.toThrow();
      const renewals = async () =>
        (await metricsRegistry.getSingleMetric('smshub_kafka_producer_renewals_total')?.get())?.values[0]
          ?.value ?? 0;
      const before = await renewals();
      await Promise.all(Array.from({ length: 20 }, (_, i) => p.produce(codec, { id: `after${i}`, n: i })));
      expect(await renewals()).toBe(before + 1);
      const keys = (await readAll(topic!, 21)).map((r) => r.key);
      expect(keys).not.toContain('huge');
      expect(new Set(keys)).toEqual(
        new Set(['before', ...Array.from({ length: 20 }, (_, i) => `after${i}`)]),
      );
    } finally {
      await p.close();
    }
  });

  it('refuses records after close with a clear error', async () => {
    const p = new TypedProducer(kafka, logger);
    await p.connect();
    await p.close();
    await expect(p.produce(itemCodec('any'), { id: 'x', n: 1 })).rejects.toThrow('the producer is closed');
  });
});

describe('consumer', () => {
  it('sends a poison record to the dead-letter topic with its origin, and goes on with the next ones', async () => {
    const [topic] = await createTestTopics(['poison']);
    const codec = itemCodec(topic!);
    const got: Item[] = [];
    const consumer = newConsumer().on(codec, (r) => void got.push(r.value));
    await producer.produce(codec, { id: 'before', n: 1 });
    await producer.produceRaw(topic!, 'bad-key', Buffer.from('this is not an item'));
    await producer.produce(codec, { id: 'after', n: 2 });
    await consumer.start();
    await waitFor(() => got.length === 2, { what: 'the two good records' });
    expect(got.map((i) => i.id)).toEqual(['before', 'after']);
    const dlq = await readAll(consumer.deadLetterTopic, 1);
    expect(dlq[0]!.key).toBe('bad-key');
    expect(dlq[0]!.value!.toString()).toBe('this is not an item');
    expect(dlq[0]!.headers[DLQ_HEADERS.sourceTopic]).toBe(topic);
    expect(dlq[0]!.headers[DLQ_HEADERS.sourceOffset]).toBe('1');
    expect(dlq[0]!.headers[DLQ_HEADERS.error]).toMatch(/cannot decode/);
  });

  it('retries a retriable failure until it succeeds, and dead-letters a permanent one', async () => {
    const [topic] = await createTestTopics(['retry']);
    const codec = itemCodec(topic!);
    let flaky = 0;
    const done: string[] = [];
    const consumer = newConsumer().on(codec, (r) => {
      if (r.value.id === 'flaky' && ++flaky < 4)
        throw new KafkaLibError('database unavailable', { retriable: true });
      if (r.value.id === 'invalid') throw new KafkaLibError('unknown account', { retriable: false });
      done.push(r.value.id);
    });
    for (const id of ['flaky', 'invalid', 'fine']) await producer.produce(codec, { id, n: 0 });
    await consumer.start();
    await waitFor(() => done.length === 2, { what: 'flaky and fine processed' });
    expect(done).toEqual(['flaky', 'fine']);
    expect(flaky).toBe(4);
    const dlq = await readAll(consumer.deadLetterTopic, 1);
    expect(dlq.map((r) => r.key)).toEqual(['invalid']);
    expect(dlq[0]!.headers[DLQ_HEADERS.error]).toBe('unknown account');
  });

  it('hands a batch handler the records of a batch, and isolates a poison record in a failing batch', async () => {
    const [topic] = await createTestTopics(['batch']);
    const codec = itemCodec(topic!);
    const processed: string[] = [];
    const consumer = newConsumer().onBatch(codec, (records: ConsumedRecord<Item>[]) => {
      if (records.some((r) => r.value.n < 0)) throw new Error('negative amount');
      processed.push(...records.map((r) => r.value.id));
    });
    for (let i = 0; i < 10; i++) await producer.produce(codec, { id: `b${i}`, n: i === 5 ? -1 : i });
    await consumer.start();
    await waitFor(() => processed.length === 9, { what: 'nine good records' });
    expect(processed.sort()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b6', 'b7', 'b8', 'b9']);
    const dlq = await readAll(consumer.deadLetterTopic, 1);
    expect(dlq.map((r) => r.key)).toEqual(['b5']);
  });

  it('redelivers a record to the group when the member that took it dies before committing', async () => {
    const [topic] = await createTestTopics(['atleastonce']);
    const codec = itemCodec(topic!);
    const group = uniqueName('alo');
    await producer.produce(codec, { id: 'only-once-please', n: 7 });

    const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/crashing-consumer.ts');
    const child = spawn(process.execPath, ['--conditions=@smshub/source', '--import', 'tsx', fixture], {
      env: { ...process.env, KAFKA_BROKERS: testKafkaBrokers().join(','), TOPIC: topic, GROUP: group },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('GOT only-once-please'), {
      what: 'the first member to take the record',
      timeoutMs: 45_000,
    });
    child.kill('SIGKILL');

    const got: ConsumedRecord<Item>[] = [];
    const survivor = newConsumer(group).on(codec, (r) => void got.push(r));
    await survivor.start();
    await waitFor(() => got.length > 0, {
      what: 'the record redelivered to the surviving member',
      timeoutMs: 45_000,
    });
    expect(got[0]!.value).toEqual({ id: 'only-once-please', n: 7 });
    expect(got[0]!.offset).toBe('0');
    // the child's start (tsx) and the dead member's session timeout (6 s) come on top of the two waits
  }, 120_000);
});

describe('consumer fetch limits', () => {
  it('bounds what one fetch brings back while a consumer works through a large backlog, and still delivers every record', async () => {
    const [topic] = await createTestTopics(['backlog'], 3);
    const codec = itemCodec(topic!);
    // 6,000 records of about 1 KB (6 MB, 2 MB per partition), written 30 to a request so that the broker
    // holds record batches of about 30 KB, well under the limits (a first batch larger than the limit
    // would be returned whole).
    const total = 6000;
    const pad = 'x'.repeat(1000);
    const raw = kafka.producer();
    await raw.connect();
    try {
      for (let i = 0; i < total; i += 30) {
        await raw.send({
          topic: topic!,
          messages: Array.from({ length: 30 }, (_, j) => ({
            key: `r${i + j}`,
            value: JSON.stringify({ id: `r${i + j}`, n: i + j, pad }),
          })),
        });
      }
    } finally {
      await raw.disconnect();
    }

    const small = { maxBytes: 128 * 1024, maxBytesPerPartition: 64 * 1024 };
    const runs = [
      { limit: small.maxBytesPerPartition, consumer: newConsumer(uniqueName('small'), small) },
      { limit: FETCH_LIMITS_DEFAULT.maxBytesPerPartition, consumer: newConsumer(uniqueName('default')) },
    ].map(({ limit, consumer }) => {
      const run = { limit, consumer, ids: new Set<string>(), largestBatchBytes: 0, batches: 0 };
      consumer.onBatch(codec, (records) => {
        let bytes = 0;
        for (const r of records) {
          bytes += r.bytes!.length;
          run.ids.add(r.value.id);
        }
        run.batches++;
        run.largestBatchBytes = Math.max(run.largestBatchBytes, bytes);
      });
      return run;
    });
    for (const run of runs) await run.consumer.start();
    await waitFor(() => runs.every((r) => r.ids.size === total), {
      what: `all ${total} records in both groups`,
      timeoutMs: 90_000,
    });
    for (const run of runs) {
      // A batch is one partition's share of one fetch: never more than the per-partition limit.
      expect(run.largestBatchBytes).toBeLessThanOrEqual(run.limit);
      expect(run.batches).toBeGreaterThanOrEqual(Math.ceil((total * 1000) / run.limit));
    }
    // 6 MB written then read twice: 34 s on a machine at load 30, beyond the default 60 s at worse
  }, 150_000);

  it('refuses a per-partition limit larger than the total with a clear error', () => {
    expect(
      () =>
        new TypedConsumer(kafka, logger, {
          groupId: uniqueName('bad'),
          producer,
          fetch: { maxBytes: 64 * 1024, maxBytesPerPartition: 128 * 1024 },
        }),
    ).toThrow('the consumer fetch limit maxBytesPerPartition (131072) is larger than maxBytes (65536)');
  });
});

describe('ensureTopics', () => {
  it('creates topics with their layout, is idempotent, and grows partitions', async () => {
    const admin = await testKafkaAdmin();
    try {
      const name = uniqueName('layout');
      const first = await ensureTopics(admin, [
        { name, partitions: 2, retentionMs: 3_600_000, compacted: false },
        { name: `${name}.c`, partitions: 1, retentionMs: null, compacted: true },
      ]);
      expect(first.created.sort()).toEqual([name, `${name}.c`]);
      const again = await ensureTopics(admin, [
        { name, partitions: 2, retentionMs: 3_600_000, compacted: false },
      ]);
      expect(again).toEqual({ created: [], grown: [], unchanged: [name] });
      const grown = await ensureTopics(admin, [
        { name, partitions: 4, retentionMs: 3_600_000, compacted: false },
      ]);
      expect(grown.grown).toEqual([name]);
      // Metadata catches up with the controller shortly after createPartitions returns.
      await waitFor(
        async () => (await admin.fetchTopicMetadata({ topics: [name] })).topics[0]!.partitions.length === 4,
        {
          what: `${name} to have 4 partitions`,
        },
      );
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: `${name}.c`, configNames: ['cleanup.policy', 'retention.ms'] }],
      });
      const entries = Object.fromEntries(
        configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
      );
      expect(entries).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '-1' });
    } finally {
      await admin.disconnect();
    }
  });
});
