import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { namespacedTopics, topics } from '@smshub/contracts';
import { migrate } from '@smshub/db';
import { clusterReplication, ensureTopics, type EnsureTopicsResult, type Replication } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';

/**
 * The folder of SQL migrations: MIGRATIONS_DIR when given, else libs/db/migrations found by walking up from
 * this module (which works from the sources and from the bundle at tools/ops/dist/main.js alike).
 */
export function migrationsDir(explicit?: string): string {
  if (explicit) return explicit;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'libs/db/migrations');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('libs/db/migrations not found: set MIGRATIONS_DIR');
    dir = parent;
  }
}

/** Applies pending SQL migrations; safe to run concurrently and repeatedly. */
export async function runMigrations(pool: pg.Pool, logger: Logger, dir?: string): Promise<string[]> {
  const { applied } = await migrate(pool, { logger, dir: migrationsDir(dir) });
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');
  return applied;
}

/**
 * Creates every topic of the contracts' registry (under `namespace`, if any) with its layout; idempotent.
 * Replication: what is configured (KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS), the rest from the
 * cluster's broker count (three brokers: three copies, min.insync.replicas 2; one broker: one copy).
 */
export async function createTopics(
  kafka: Kafka,
  logger: Logger,
  replication: Partial<Replication>,
  namespace?: string,
): Promise<EnsureTopicsResult> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const wanted = await clusterReplication(admin, replication);
    const result = await ensureTopics(admin, Object.values(namespacedTopics(topics, namespace)), wanted);
    logger.info({ ...result, replication: wanted }, 'topics ensured');
    if (result.underReplicated)
      logger.warn(
        { topics: result.underReplicated, replicationFactor: wanted.replicationFactor },
        'topics with fewer copies than wanted (created on a smaller cluster): add replicas with kafka-reassign-partitions',
      );
    return result;
  } finally {
    await admin.disconnect();
  }
}
