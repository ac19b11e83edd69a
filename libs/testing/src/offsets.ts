// Positive signals for negative checks: before a test asserts that something did NOT happen (no duplicate,
// no second record), it waits until the consumer in question has provably processed everything that could
// have caused it, instead of sleeping and hoping.
import type { Admin } from 'kafkajs';
import { waitFor } from './helpers.js';
import { testKafkaAdmin } from './kafka.js';

/** Offsets per partition (Kafka's offsets are decimal strings). */
export type PartitionOffsets = ReadonlyMap<number, string>;

/** The topic's end offsets (high watermarks) now: one past the last record of each partition. */
export async function topicEndOffsets(topic: string, admin?: Admin): Promise<PartitionOffsets> {
  return withAdmin(admin, async (a) => {
    const offsets = await a.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, o.high]));
  });
}

export interface GroupCommittedOptions {
  /** Consumer group whose committed offsets are awaited. */
  groupId: string;
  topic: string;
  /**
   * The offsets to reach, per partition (a committed offset is the next record to read, so a record at
   * offset o is processed once the group committed o + 1). Default: the topic's end offsets when called,
   * that is every record written so far.
   */
  offsets?: PartitionOffsets;
  timeoutMs?: number;
  /** An admin to use (default: a fresh one on the run's broker, disconnected afterwards). */
  admin?: Admin;
}

/**
 * Waits until consumer group `groupId` has committed, on every partition of `topic`, an offset at or past
 * `offsets` (default: the topic's end offsets now), and returns what it reached. A group commits a record
 * only after processing it (libs/kafka's TypedConsumer), so afterwards everything the processing causes
 * (records produced, rows written) has happened, and the records will not be redelivered to the group:
 * an absence checked then is meaningful.
 */
export async function waitForGroupCommitted(opts: GroupCommittedOptions): Promise<PartitionOffsets> {
  return withAdmin(opts.admin, async (admin) => {
    const target = opts.offsets ?? (await topicEndOffsets(opts.topic, admin));
    return waitFor(
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId: opts.groupId, topics: [opts.topic] });
        const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
        for (const [partition, offset] of target) {
          const c = at.get(partition);
          // "-1" = nothing committed: enough only where nothing was to be read.
          const reached = c === undefined || c === '-1' ? BigInt(offset) === 0n : BigInt(c) >= BigInt(offset);
          // Thrown, so that a timeout says where the group stood (committed/wanted per partition).
          if (!reached)
            throw new Error(
              [...target].map(([p, o]) => `partition ${p}: ${at.get(p) ?? 'none'}/${o}`).join(', '),
            );
        }
        return at as PartitionOffsets;
      },
      {
        timeoutMs: opts.timeoutMs ?? 30_000,
        intervalMs: 100,
        what: `group ${opts.groupId} to commit ${opts.topic} up to the awaited offsets`,
      },
    );
  });
}

async function withAdmin<T>(admin: Admin | undefined, use: (a: Admin) => Promise<T>): Promise<T> {
  if (admin) return use(admin);
  const own = await testKafkaAdmin();
  try {
    return await use(own);
  } finally {
    await own.disconnect();
  }
}
