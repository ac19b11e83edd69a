// Reads billing.rated.v1 back for a period, as a finance consumer would: records are deduplicated by
// message id (the topic may hold an identical copy of a record, never a different one) and bucketed like
// countCdrs, so the reconciliation compares the two record for record.
//
// Records of a period are produced at or after its start (rated_at is when rating produced them), so the
// read starts at the offsets of the start time and runs to the partition ends seen when the read begins.

import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { BillingRated, TopicSpec } from '@smshub/contracts';
import type { Period } from './domain/settlement.js';
import { recordCountKey, type RecordCount } from './settlement-store.js';

function periodStart(t: number, period: Period): number {
  const d = new Date(t);
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * Every record on the topic produced at or after `fromMs` (up to the partition ends seen when the read
 * begins), by message id: an identical copy of a record collapses into one.
 */
export async function readRatedTopic(
  kafka: Kafka,
  spec: TopicSpec<BillingRated>,
  fromMs: number,
  opts: { timeoutMs?: number } = {},
): Promise<Map<string, BillingRated>> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `smshub-rating-reconcile-${randomUUID()}`;
  let ranges: { partition: number; from: bigint; to: bigint }[];
  try {
    const fromOffsets = await admin.fetchTopicOffsetsByTimestamp(spec.name, fromMs);
    const ends = await admin.fetchTopicOffsets(spec.name);
    ranges = ends
      .map((e) => {
        const from = fromOffsets.find((f) => f.partition === e.partition)?.offset ?? e.low;
        const start = BigInt(from) < 0n ? BigInt(e.high) : BigInt(from);
        return { partition: e.partition, from: start, to: BigInt(e.high) };
      })
      .filter((r) => r.from < r.to);
  } finally {
    await admin.disconnect();
  }
  const byId = new Map<string, BillingRated>();
  if (ranges.length === 0) return byId;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    const remaining = new Set(ranges.map((r) => r.partition));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${spec.name} back did not finish in time`)),
        opts.timeoutMs ?? 60_000,
      );
      consumer
        .subscribe({ topic: spec.name, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const range = ranges.find((r) => r.partition === batch.partition);
              if (range === undefined) return;
              for (const m of batch.messages) {
                const offset = BigInt(m.offset);
                if (offset < range.from || offset >= range.to || m.value === null) continue;
                const rec = spec.decode(m.value);
                byId.set(rec.messageId, rec);
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
            consumer.seek({ topic: spec.name, partition: r.partition, offset: r.from.toString() });
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  return byId;
}

export async function countRatedTopic(
  kafka: Kafka,
  spec: TopicSpec<BillingRated>,
  q: { supplierId: string; period: Period; start: Date; end: Date },
  opts: { timeoutMs?: number } = {},
): Promise<RecordCount[]> {
  const byId = await readRatedTopic(kafka, spec, q.start.getTime(), opts);
  const buckets = new Map<string, RecordCount>();
  for (const rec of byId.values()) {
    const ratedAt = rec.ratedAt?.getTime();
    if (ratedAt === undefined || ratedAt < q.start.getTime() || ratedAt >= q.end.getTime()) continue;
    if (q.supplierId !== '' && rec.supplierId !== q.supplierId) continue;
    const row: RecordCount = {
      periodStart: periodStart(ratedAt, q.period),
      mccMnc: rec.destinationMccMnc,
      currency: rec.buy?.currencyCode ?? '',
      messages: 0,
      amountMinor: 0n,
    };
    const key = recordCountKey(row);
    const acc = buckets.get(key) ?? row;
    acc.messages += 1;
    acc.amountMinor += rec.buy?.minorUnits ?? 0n;
    buckets.set(key, acc);
  }
  return [...buckets.values()];
}
