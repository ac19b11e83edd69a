// The idle wait of a batching consumer (real Kafka, src/idle-fetch.ts): with minBytes above 1 and a short
// maxWaitMs, a consumer with no traffic switches to minBytes 1 and a 1 s wait after a fetch that found
// nothing, so it sends about a fetch a second instead of one per maxWaitMs; a record answers that fetch at
// once, and the next fetch batches again with the configured settings.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { createTestTopics, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import { createKafka, TypedConsumer, TypedProducer } from '../src/index.js';
import { itemCodec } from './fixtures/json-codec.js';

const logger = createLogger({ service: 'kafka-idle-fetch-test', level: 'error' });
let kafka: Kafka;
let producer: TypedProducer;
const consumers: TypedConsumer[] = [];

/** Every fetch request of this process, in the order sent: what it asked for and the records it got. */
interface FetchCall {
  minBytes: number;
  maxWaitTime: number;
  records?: number;
}
const fetches: FetchCall[] = [];
type FetchArgs = { minBytes: number; maxWaitTime: number };
type FetchResult = { responses: { partitions: { messages?: unknown[] }[] }[] };
const Broker = createRequire(import.meta.url)('kafkajs/src/broker/index.js') as {
  prototype: { fetch(args: FetchArgs): Promise<FetchResult> };
};
const originalFetch = Broker.prototype.fetch;

// The two consumers are told apart by their minBytes (both batch; only the second has no idle wait).
const PATCHED_MIN_BYTES = 65_536;
const CONTROL_MIN_BYTES = 65_537;
const byConsumer = (minBytes: number) =>
  fetches.filter((f) => f.minBytes === minBytes || (minBytes === PATCHED_MIN_BYTES && f.minBytes === 1));

beforeAll(async () => {
  Broker.prototype.fetch = async function fetch(args) {
    const call: FetchCall = { minBytes: args.minBytes, maxWaitTime: args.maxWaitTime };
    fetches.push(call);
    const result = await originalFetch.call(this, args);
    call.records = result.responses.reduce(
      (s, t) => s + t.partitions.reduce((p, x) => p + (x.messages?.length ?? 0), 0),
      0,
    );
    return result;
  };
  kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('idle-fetch-test') }, logger);
  producer = new TypedProducer(kafka, logger, { lingerMs: 0 });
  await producer.connect();
});

afterAll(async () => {
  for (const c of consumers) await c.stop();
  await producer.close();
  Broker.prototype.fetch = originalFetch;
});

describe('idle wait of a batching consumer', () => {
  it('fetches about once a second when idle, answers the first record at once, then batches again', async () => {
    const [topic] = await createTestTopics(['idle-fetch'], 1);
    const codec = itemCodec(topic!);
    const seen = { patched: [] as string[], control: [] as string[] };
    const make = (minBytes: number, idleMaxWaitMs: number | undefined, into: string[]) => {
      const c = new TypedConsumer(kafka, logger, {
        groupId: uniqueName('g'),
        producer,
        fromBeginning: true,
        minBytes,
        maxWaitMs: 50,
        ...(idleMaxWaitMs !== undefined ? { idleMaxWaitMs } : {}),
      });
      consumers.push(c);
      c.onBatch(codec, (records) => {
        for (const r of records) into.push(r.value.id);
      });
      return c;
    };
    const patched = make(PATCHED_MIN_BYTES, undefined, seen.patched); // the default idle wait
    const control = make(CONTROL_MIN_BYTES, 0, seen.control); // 0: no idle wait
    await Promise.all([patched.waitForAssignment(), patched.start()]);
    await Promise.all([control.waitForAssignment(), control.start()]);

    await producer.produce(codec, { id: 'first', n: 1 });
    await waitFor(() => seen.patched.includes('first') && seen.control.includes('first'), {
      what: 'the first record handled by both consumers',
      timeoutMs: 30_000,
    });

    // Idle now: wait until the patched consumer has sent three idle fetches, then compare the counts.
    const from = fetches.length;
    const idleFetches = () => fetches.slice(from).filter((f) => f.minBytes === 1);
    await waitFor(() => idleFetches().filter((f) => f.records !== undefined).length >= 3, {
      what: 'three idle fetches of the patched consumer answered',
      timeoutMs: 30_000,
    });
    const window = fetches.slice(from);
    const patchedN = window.filter((f) => f.minBytes === 1 || f.minBytes === PATCHED_MIN_BYTES).length;
    const controlN = window.filter((f) => f.minBytes === CONTROL_MIN_BYTES).length;
    expect(idleFetches().every((f) => f.maxWaitTime === 1000)).toBe(true);
    // Three 1 s waits (and at most a batching fetch before them) against one fetch per 50 ms.
    expect(patchedN).toBeLessThanOrEqual(5);
    expect(controlN).toBeGreaterThanOrEqual(4 * patchedN);

    // A record answers the waiting idle fetch (minBytes 1), and the next fetch batches again.
    const before = byConsumer(PATCHED_MIN_BYTES).length;
    await producer.produce(codec, { id: 'second', n: 2 });
    await waitFor(() => seen.patched.includes('second'), {
      what: 'the second record handled',
      timeoutMs: 30_000,
    });
    await waitFor(
      () =>
        byConsumer(PATCHED_MIN_BYTES)
          .slice(before)
          .some((f) => f.records === 0),
      {
        what: 'a fetch of the patched consumer after the second record',
        timeoutMs: 30_000,
      },
    );
    const after = byConsumer(PATCHED_MIN_BYTES).slice(before - 1);
    const answered = after.findIndex((f) => (f.records ?? 0) > 0);
    expect(answered).toBeGreaterThanOrEqual(0);
    expect(after[answered]).toMatchObject({ minBytes: 1, maxWaitTime: 1000, records: 1 });
    expect(after[answered + 1]).toMatchObject({ minBytes: PATCHED_MIN_BYTES, maxWaitTime: 50 });
  });
});
