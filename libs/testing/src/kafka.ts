import { Kafka, logLevel, type Admin } from 'kafkajs';
import { testKafkaBrokers, uniqueName } from './helpers.js';

/** Retries an admin call while a busy broker answers with a retriable error (topic not hosted yet). */
async function retrying<T>(call: () => Promise<T>, attempts = 15): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if ((err as { retriable?: boolean }).retriable !== true || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1000)));
    }
  }
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

/** Creates uniquely named topics (each `<prefix>_<unique>`), waits for their leaders, returns the names. */
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
        topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      }),
    );
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
          replicationFactor: 1,
        })),
      }),
    );
  } finally {
    await admin.disconnect();
  }
  return out as R;
}
