import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { topics } from '@smshub/contracts';
import { migrate } from '@smshub/db';
import { ensureTopics, type EnsureTopicsResult } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';

/** Applies pending SQL migrations; safe to run concurrently and repeatedly. */
export async function runMigrations(pool: pg.Pool, logger: Logger): Promise<string[]> {
  const { applied } = await migrate(pool, { logger });
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');
  return applied;
}

/** Creates every topic of the contracts' registry with its layout; idempotent. */
export async function createTopics(
  kafka: Kafka,
  logger: Logger,
  replicationFactor: number,
): Promise<EnsureTopicsResult> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await ensureTopics(admin, Object.values(topics), replicationFactor);
    logger.info(result, 'topics ensured');
    return result;
  } finally {
    await admin.disconnect();
  }
}
