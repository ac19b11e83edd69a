// Reads billing.rated.v1 back for a period, as a finance consumer would: records are deduplicated by
// message id (the topic may hold an identical copy of a record, never a different one) and bucketed like
// countCdrs, so the reconciliation compares the two record for record.
//
// Records of a period are produced at or after its start (rated_at is when rating produced them), so the
// read starts at the offsets of the start time and runs to the partition ends seen when the read begins.

import type { BillingRated, TopicSpec } from '@smshub/contracts';
import { readTopicSince, type Kafka } from '@smshub/kafka';
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
  const byId = new Map<string, BillingRated>();
  await readTopicSince(
    kafka,
    spec,
    { fromMs, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) },
    (r) => void byId.set(r.value.messageId, r.value),
  );
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
