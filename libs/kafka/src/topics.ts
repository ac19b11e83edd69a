import type { Admin } from 'kafkajs';

/**
 * What this lib needs to know of a topic: its name, its codec and how records are keyed. The contracts
 * lib's TopicSpec satisfies it; tests may pass small hand-written codecs.
 */
export interface TopicCodec<T> {
  readonly name: string;
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

export interface EnsureTopicsResult {
  created: string[];
  /** Topics whose partition count was raised to the layout's. */
  grown: string[];
  unchanged: string[];
}

function topicConfig(layout: TopicLayout): Array<{ name: string; value: string }> {
  return [
    { name: 'cleanup.policy', value: layout.compacted ? 'compact' : 'delete' },
    { name: 'retention.ms', value: layout.retentionMs === null ? '-1' : String(layout.retentionMs) },
  ];
}

/**
 * Creates missing topics and raises partition counts to the layout, idempotently (safe to run at every
 * deploy and from several processes at once). Partitions are never reduced; Kafka cannot do that.
 */
export async function ensureTopics(
  admin: Admin,
  layouts: readonly TopicLayout[],
  replicationFactor = 1,
): Promise<EnsureTopicsResult> {
  const existing = new Set(await withAdminRetries(() => admin.listTopics()));
  const missing = layouts.filter((l) => !existing.has(l.name));
  const result: EnsureTopicsResult = { created: [], grown: [], unchanged: [] };
  if (missing.length) {
    try {
      await withAdminRetries(() =>
        admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((l) => ({
            topic: l.name,
            numPartitions: l.partitions,
            replicationFactor,
            configEntries: topicConfig(l),
          })),
        }),
      );
    } catch (err) {
      // Another process may have created some of them meanwhile; that is fine.
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
    result.created.push(...missing.map((l) => l.name));
  }
  const present = layouts.filter((l) => existing.has(l.name));
  if (present.length) {
    const meta = await withAdminRetries(() =>
      admin.fetchTopicMetadata({ topics: present.map((l) => l.name) }),
    );
    const counts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
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
