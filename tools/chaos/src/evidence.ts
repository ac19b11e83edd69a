// What the hub published, read back at the end of a run: accepted dispatches (sms.dispatched.v1) and rated
// records (billing.rated.v1) per hub id, and the simulator's counters from its /metrics.
import { DispatchOutcome, namespacedTopics, topics, type TopicSpec } from '@smshub/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { chaosSeq } from './verify.js';

/** Reads a topic from the beginning up to the end offsets of the moment, and hands each decoded value over. */
export async function readTopic<T>(
  brokers: string,
  spec: TopicSpec<T>,
  onValue: (value: T, timestamp: number) => void,
  timeoutMs = 60_000,
): Promise<number> {
  const kafka = new Kafka({
    clientId: 'chaos-reader',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const p of await admin.fetchTopicOffsets(spec.name)) ends.set(p.partition, BigInt(p.high));
  } finally {
    await admin.disconnect();
  }
  const remaining = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  if (remaining.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: `chaos-reader-${randomBytes(6).toString('hex')}` });
  let count = 0;
  let undecodable = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: spec.name, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${spec.name} took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition) ?? 0n;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end) break;
              try {
                if (m.value) onValue(spec.decode(m.value), Number(m.timestamp));
                count++;
              } catch {
                undecodable++;
              }
            }
            if (BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  if (undecodable > 0) throw new Error(`${undecodable} records of ${spec.name} could not be decoded`);
  return count;
}

export interface Published {
  /** Distinct supplier message ids of ACCEPTED dispatches, per "<hub id>#<part>": above 1 = sent twice. */
  acceptedDispatches: Map<string, number>;
  /** Rated records per hub id. */
  rated: Map<string, number>;
  /** Kafka time (ms) of each message's first ACCEPTED dispatch (a re-published copy comes later). */
  acceptedDispatchAt: Map<string, number>;
  /** Every rated record beyond a message's first, with its Kafka timestamp (ms). */
  ratedExtraAt: { hubId: string; at: number }[];
  /** Distinct rated record values (bytes) per hub id: 1 with several records = identical copies. */
  ratedDistinct: Map<string, number>;
  /** Distinct hub ids on sms.submitted.v1 per client sequence number (from the run's texts). */
  hubIdsBySeq: Map<number, string[]>;
  /** Kafka time and connector of each part's first ACCEPTED dispatch. */
  dispatchTimes: { connectorId: string; at: number }[];
  /** Every hub id on sms.submitted.v1 and sms.routed.v1. */
  submittedIds: Set<string>;
  routedIds: Set<string>;
  /** Dispatch outcomes per hub id, in topic order (e.g. ["ACCEPTED", "TIMEOUT"]). */
  dispatchOutcomes: Map<string, string[]>;
  /** Hub ids with a final TIMEOUT dispatch without a supplier id: sent when egress died, not resent. */
  unknownOutcome: Set<string>;
  /** Final sms.delivery.v1 records per hub id. */
  finalDeliveries: Map<string, number>;
  dispatchRecords: number;
  /** ACCEPTED dispatch records repeating an earlier one (same part, same supplier id): re-published, not resent. */
  republishedDispatches: number;
  ratedRecords: number;
  /** sms.rejected.v1 records (routing refused the message) by reason. */
  rejectedByReason: Record<string, number>;
}

const bump = <K>(m: Map<K, number>, k: K): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** Reads the message-flow topics of the hub's namespace. */
export async function readPublished(brokers: string, namespace: string, runTag: string): Promise<Published> {
  const t = namespacedTopics(topics, namespace);
  const supplierIds = new Map<string, Set<string>>();
  const ratedValues = new Map<string, Set<string>>();
  const out: Published = {
    acceptedDispatches: new Map(),
    rated: new Map(),
    acceptedDispatchAt: new Map(),
    unknownOutcome: new Set(),
    ratedExtraAt: [],
    ratedDistinct: new Map(),
    hubIdsBySeq: new Map(),
    dispatchTimes: [],
    submittedIds: new Set(),
    routedIds: new Set(),
    dispatchOutcomes: new Map(),
    finalDeliveries: new Map(),
    dispatchRecords: 0,
    republishedDispatches: 0,
    ratedRecords: 0,
    rejectedByReason: {},
  };
  const id = (s: string | undefined): string => (s ?? '').toLowerCase();
  const [dispatchRecords, ratedRecords] = await Promise.all([
    readTopic(brokers, t.dispatched, (d, at) => {
      const mid = id(d.context?.messageId);
      const outcomes = out.dispatchOutcomes.get(mid) ?? [];
      outcomes.push(DispatchOutcome[d.outcome]?.replace('DISPATCH_OUTCOME_', '') ?? String(d.outcome));
      out.dispatchOutcomes.set(mid, outcomes);
      if (d.outcome === DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT && d.finalFailure && !d.supplierMessageId)
        out.unknownOutcome.add(mid);
      if (d.outcome !== DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED) return;
      out.acceptedDispatchAt.set(mid, Math.min(at, out.acceptedDispatchAt.get(mid) ?? at));
      const key = `${mid}#${d.partNumber || 1}`;
      const ids = supplierIds.get(key) ?? new Set<string>();
      if (ids.has(d.supplierMessageId)) out.republishedDispatches++;
      else if (ids.size === 0) out.dispatchTimes.push({ connectorId: d.connectorId, at });
      ids.add(d.supplierMessageId);
      supplierIds.set(key, ids);
    }),
    readTopic(brokers, t.rated, (r, at) => {
      const mid = id(r.messageId);
      if (out.rated.has(mid)) out.ratedExtraAt.push({ hubId: mid, at });
      bump(out.rated, mid);
      const values = ratedValues.get(mid) ?? new Set<string>();
      values.add(Buffer.from(t.rated.encode(r)).toString('base64'));
      ratedValues.set(mid, values);
    }),
    readTopic(brokers, t.rejected, (r) => {
      out.rejectedByReason[r.reason] = (out.rejectedByReason[r.reason] ?? 0) + 1;
    }),
    readTopic(brokers, t.submitted, (r) => {
      const mid = id(r.messageId);
      out.submittedIds.add(mid);
      const seq = chaosSeq(Buffer.from(r.shortMessage).toString('latin1'), runTag);
      if (seq === undefined) return;
      const ids = out.hubIdsBySeq.get(seq) ?? [];
      if (!ids.includes(mid)) ids.push(mid);
      out.hubIdsBySeq.set(seq, ids);
    }),
    readTopic(brokers, t.routed, (r) => void out.routedIds.add(id(r.message?.messageId))),
    readTopic(brokers, t.delivery, (r) => {
      if (r.final) bump(out.finalDeliveries, id(r.context?.messageId));
    }),
  ]);
  for (const [key, ids] of supplierIds) out.acceptedDispatches.set(key, ids.size);
  for (const [mid, values] of ratedValues) out.ratedDistinct.set(mid, values.size);
  out.dispatchRecords = dispatchRecords;
  out.ratedRecords = ratedRecords;
  return out;
}

/** Where one hub id shows up along the flow, for the report on a failed message. */
export function traceMessage(p: Published, hubId: string): string {
  const d = p.dispatchOutcomes.get(hubId) ?? [];
  return [
    `submitted ${p.submittedIds.has(hubId) ? 'yes' : 'NO'}`,
    `routed ${p.routedIds.has(hubId) ? 'yes' : 'NO'}`,
    `dispatches [${d.join(',')}]`,
    `final deliveries ${p.finalDeliveries.get(hubId) ?? 0}`,
    `rated ${p.rated.get(hubId) ?? 0}${(p.rated.get(hubId) ?? 0) > 1 ? ` (${p.ratedDistinct.get(hubId)} distinct)` : ''}`,
  ].join(', ');
}

/** Sums a counter over all its label sets in a Prometheus text exposition. */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

export interface SimCounters {
  accepted: number;
  duplicates: number;
}

/** The simulator process's counters (every simulator in it summed). */
export async function simCounters(httpPort: number): Promise<SimCounters> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(3000) });
  if (res.status !== 200) throw new Error(`simulator /metrics answered ${res.status}`);
  const text = await res.text();
  return {
    accepted: sumMetric(text, 'smshub_sim_accepted_total'),
    duplicates: sumMetric(text, 'smshub_sim_duplicates_total'),
  };
}
