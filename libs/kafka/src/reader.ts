// Reading a stretch of a topic once, outside any processing group: a service reading its own output back
// (after a restart, or to reconcile against it). A throwaway group, deleted afterwards; nothing committed.
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { withSpan } from '@smshub/telemetry';
import { DecodeError } from './errors.js';
import { withAdminRetries, type TopicCodec } from './topics.js';

export interface ReadRecord<T> {
  partition: number;
  offset: string;
  key: string | null;
  value: T;
}

export interface ReadTopicOptions {
  /** Each partition is read from its first record with a timestamp at or after this time (ms). */
  fromMs: number;
  /** Bound on the whole read (default 60 s): it fails rather than hang on an unreachable partition. */
  timeoutMs?: number;
}

interface Range {
  partition: number;
  from: bigint;
  to: bigint;
}

/**
 * Reads every record of `codec`'s topic from `opts.fromMs` up to the partition ends seen when the read
 * begins, and hands each decoded record to `onRecord` (in order within a partition). Returns how many were
 * read. An undecodable record fails the read (DecodeError), as does the timeout.
 */
export async function readTopicSince<T>(
  kafka: Kafka,
  codec: TopicCodec<T>,
  opts: ReadTopicOptions,
  onRecord: (record: ReadRecord<T>) => void,
): Promise<number> {
  return withSpan(
    `${codec.name} read back`,
    async (span) => {
      const ranges = await rangesSince(kafka, codec.name, opts.fromMs);
      const read = ranges.length === 0 ? 0 : await readRanges(kafka, codec, ranges, opts, onRecord);
      span.setAttribute('messaging.batch.message_count', read);
      return read;
    },
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': codec.name },
    },
  );
}

async function rangesSince(kafka: Kafka, topic: string, fromMs: number): Promise<Range[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const fromOffsets = await withAdminRetries(() => admin.fetchTopicOffsetsByTimestamp(topic, fromMs));
    const ends = await withAdminRetries(() => admin.fetchTopicOffsets(topic));
    return ends
      .map((e) => {
        const from = fromOffsets.find((f) => f.partition === e.partition)?.offset ?? e.low;
        // -1: no record at or after fromMs in this partition.
        const start = BigInt(from) < 0n ? BigInt(e.high) : BigInt(from);
        return { partition: e.partition, from: start, to: BigInt(e.high) };
      })
      .filter((r) => r.from < r.to);
  } finally {
    await admin.disconnect();
  }
}

async function readRanges<T>(
  kafka: Kafka,
  codec: TopicCodec<T>,
  ranges: Range[],
  opts: ReadTopicOptions,
  onRecord: (record: ReadRecord<T>) => void,
): Promise<number> {
  const groupId = `smshub-read-${codec.name}-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  let read = 0;
  await consumer.connect();
  try {
    const remaining = new Set(ranges.map((r) => r.partition));
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? 60_000;
      const timer = setTimeout(
        () => reject(new Error(`reading ${codec.name} back did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      consumer
        .subscribe({ topic: codec.name, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const range = ranges.find((r) => r.partition === batch.partition);
              if (range === undefined || !remaining.has(batch.partition)) return;
              for (const m of batch.messages) {
                const offset = BigInt(m.offset);
                if (offset < range.from || offset >= range.to || m.value === null) continue;
                let value: T;
                try {
                  value = codec.decode(m.value);
                } catch (err) {
                  return fail(new DecodeError(codec.name, err));
                }
                read++;
                onRecord({
                  partition: batch.partition,
                  offset: m.offset,
                  key: m.key ? m.key.toString('utf8') : null,
                  value,
                });
              }
              if (BigInt(batch.lastOffset()) >= range.to - 1n) {
                remaining.delete(batch.partition);
                if (remaining.size === 0) {
                  clearTimeout(timer);
                  resolve();
                }
              }
            },
          }),
        )
        .then(() => {
          for (const r of ranges)
            consumer.seek({ topic: codec.name, partition: r.partition, offset: r.from.toString() });
        })
        .catch(fail);
    });
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  return read;
}
