// TypedProducer with lingerMs 0 (ingress's submits) against a fake kafkajs client whose requests are answered
// when the test says: no timer ever sends a batch (setTimeout is faked and never advanced), yet the records
// of one event-loop turn go in one request, and those produced while it is in flight go together as soon
// as it is answered.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Kafka, Message, ProducerBatch, RecordMetadata } from 'kafkajs';
import { createLogger } from '@smshub/logging';
import { TypedProducer } from './producer.js';

const logger = createLogger({ service: 'kafka-producer-linger-spec', level: 'fatal' });

function gatedKafka(): { kafka: Kafka; calls: string[][]; answer: () => void } {
  const calls: string[][] = [];
  const gates: Array<() => void> = [];
  const kafka = {
    producer() {
      return {
        connect: async () => undefined,
        disconnect: async () => undefined,
        async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
          const keys: string[] = [];
          const acks: RecordMetadata[] = [];
          for (const { topic, messages } of batch.topicMessages!)
            for (const m of messages as Message[]) {
              m.partition ??= 0; // as the pinning partitioner does: the answer is matched by partition
              keys.push(String(m.key));
              acks.push({ topicName: topic, partition: m.partition!, errorCode: 0 });
            }
          calls.push(keys);
          await new Promise<void>((resolve) => gates.push(resolve));
          return acks;
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, calls, answer: () => gates.shift()!() };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('TypedProducer with lingerMs 0', () => {
  for (const definiteOutcome of [false, true]) {
    it(`sends a turn's records at once in one request, and what queued behind it right after its answer, without a timer (definiteOutcome ${definiteOutcome})`, async () => {
      const { kafka, calls, answer } = gatedKafka();
      const producer = new TypedProducer(kafka, logger, { lingerMs: 0, definiteOutcome });
      await producer.connect();
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const done: string[] = [];
      const produce = (k: string): Promise<void> =>
        producer.produceRaw('t', k, Buffer.from(k), { noTrace: true }).then(() => void done.push(k));

      const first = ['a', 'b', 'c'].map(produce);
      await turn();
      expect(calls).toEqual([['a', 'b', 'c']]);

      // In flight: these wait for its answer (one request at a time keeps the sequence numbers in order).
      const second = ['d', 'e'].map(produce);
      await turn();
      await turn();
      expect(calls).toHaveLength(1);
      expect(done).toEqual([]);

      answer();
      await Promise.all(first);
      for (let i = 0; i < 5 && calls.length < 2; i++) await turn();
      expect(calls).toEqual([
        ['a', 'b', 'c'],
        ['d', 'e'],
      ]);
      expect(done).toEqual(['a', 'b', 'c']);
      answer();
      await Promise.all(second);
      expect(done).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(vi.getTimerCount()).toBe(0); // every record's ack timer was cleared; no linger timer was set
      vi.useRealTimers();
      await producer.close();
    });
  }
});
