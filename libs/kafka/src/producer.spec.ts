// TypedProducer against a fake kafkajs client (no I/O): a sendBatch that resolves without an answer for
// some partitions, as kafkajs 2.2.4 does when its retry of a multi-broker request skips the brokers that
// had answered (tulios/kafkajs#1303): the records of those partitions are not acknowledged to the caller
// until a later request writes them.
import { describe, expect, it } from 'vitest';
import type { Kafka, Message, ProducerBatch, ProducerConfig, RecordMetadata } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { TypedProducer, unacknowledged } from './producer.js';

const logger = createLogger({ service: 'kafka-producer-spec', level: 'fatal' });
const PARTITIONS = 6;

interface Call {
  producer: number;
  records: Array<{ topic: string; key: string; partition: number }>;
}

/**
 * A kafkajs client whose producers place records with the configured partitioner (as kafkajs does) and
 * answer per partition; `skip(call)` names partitions ("topic[p]") left out of a call's answer (never written).
 */
function fakeKafka(skip: (call: number) => string[]): { kafka: Kafka; calls: Call[]; written: string[] } {
  const calls: Call[] = [];
  const written: string[] = [];
  let producers = 0;
  const kafka = {
    producer(config: ProducerConfig) {
      const id = producers++;
      const partitioner = config.createPartitioner!();
      const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
        partitionId,
        leader: 1 + (partitionId % 3),
        replicas: [1, 2, 3],
        isr: [1, 2, 3],
        partitionErrorCode: 0,
      }));
      return {
        connect: async () => undefined,
        disconnect: async () => undefined,
        async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
          const call: Call = { producer: id, records: [] };
          const n = calls.push(call) - 1;
          const left = new Set(skip(n));
          const answered = new Map<string, RecordMetadata>();
          for (const { topic, messages } of batch.topicMessages!) {
            for (const message of messages as Message[]) {
              const partition = partitioner({ topic, partitionMetadata, message });
              const key = String(message.key);
              call.records.push({ topic, key, partition });
              if (left.has(`${topic}[${partition}]`)) continue;
              written.push(key);
              answered.set(`${topic}[${partition}]`, {
                topicName: topic,
                partition,
                errorCode: 0,
                baseOffset: '0',
              });
            }
          }
          return [...answered.values()];
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, calls, written };
}

describe('TypedProducer: a batch Kafka reports sent is checked partition by partition', () => {
  for (const definiteOutcome of [false, true]) {
    it(`a record whose partition got no answer is sent again, and resolves only once written (definiteOutcome ${definiteOutcome})`, async () => {
      // The first request's answer leaves out orders[1] and receipts[4] (partitions of a leader that died,
      // moved to brokers that had already answered); later requests are answered whole.
      const { kafka, calls, written } = fakeKafka((n) => (n === 0 ? ['orders[1]', 'receipts[4]'] : []));
      const producer = new TypedProducer(kafka, logger, { definiteOutcome, lingerMs: 20 });
      await producer.connect();
      const keys = Array.from({ length: 60 }, (_, i) => `m-${i}`);
      const resolvedAt = new Map<string, number>();
      await Promise.all(
        keys.map((k, i) =>
          producer
            .produceRaw(i % 2 ? 'receipts' : 'orders', k, Buffer.from(k), { noTrace: true })
            .then(() => resolvedAt.set(k, calls.length)),
        ),
      );
      await producer.close();

      const first = calls[0]!;
      expect(first.records).toHaveLength(60); // one request for all of them
      const skipped = first.records.filter(
        (r) => (r.topic === 'orders' && r.partition === 1) || (r.topic === 'receipts' && r.partition === 4),
      );
      expect(skipped.length).toBeGreaterThan(0);
      // Every record is written, the skipped ones by a second request through a new producer (fresh
      // producer id and sequence numbers), to the same partition; nothing else is sent twice.
      expect([...written].sort()).toEqual([...keys].sort());
      expect(calls).toHaveLength(2);
      expect(calls[1]!.producer).toBe(1);
      expect(calls[1]!.records.map((r) => `${r.key}@${r.topic}[${r.partition}]`).sort()).toEqual(
        skipped.map((r) => `${r.key}@${r.topic}[${r.partition}]`).sort(),
      );
      // Those resolved after the second request, the others after the first.
      for (const r of first.records) expect(resolvedAt.get(r.key), r.key).toBe(skipped.includes(r) ? 2 : 1);
    });
  }

  it('unacknowledged: a record without a pinned partition, or whose partition has no answer (or an error), is not acknowledged', () => {
    const rec = (topic: string, partition?: number) => ({
      topic,
      message: { key: 'k', value: null, ...(partition !== undefined && { partition }) },
    });
    const a = rec('t', 0);
    const b = rec('t', 1);
    const c = rec('u', 0);
    const d = rec('t');
    const e = rec('u', 2);
    const acks: RecordMetadata[] = [
      { topicName: 't', partition: 0, errorCode: 0 },
      { topicName: 'u', partition: 0, errorCode: 0 },
      { topicName: 'u', partition: 2, errorCode: 6 },
    ];
    expect(unacknowledged([a, b, c, d, e], acks)).toEqual([b, d, e]);
    expect(unacknowledged([a], undefined)).toEqual([a]);
  });
});
