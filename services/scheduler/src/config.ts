import { hostname } from 'node:os';
import { databaseEnv, envInt, envString, z } from '@smshub/config';
import { DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from './scheduler.js';

/** The scheduler's environment (README "Configuration"); defaults live here and nowhere else. */
export const schedulerEnv = {
  ...databaseEnv,
  /** Replica name (pod name): recorded as who released a message. */
  SCHEDULER_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  /** Held messages released per transaction. */
  SCHEDULER_BATCH: envInt({ min: 1, max: 10_000, default: DEFAULT_SCHEDULER_OPTIONS.batch }),
  /** How often due messages are looked for when none was due at the last look (ms). */
  SCHEDULER_POLL_MS: envInt({ min: 10, max: 60_000, default: DEFAULT_SCHEDULER_OPTIONS.pollMs }),
  /** Released, cancelled and expired rows are kept this many hours (query_sm, cancel_sm answers). */
  SCHEDULER_RETENTION_HOURS: envInt({ min: 1, max: 24 * 365, default: 72 }),
};

export type SchedulerEnv = z.infer<z.ZodObject<typeof schedulerEnv>>;

export function optionsFromEnv(env: SchedulerEnv): SchedulerOptions {
  return {
    ...DEFAULT_SCHEDULER_OPTIONS,
    replicaId: env.SCHEDULER_REPLICA_ID,
    batch: env.SCHEDULER_BATCH,
    pollMs: env.SCHEDULER_POLL_MS,
    retentionMs: env.SCHEDULER_RETENTION_HOURS * 3600_000,
  };
}
