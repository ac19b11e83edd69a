// What the hub published, read back at the end of a run: accepted dispatches (sms.dispatched.v1) and rated
// records (billing.rated.v1) per hub id, and the simulator's counters from its /metrics.
import { DispatchOutcome, namespacedTopics, topics, type TopicSpec } from '@smshub/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';

/** Reads a topic from the beginning up to the end offsets of the moment, and hands each decoded value over. */
export async function readTopic<T>(
  brokers: string,
  spec: TopicSpec<T>,
  onValue: (value: T) => void,
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
                if (m.value) onValue(spec.decode(m.value));
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
  /** Accepted dispatches per "<hub id>#<part>". */
  acceptedDispatches: Map<string, number>;
  /** Rated records per hub id. */
  rated: Map<string, number>;
  dispatchRecords: number;
  ratedRecords: number;
  /** sms.rejected.v1 records (routing refused the message) by reason. */
  rejectedByReason: Record<string, number>;
}

/** Reads sms.dispatched.v1 and billing.rated.v1 of the hub's namespace. */
export async function readPublished(brokers: string, namespace: string): Promise<Published> {
  const t = namespacedTopics(topics, namespace);
  const acceptedDispatches = new Map<string, number>();
  const rated = new Map<string, number>();
  const rejectedByReason: Record<string, number> = {};
  const [dispatchRecords, ratedRecords] = await Promise.all([
    readTopic(brokers, t.dispatched, (d) => {
      if (d.outcome !== DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED) return;
      const key = `${(d.context?.messageId ?? '').toLowerCase()}#${d.partNumber || 1}`;
      acceptedDispatches.set(key, (acceptedDispatches.get(key) ?? 0) + 1);
    }),
    readTopic(brokers, t.rated, (r) => {
      const id = r.messageId.toLowerCase();
      rated.set(id, (rated.get(id) ?? 0) + 1);
    }),
    readTopic(brokers, t.rejected, (r) => {
      rejectedByReason[r.reason] = (rejectedByReason[r.reason] ?? 0) + 1;
    }),
  ]);
  return { acceptedDispatches, rated, dispatchRecords, ratedRecords, rejectedByReason };
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
