// Every event type of the registry through a real Kafka topic: the consumer decodes exactly what was
// produced, and its processing span belongs to the producer's trace (trace context in the headers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { trace } from '@opentelemetry/api';
import { createKafka, TypedConsumer, TypedProducer, type ConsumedRecord } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { startTelemetry, withSpan } from '@smshub/telemetry';
import { createIsolatedTopics, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import { topics, type TopicId, type TopicSpec } from '../src/index.js';
import { samples } from '../src/samples.js';

const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({
  serviceName: 'contracts-test',
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const logger = createLogger({ service: 'contracts-test', level: 'error' });
const ids = Object.keys(topics) as TopicId[];

let isolated: typeof topics;
let producer: TypedProducer;
let consumer: TypedConsumer;
const received = new Map<TopicId, { record: ConsumedRecord<unknown>; traceId: string | undefined }>();

beforeAll(async () => {
  isolated = await createIsolatedTopics(topics, { maxPartitions: 1 });
  const kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('contracts') }, logger);
  producer = new TypedProducer(kafka, logger);
  await producer.connect();
  consumer = new TypedConsumer(kafka, logger, { groupId: uniqueName('contracts'), producer });
  for (const id of ids) {
    consumer.on(isolated[id] as TopicSpec<unknown>, (record) => {
      received.set(id, { record, traceId: trace.getActiveSpan()?.spanContext().traceId });
    });
  }
  await consumer.start();
});

afterAll(async () => {
  await consumer?.stop();
  await producer?.close();
  await telemetry.shutdown();
});

describe('every event type through a real topic', () => {
  it('is decoded as produced, keyed by its registry key, and processed in the producer trace', async () => {
    const sent = new Map<TopicId, string>();
    for (const id of ids) {
      const spec = isolated[id] as TopicSpec<unknown>;
      await withSpan(`produce ${id}`, async (span) => {
        sent.set(id, span.spanContext().traceId);
        await producer.produce(spec, samples[id]);
      });
    }
    await waitFor(() => received.size === ids.length, {
      what: `all ${ids.length} event types consumed`,
      timeoutMs: 45_000,
    });
    for (const id of ids) {
      const got = received.get(id)!;
      expect(got.record.value, id).toEqual(samples[id]);
      expect(got.record.key, id).toBe((topics[id] as TopicSpec<unknown>).key(samples[id]));
      expect(got.traceId, `${id} trace`).toBe(sent.get(id));
    }
    // The exported consumer spans name the topic and have the producer's span as an ancestor trace.
    const consumerSpans = exporter.getFinishedSpans().filter((s) => s.name.endsWith(' process'));
    expect(consumerSpans.length).toBeGreaterThanOrEqual(ids.length);
    expect(new Set(consumerSpans.map((s) => s.spanContext().traceId))).toEqual(new Set(sent.values()));
  });
});
