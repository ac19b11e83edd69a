import { hostname } from 'node:os';
import { authEnv } from '@smshub/auth';
import { databaseEnv, envInt, envString, grpcServerEnv, z } from '@smshub/config';
import { tlsFiles, type TlsFiles } from '@smshub/grpc';
import { DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from './scheduler.js';

/** The scheduler's environment (README "Configuration"); defaults live here and nowhere else. */
export const schedulerEnv = {
  ...databaseEnv,
  ...authEnv,
  ...grpcServerEnv,
  /** SchedulerService (gRPC: query_sm, cancel_sm, replace_sm from ingress) and grpc.health.v1 port. */
  GRPC_PORT: envInt({ min: 0, max: 65535, default: 50056 }),
  /** Replica name (pod name): recorded as who released a message. */
  SCHEDULER_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  /** Held messages released per transaction. */
  SCHEDULER_BATCH: envInt({ min: 1, max: 10_000, default: DEFAULT_SCHEDULER_OPTIONS.batch }),
  /** How often due messages are looked for when none was due at the last look (ms). */
  SCHEDULER_POLL_MS: envInt({ min: 10, max: 60_000, default: DEFAULT_SCHEDULER_OPTIONS.pollMs }),
  /** How often due messages are looked for while nothing at all is held (ms); new holds wake it at once. */
  SCHEDULER_IDLE_POLL_MS: envInt({ min: 10, max: 60_000, default: DEFAULT_SCHEDULER_OPTIONS.idlePollMs }),
  /** Released, cancelled and expired rows are kept this many hours (query_sm, cancel_sm answers). */
  SCHEDULER_RETENTION_HOURS: envInt({ min: 1, max: 24 * 365, default: 72 }),
};

export type SchedulerEnv = z.infer<z.ZodObject<typeof schedulerEnv>>;

export function optionsFromEnv(env: SchedulerEnv): SchedulerOptions {
  const grpcTls: TlsFiles | undefined = tlsFiles(env.GRPC_TLS_CERT_FILE, env.GRPC_TLS_KEY_FILE);
  return {
    ...DEFAULT_SCHEDULER_OPTIONS,
    grpc: {
      port: env.GRPC_PORT,
      host: env.GRPC_HOST,
      ...(grpcTls ? { tls: grpcTls } : {}),
      ...(env.ADMIN_TOKEN !== undefined ? { adminToken: env.ADMIN_TOKEN } : {}),
      authCacheTtlMs: env.AUTH_CACHE_TTL_MS,
    },
    replicaId: env.SCHEDULER_REPLICA_ID,
    batch: env.SCHEDULER_BATCH,
    pollMs: env.SCHEDULER_POLL_MS,
    idlePollMs: env.SCHEDULER_IDLE_POLL_MS,
    retentionMs: env.SCHEDULER_RETENTION_HOURS * 3600_000,
  };
}
