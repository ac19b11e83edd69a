// Reading given offset ranges of topics once, outside any processing group, raw (undecoded): tools that
// browse a topic by offset (admin's dead-letter browser). A throwaway group, deleted afterwards; nothing
// committed. One range per topic partition per call.
import type { IHeaders, Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';

/** Offsets [from, to) of one topic partition. */
export interface OffsetRange {
  topic: string;
  partition: number;
  from: bigint;
  to: bigint;
}

/** A record as stored: bytes and headers, not decoded. */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** Record timestamp (ms since the epoch, as a decimal string). */
  timestamp: string;
}

/**
 * The records in `ranges` (those retention or compaction left), in offset order per range. Fails after
 * `timeoutMs` (default 30 s) rather than hang on an unreachable partition.
 */
export async function readOffsetRanges(
  kafka: Kafka,
  ranges: OffsetRange[],
  opts: { timeoutMs?: number } = {},
): Promise<RawRecord[]> {
  const wanted = ranges.filter((r) => r.from < r.to);
  if (wanted.length === 0) return [];
  const id = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const byId = new Map(wanted.map((r) => [id(r.topic, r.partition), r]));
  if (byId.size !== wanted.length) throw new Error('readOffsetRanges: one range per topic partition');
  const groupId = `smshub-range-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  const out: RawRecord[] = [];
  await consumer.connect();
  try {
    const remaining = new Set(byId.keys());
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? 30_000;
      const timer = setTimeout(
        () =>
          reject(new Error(`reading ${[...remaining].length} ranges did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      const topics = [...new Set(wanted.map((r) => r.topic))];
      consumer
        .subscribe({ topics, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const key = id(batch.topic, batch.partition);
              const range = byId.get(key);
              if (range === undefined || !remaining.has(key)) return;
              for (const m of batch.messages) {
                const offset = BigInt(m.offset);
                if (offset < range.from || offset >= range.to) continue;
                out.push({
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: m.offset,
                  key: m.key,
                  value: m.value,
                  headers: m.headers ?? {},
                  timestamp: m.timestamp,
                });
              }
              if (BigInt(batch.lastOffset()) >= range.to - 1n) {
                remaining.delete(key);
                if (remaining.size === 0) {
                  clearTimeout(timer);
                  resolve();
                }
              }
            },
          }),
        )
        .then(() => {
          for (const r of wanted)
            consumer.seek({ topic: r.topic, partition: r.partition, offset: r.from.toString() });
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
  const order = (a: RawRecord, b: RawRecord): number =>
    a.topic < b.topic
      ? -1
      : a.topic > b.topic
        ? 1
        : a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1);
  return out.sort(order);
}
