import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { createLogger } from '@smshub/logging';
import { createTestTopics, testKafkaBrokers, uniqueName, waitFor } from '@smshub/testing';
import { createKafka, TypedConsumer, TypedProducer, type ConsumedRecord } from '../src/index.js';
import { itemCodec, type Item } from './fixtures/json-codec.js';

// The consumer reads no trace from a record without headers (it skips the propagators there, session 10):
// a record with a traceparent header still carries its trace to both kinds of handler. The producer writes
// no trace headers when it has no trace and no baggage to carry (it skips the propagators there too), and
// still writes them when it has.
const logger = createLogger({ service: 'kafka-trace-test', level: 'error' });
let kafka: Kafka;
let producer: TypedProducer;
const consumers: TypedConsumer[] = [];

beforeAll(async () => {
  kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('kafka-trace') }, logger);
  producer = new TypedProducer(kafka, logger);
  await producer.connect();
});

afterAll(async () => {
  for (const c of consumers) await c.stop();
  await producer.close();
});

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

describe('trace context of consumed records', () => {
  for (const mode of ['batch', 'record'] as const) {
    it(`hands a ${mode} handler the trace of a record's traceparent header, and none without headers`, async () => {
      const [topic] = await createTestTopics([`trace-${mode}`]);
      const codec = itemCodec(topic!);
      const got = new Map<string, ConsumedRecord<Item>>();
      const consumer = new TypedConsumer(kafka, logger, { groupId: uniqueName('trace'), producer });
      consumers.push(consumer);
      if (mode === 'batch') consumer.onBatch(codec, (rs) => rs.forEach((r) => got.set(r.value.id, r)));
      else consumer.on(codec, (r) => void got.set(r.value.id, r));
      await producer.produceRaw(topic!, 'plain', Buffer.from(codec.encode({ id: 'plain', n: 1 })), {
        noTrace: true,
      });
      await producer.produceRaw(topic!, 'traced', Buffer.from(codec.encode({ id: 'traced', n: 2 })), {
        noTrace: true,
        headers: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` },
      });
      await consumer.start();
      await waitFor(() => got.size === 2, { what: 'both records' });
      expect(got.get('plain')!.headers).toEqual({});
      expect(trace.getSpanContext(got.get('plain')!.traceContext)).toBeUndefined();
      expect(trace.getSpanContext(got.get('traced')!.traceContext)).toMatchObject({
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        isRemote: true,
      });
    });
  }

  it('writes trace headers when the record continues a trace or carries baggage, none otherwise', async () => {
    const [topic] = await createTestTopics(['trace-produce']);
    const codec = itemCodec(topic!);
    const got = new Map<string, ConsumedRecord<Item>>();
    const consumer = new TypedConsumer(kafka, logger, { groupId: uniqueName('trace'), producer });
    consumers.push(consumer);
    consumer.onBatch(codec, (rs) => rs.forEach((r) => got.set(r.value.id, r)));
    const traced = trace.setSpanContext(context.active(), {
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const withBaggage = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    await producer.produce(codec, { id: 'none', n: 1 });
    await producer.produce(codec, { id: 'traced', n: 2 }, { traceContext: traced });
    await producer.produce(codec, { id: 'baggage', n: 3 }, { traceContext: withBaggage });
    await consumer.start();
    await waitFor(() => got.size === 3, { what: 'the three records' });
    expect(got.get('none')!.headers).toEqual({});
    expect(String(got.get('traced')!.headers['traceparent'])).toMatch(new RegExp(`^00-${TRACE_ID}-`));
    expect(String(got.get('baggage')!.headers['baggage'])).toBe('tenant=acme');
  });
});
