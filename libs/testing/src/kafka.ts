import { Kafka, logLevel, type Admin } from 'kafkajs';
import { testKafkaBrokers, uniqueName, waitFor } from './helpers.js';

/**
 * Retries creating topics while a busy broker refuses or times out (kafkajs gives up on "Timed out while
 * waiting for topic leaders" after 5 s and calls it non-retriable). The names are the caller's alone, so a
 * retry that finds them already made by an earlier attempt is a success (kafkajs then resolves false).
 */
async function retrying<T>(call: () => Promise<T>, attempts = 15): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const e = err as { retriable?: boolean; message?: string };
      const transient = e.retriable === true || /timed? ?out|leader/i.test(e.message ?? '');
      if (!transient || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1000)));
    }
  }
}

/**
 * Waits until every partition of `topics` has a leader that answers for it (ListOffsets is served by the
 * partition's leader), so that producers, subscriptions and offset reads made next do not meet a partition
 * "in the middle of a leadership election" or a broker that "does not host this topic-partition".
 */
export async function waitForLeaders(topics: string[], admin: Admin, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const meta = await admin.fetchTopicMetadata({ topics });
      for (const t of meta.topics) {
        if (t.partitions.length === 0) throw new Error(`${t.name} has no partitions yet`);
        const leaderless = t.partitions.filter((p) => p.leader < 0).map((p) => p.partitionId);
        if (leaderless.length > 0)
          throw new Error(`${t.name} partitions ${leaderless.join(',')} have no leader`);
      }
      for (const topic of topics) await admin.fetchTopicOffsets(topic);
      return true;
    },
    { timeoutMs, intervalMs: 100, what: `leaders of ${topics.join(', ')}` },
  );
}

/** A kafkajs admin on the run's broker; callers disconnect it. */
export async function testKafkaAdmin(brokers: string[] = testKafkaBrokers()): Promise<Admin> {
  const admin = new Kafka({
    clientId: uniqueName('test-admin'),
    brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  return admin;
}

/**
 * Creates topics with exactly these names (`partitions` each, the broker's replication) unless they exist,
 * and waits for their leaders: e.g. a consumer group's dead-letter topic before the consumer starts, so
 * that its start does not race the topic's leader election.
 */
export async function ensureTestTopics(
  names: string[],
  partitions = 1,
  brokers: string[] = testKafkaBrokers(),
): Promise<void> {
  const admin = await testKafkaAdmin(brokers);
  try {
    await retrying(() =>
      admin.createTopics({
        waitForLeaders: true,
        topics: names.map((topic) => ({ topic, numPartitions: partitions })),
      }),
    );
    await waitForLeaders(names, admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates uniquely named topics (each `<prefix>_<unique>`), waits for their leaders (waitForLeaders), returns the names. */
export async function createTestTopics(
  prefixes: string[],
  partitions = 1,
  brokers: string[] = testKafkaBrokers(),
): Promise<string[]> {
  const names = prefixes.map((p) => uniqueName(p.replace(/[^a-zA-Z0-9._-]/g, '_')));
  const admin = await testKafkaAdmin(brokers);
  try {
    await retrying(() =>
      admin.createTopics({
        waitForLeaders: true,
        // -1: the broker's default.replication.factor (deploy/local/kafka.sh sets it from the broker count).
        topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
      }),
    );
    await waitForLeaders(names, admin);
  } finally {
    await admin.disconnect();
  }
  return names;
}

/**
 * Copies of topic specs (for example the contracts' `topics` registry) with unique names, created on the
 * broker, so a test can run a service against its own topics. Codecs and keys are kept; partitions are
 * capped at `maxPartitions` to keep tests quick.
 */
export async function createIsolatedTopics<
  R extends Record<string, { readonly name: string; readonly partitions: number }>,
>(specs: R, opts: { maxPartitions?: number; brokers?: string[] } = {}): Promise<R> {
  const maxPartitions = opts.maxPartitions ?? 2;
  const out: Record<string, unknown> = {};
  for (const [id, spec] of Object.entries(specs)) {
    out[id] = {
      ...spec,
      name: uniqueName(spec.name.replace(/[^a-zA-Z0-9._-]/g, '_')),
      partitions: Math.min(spec.partitions, maxPartitions),
    };
  }
  const admin = await testKafkaAdmin(opts.brokers);
  try {
    await retrying(() =>
      admin.createTopics({
        waitForLeaders: true,
        topics: Object.values(out as Record<string, { name: string; partitions: number }>).map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: -1,
        })),
      }),
    );
    await waitForLeaders(
      Object.values(out as Record<string, { name: string }>).map((s) => s.name),
      admin,
    );
  } finally {
    await admin.disconnect();
  }
  return out as R;
}
