import { databaseEnv, envInt, grpcServerEnv, z } from '@smshub/config';
import { authEnv } from '@smshub/auth';
import { tlsFiles, type TlsFiles } from '@smshub/grpc';

/** The stats service's environment (README "Configuration"); defaults live here and nowhere else. */
export const statsEnv = {
  ...databaseEnv,
  ...authEnv,
  ...grpcServerEnv,
  /** StatsService (gRPC) and grpc.health.v1 port. */
  GRPC_PORT: envInt({ min: 0, max: 65535, default: 50055 }),
  /** Per-minute roll-ups are kept this long (windows older than this are answered from hourly rows). */
  STATS_MINUTE_RETENTION_DAYS: envInt({ min: 1, max: 366, default: 14 }),
  /** Hourly roll-ups are kept this long. */
  STATS_HOUR_RETENTION_DAYS: envInt({ min: 1, max: 3_660, default: 400 }),
  /** A rated message's counted revision is remembered this long so a correction replaces it. */
  STATS_CORRECTION_DAYS: envInt({ min: 1, max: 90, default: 3 }),
  /**
   * Records are summed in memory and written once per this interval (one transaction for every
   * partition, offsets included): the figures are this much later, the writes per message far fewer.
   */
  STATS_FLUSH_MS: envInt({ min: 0, max: 60_000, default: 1_000 }),
  /** A flush starts at once when this many records are pending (a backlog being read). */
  STATS_FLUSH_RECORDS: envInt({ min: 1, max: 1_000_000, default: 10_000 }),
  /** Connections of the query side (the roll-up writer uses a few more). */
  STATS_QUERY_POOL_SIZE: envInt({ min: 1, max: 200, default: 8 }),
};

export type StatsEnv = z.infer<z.ZodObject<typeof statsEnv>>;

export interface StatsOptions {
  grpcPort: number;
  grpcHost?: string;
  grpcTls?: TlsFiles;
  adminToken?: string;
  authCacheTtlMs?: number;
  retention: { minuteDays: number; hourDays: number; correctionDays: number };
  /** Consumer group; default smshub-stats. */
  groupId: string;
  /** How often retention runs (ms); default one hour. */
  purgeEveryMs?: number;
  /** Flush of the roll-ups: every `intervalMs` (default 1,000), or at once when `maxRecords` (10,000) are pending. */
  flush?: { intervalMs: number; maxRecords: number };
}

export function optionsFromEnv(env: StatsEnv): StatsOptions {
  const grpcTls = tlsFiles(env.GRPC_TLS_CERT_FILE, env.GRPC_TLS_KEY_FILE);
  return {
    grpcPort: env.GRPC_PORT,
    grpcHost: env.GRPC_HOST,
    ...(grpcTls ? { grpcTls } : {}),
    ...(env.ADMIN_TOKEN !== undefined ? { adminToken: env.ADMIN_TOKEN } : {}),
    authCacheTtlMs: env.AUTH_CACHE_TTL_MS,
    retention: {
      minuteDays: env.STATS_MINUTE_RETENTION_DAYS,
      hourDays: env.STATS_HOUR_RETENTION_DAYS,
      correctionDays: env.STATS_CORRECTION_DAYS,
    },
    groupId: 'smshub-stats',
    flush: { intervalMs: env.STATS_FLUSH_MS, maxRecords: env.STATS_FLUSH_RECORDS },
  };
}
