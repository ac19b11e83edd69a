import { hostname } from 'node:os';
import { authEnv } from '@smshub/auth';
import { databaseEnv, envInt, envString, grpcServerEnv, z } from '@smshub/config';

/** Rating's own environment variables (merged with the shared Kafka/HTTP/log/OTel ones by runService). */
export const ratingEnv = {
  ...databaseEnv,
  /** ADMIN_TOKEN (optional bootstrap admin credential), AUTH_CACHE_TTL_MS (revocation bound, 2000). */
  ...authEnv,
  /** GRPC_HOST (default 127.0.0.1), GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE (PEM, both or neither). */
  ...grpcServerEnv,
  /** gRPC SettlementService and grpc.health.v1. */
  GRPC_PORT: envInt({ min: 0, max: 65535, default: 50053 }),
  /** Replica name (the pod name): names the per-replica config consumer group. Defaults to the host name. */
  RATING_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  /** Balances are published on balances.v1 at most once per account per this interval. */
  RATING_BALANCE_PUBLISH_MS: envInt({ min: 50, max: 60_000, default: 500 }),
  /** Full reload of rates and billing settings even without a config change (safety net). */
  RATING_RELOAD_INTERVAL_MS: envInt({ min: 10_000, max: 86_400_000, default: 300_000 }),
  /** Postgres connections. */
  RATING_DB_POOL_SIZE: envInt({ min: 1, max: 100, default: 10 }),
};

export type RatingEnv = z.infer<z.ZodObject<typeof ratingEnv>>;
