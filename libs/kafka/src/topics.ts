import type { Admin } from 'kafkajs';

/**
 * What this lib needs to know of a topic: its name, its codec and how records are keyed. The contracts
 * lib's TopicSpec satisfies it; tests may pass small hand-written codecs.
 */
export interface TopicCodec<T> {
  readonly name: string;
  /**
   * A fresh array per call: the producer sends these bytes as they are (no copy), so they must not be
   * reused or changed until produce() has settled.
   */
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  key(value: T): string;
  /**
   * The hub message id a record is about, when its key is something else (e.g. sms.dispatched.v1's
   * connector/supplier id): the record then continues that message's trace. Default: the key.
   */
  messageId?(value: T): string | undefined;
}

/** How a topic is laid out on the broker. */
export interface TopicLayout {
  readonly name: string;
  readonly partitions: number;
  /** null keeps records forever. */
  readonly retentionMs: number | null;
  readonly compacted: boolean;
}

/**
 * Runs an admin call again while the broker answers with a retriable error (a topic just created whose
 * partitions are not hosted yet, a leader election): up to `attempts` times with a growing pause.
 */
export async function withAdminRetries<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const retriable =
        (err as { retriable?: boolean }).retriable === true ||
        [
          'UNKNOWN_TOPIC_OR_PARTITION',
          'LEADER_NOT_AVAILABLE',
          'NOT_LEADER_FOR_PARTITION',
          'NOT_CONTROLLER',
        ].includes((err as { type?: string }).type ?? '');
      if (!retriable || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1000)));
    }
  }
}

/**
 * Waits until the broker's metadata names every partition of `topics` with a leader. A topic the
 * controller has just created is not served yet for a moment (longer on a busy machine): kafkajs's own
 * wait gives up at UNKNOWN_TOPIC_OR_PARTITION, the retry then finds the topic made and returns at once, and
 * the caller's subscribe or produce failed with "This server does not host this topic-partition".
 */
async function waitUntilServed(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    let why: string;
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const pending = meta.topics.filter(
        (t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0),
      );
      if (pending.length === 0) return;
      why = `no leader yet for ${pending.map((t) => t.name).join(', ')}`;
    } catch (err) {
      const e = err as { retriable?: boolean; type?: string; message?: string };
      const transient =
        e.retriable === true || ['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE'].includes(e.type ?? '');
      if (!transient) throw err;
      why = e.message ?? String(err);
    }
    if (Date.now() >= deadline)
      throw new Error(`topics ${topics.join(', ')} not served within ${timeoutMs} ms: ${why}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt, 500)));
  }
}

export interface EnsureTopicsResult {
  created: string[];
  /** Topics whose partition count was raised to the layout's. */
  grown: string[];
  unchanged: string[];
  /** The copies new topics got; absent when no topic was created. */
  replication?: Replication;
  /**
   * Existing topics with fewer copies than `replication` asks (created on a smaller cluster): Kafka does
   * not add replicas by itself; kafka-reassign-partitions does (docs/deploy.md, "Kafka cluster").
   */
  underReplicated?: Array<{ topic: string; replicas: number }>;
}

/** How many copies a topic's partitions have, and how many must hold a record before acks=all answers. */
export interface Replication {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

/**
 * The replication a cluster of `brokers` brokers gets when nothing is configured: three copies when there
 * are three brokers or more (more copies cost disk and produce latency and add little), and one copy fewer
 * than that in sync for a write, so acks=all means two copies on three brokers and one broker may be down
 * (or restarted) without refusing writes. Two brokers: two copies, one in sync (writes go on with either
 * broker down; a copy is made when both run). One broker: one copy.
 */
export function replicationFor(brokers: number): Replication {
  const replicationFactor = Math.max(1, Math.min(3, Math.floor(brokers)));
  return { replicationFactor, minInsyncReplicas: Math.max(1, replicationFactor - 1) };
}

/**
 * The replication for new topics: what `configured` says, the rest from the cluster's live broker count
 * (describeCluster; `replicationFor`). A min ISR above the factor is refused (no write could succeed).
 */
export async function clusterReplication(
  admin: Admin,
  configured: Partial<Replication> = {},
): Promise<Replication> {
  let derived: Replication | undefined;
  if (configured.replicationFactor === undefined || configured.minInsyncReplicas === undefined) {
    const { brokers } = await withAdminRetries(() => admin.describeCluster());
    derived = replicationFor(configured.replicationFactor ?? brokers.length);
  }
  const replicationFactor = configured.replicationFactor ?? derived!.replicationFactor;
  const minInsyncReplicas = configured.minInsyncReplicas ?? derived!.minInsyncReplicas;
  if (minInsyncReplicas > replicationFactor)
    throw new Error(
      `min.insync.replicas (${minInsyncReplicas}) cannot exceed the replication factor (${replicationFactor}): no write would ever be acknowledged`,
    );
  return { replicationFactor, minInsyncReplicas };
}

function topicConfig(layout: TopicLayout, minInsyncReplicas: number): Array<{ name: string; value: string }> {
  return [
    { name: 'cleanup.policy', value: layout.compacted ? 'compact' : 'delete' },
    { name: 'retention.ms', value: layout.retentionMs === null ? '-1' : String(layout.retentionMs) },
    { name: 'min.insync.replicas', value: String(minInsyncReplicas) },
  ];
}

/**
 * Creates missing topics and raises partition counts to the layout, idempotently (safe to run at every
 * deploy and from several processes at once). Partitions are never reduced; Kafka cannot do that.
 * New topics get `replication` (a number is the replication factor), the rest of it from the cluster's
 * broker count (`clusterReplication`): on three brokers, three copies and min.insync.replicas 2.
 * Existing topics with fewer copies are listed in `underReplicated`, never changed.
 */
export async function ensureTopics(
  admin: Admin,
  layouts: readonly TopicLayout[],
  replication: number | Partial<Replication> = {},
): Promise<EnsureTopicsResult> {
  const configured = typeof replication === 'number' ? { replicationFactor: replication } : replication;
  const existing = new Set(await withAdminRetries(() => admin.listTopics()));
  const missing = layouts.filter((l) => !existing.has(l.name));
  const result: EnsureTopicsResult = { created: [], grown: [], unchanged: [] };
  if (missing.length) {
    const { replicationFactor, minInsyncReplicas } = await clusterReplication(admin, configured);
    result.replication = { replicationFactor, minInsyncReplicas };
    try {
      await withAdminRetries(() =>
        admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((l) => ({
            topic: l.name,
            numPartitions: l.partitions,
            replicationFactor,
            configEntries: topicConfig(l, minInsyncReplicas),
          })),
        }),
      );
    } catch (err) {
      // Another process may have created some of them meanwhile; that is fine.
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
    result.created.push(...missing.map((l) => l.name));
    await waitUntilServed(
      admin,
      missing.map((l) => l.name),
    );
  }
  const present = layouts.filter((l) => existing.has(l.name));
  if (present.length) {
    const meta = await withAdminRetries(() =>
      admin.fetchTopicMetadata({ topics: present.map((l) => l.name) }),
    );
    const counts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
    if (configured.replicationFactor !== undefined) {
      const want = configured.replicationFactor;
      const under = meta.topics
        .map((t) => ({ topic: t.name, replicas: Math.min(...t.partitions.map((p) => p.replicas.length)) }))
        .filter((t) => t.replicas < want);
      if (under.length) result.underReplicated = under;
    }
    const grow = present.filter((l) => (counts.get(l.name) ?? 0) < l.partitions);
    if (grow.length) {
      await withAdminRetries(() =>
        admin.createPartitions({
          topicPartitions: grow.map((l) => ({ topic: l.name, count: l.partitions })),
        }),
      );
      result.grown.push(...grow.map((l) => l.name));
    }
    result.unchanged.push(...present.filter((l) => !grow.includes(l)).map((l) => l.name));
  }
  return result;
}
