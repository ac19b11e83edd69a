// Consumer lag of the hub's consumer groups: for each group, its committed offsets (every topic it has
// committed on) against the topics' ends, and its members, read with the Kafka admin API on each call.
import { namespacedGroup, type ConsumerGroupLag, type ListConsumerLagResponse } from '@smshub/contracts';
import type { Kafka } from '@smshub/kafka';

/**
 * The groups that share the hub's work, as the services name them (their input topics are found from the
 * offsets each group committed). Per-replica groups (config changes, balances, statistics caches) are
 * broadcast readers of small compacted topics and are left out.
 */
export const HUB_GROUPS = [
  'smshub-routing',
  'smshub-egress',
  'smshub-dlr',
  'smshub-ingress',
  'smshub-rating',
  'smshub-rating-inbound',
  'smshub-inbound',
  'smshub-scheduler',
  'smshub-stats',
  'smshub-webhooks',
] as const;

export interface PartitionOffsets {
  partition: number;
  /** Committed offset, -1 when none. */
  committed: bigint;
  low: bigint;
  high: bigint;
}

/** Lag of one partition: end - committed; with nothing committed, everything still in the log (pure). */
export function partitionLag(p: PartitionOffsets): bigint {
  const from = p.committed < 0n ? p.low : p.committed;
  return p.high > from ? p.high - from : 0n;
}

type Admin = ReturnType<Kafka['admin']>;

/** How long one reading answers every caller: the console polls every 5 s per signed-in user. */
const SHARED_MS = 2000;

export class ConsumerLagReader {
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;
  private readonly recent = new Map<string, { at: number; answer: Promise<ListConsumerLagResponse> }>();

  constructor(
    private readonly kafka: Kafka,
    private readonly namespace: string | undefined,
  ) {}

  private client(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= (async () => {
      const a = this.kafka.admin();
      try {
        await a.connect();
      } catch (err) {
        this.connecting = undefined;
        throw err;
      }
      this.admin = a;
      return a;
    })();
    return this.connecting;
  }

  /**
   * `groups` without the namespace; empty = HUB_GROUPS (those that exist: members or offsets). Callers
   * asking for the same groups within SHARED_MS share one reading (10-20 Kafka admin requests each).
   */
  read(groups: readonly string[]): Promise<ListConsumerLagResponse> {
    const now = Date.now();
    for (const [k, r] of this.recent) if (now - r.at >= SHARED_MS) this.recent.delete(k);
    const key = groups.join('\0');
    const hit = this.recent.get(key);
    if (hit) return hit.answer;
    const answer = this.readNow(groups);
    this.recent.set(key, { at: now, answer });
    answer.catch(() => this.recent.delete(key));
    return answer;
  }

  private async readNow(groups: readonly string[]): Promise<ListConsumerLagResponse> {
    const admin = await this.client();
    const explicit = groups.length > 0;
    const names = (explicit ? groups : HUB_GROUPS).map((g) => namespacedGroup(g, this.namespace));
    const described = await admin.describeGroups(names);
    const ends = new Map<string, Map<number, { low: bigint; high: bigint }>>();
    const endsOf = async (topic: string) => {
      let m = ends.get(topic);
      if (!m) {
        m = new Map();
        for (const p of await admin.fetchTopicOffsets(topic))
          m.set(p.partition, { low: BigInt(p.low), high: BigInt(p.high) });
        ends.set(topic, m);
      }
      return m;
    };
    const out: ConsumerGroupLag[] = [];
    for (const name of names) {
      const d = described.groups.find((g) => g.groupId === name);
      const committed = await admin.fetchOffsets({ groupId: name });
      const group: ConsumerGroupLag = {
        group: name,
        state: d?.state ?? 'Unknown',
        members: d?.members.length ?? 0,
        lag: 0n,
        topics: [],
      };
      for (const t of committed) {
        const e = await endsOf(t.topic).catch(() => undefined);
        if (!e) continue; // the topic was deleted since the commit
        // Every partition of the topic: one the group never committed on is behind by its whole log.
        const committedAt = new Map(t.partitions.map((p) => [p.partition, BigInt(p.offset)]));
        const partitions = [...e].map(([partition, end]) => {
          const o: PartitionOffsets = { partition, committed: committedAt.get(partition) ?? -1n, ...end };
          return {
            partition,
            committedOffset: o.committed,
            endOffset: o.high,
            lag: partitionLag(o),
          };
        });
        partitions.sort((a, b) => a.partition - b.partition);
        const lag = partitions.reduce((n, p) => n + p.lag, 0n);
        group.topics.push({ topic: t.topic, lag, partitions });
        group.lag += lag;
      }
      group.topics.sort((a, b) => a.topic.localeCompare(b.topic));
      if (!explicit && group.members === 0 && group.topics.length === 0) continue; // not deployed
      out.push(group);
    }
    out.sort((a, b) => (a.lag === b.lag ? a.group.localeCompare(b.group) : a.lag > b.lag ? -1 : 1));
    return { groups: out, totalLag: out.reduce((n, g) => n + g.lag, 0n), readTime: new Date() };
  }

  async stop(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
