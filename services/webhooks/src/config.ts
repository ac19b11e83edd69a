import { databaseEnv, envBoolean, envInt, grpcServerEnv, z } from '@smshub/config';
import { authEnv } from '@smshub/auth';
import { tlsFiles, type TlsFiles } from '@smshub/grpc';
import { parseSecretKey } from '@smshub/secrets';
import type { BackoffPolicy } from './domain/backoff.js';

const secretKey = z.string({ message: 'is required (32 bytes, base64)' }).refine(
  (raw) => {
    try {
      parseSecretKey(raw);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be 32 bytes in base64' },
);

/** The webhooks service's environment (README "Configuration"); defaults live here and nowhere else. */
export const webhooksEnv = {
  ...databaseEnv,
  ...authEnv,
  ...grpcServerEnv,
  /** WebhookService (gRPC) and grpc.health.v1 port. */
  GRPC_PORT: envInt({ min: 0, max: 65535, default: 50054 }),
  /** 32 random bytes in base64: seals the accounts' signing secrets in webhook_endpoints. */
  WEBHOOK_SECRET_KEY: secretKey,
  /** During a key rotation only: the previous key (opens secrets sealed before; never seals). */
  WEBHOOK_SECRET_KEY_PREVIOUS: secretKey.optional(),
  /** HTTP attempts in flight per replica. */
  WEBHOOK_CONCURRENCY: envInt({ min: 1, max: 10_000, default: 64 }),
  /** HTTP attempts in flight per account per replica (a slow receiver holds at most this many). */
  WEBHOOK_PER_ACCOUNT_CONCURRENCY: envInt({ min: 1, max: 1_000, default: 4 }),
  /** An attempt without an answer within this is a failure (and retried). */
  WEBHOOK_TIMEOUT_MS: envInt({ min: 100, max: 120_000, default: 10_000 }),
  /** First retry delay; doubled per attempt up to WEBHOOK_RETRY_MAX_MS, +-20 % jitter. */
  WEBHOOK_RETRY_BASE_MS: envInt({ min: 10, max: 3_600_000, default: 5_000 }),
  WEBHOOK_RETRY_MAX_MS: envInt({ min: 10, max: 86_400_000, default: 3_600_000 }),
  /** How long a delivery is retried before it is given up (failed; it can still be replayed). */
  WEBHOOK_RETRY_FOR_MS: envInt({ min: 1_000, max: 7 * 86_400_000, default: 86_400_000 }),
  /** How often the table is polled for due retries (new deliveries are picked up at once). */
  WEBHOOK_POLL_MS: envInt({ min: 10, max: 60_000, default: 500 }),
  /** Allow a message's callback_url on loopback/private IP literals (a local or test setup only). */
  WEBHOOK_ALLOW_PRIVATE_CALLBACKS: envBoolean(false),
  /** Finished deliveries and their attempts are deleted after this. */
  WEBHOOK_RETENTION_DAYS: envInt({ min: 1, max: 3_650, default: 30 }),
};

export type WebhooksEnv = z.infer<z.ZodObject<typeof webhooksEnv>>;

export interface WebhooksOptions {
  grpcPort: number;
  grpcHost?: string;
  grpcTls?: TlsFiles;
  adminToken?: string;
  authCacheTtlMs?: number;
  /** WEBHOOK_SECRET_KEY first, then WEBHOOK_SECRET_KEY_PREVIOUS. */
  secretKeys: Buffer[];
  concurrency: number;
  perAccount: number;
  timeoutMs: number;
  backoff: BackoffPolicy;
  retryForMs: number;
  pollMs: number;
  retentionDays: number;
  /** A message's callback_url may be a loopback/private address. */
  allowPrivateCallbacks?: boolean;
  /** Consumer group; default smshub-webhooks. */
  groupId: string;
}

export function optionsFromEnv(env: WebhooksEnv): WebhooksOptions {
  const grpcTls = tlsFiles(env.GRPC_TLS_CERT_FILE, env.GRPC_TLS_KEY_FILE);
  return {
    grpcPort: env.GRPC_PORT,
    grpcHost: env.GRPC_HOST,
    ...(grpcTls ? { grpcTls } : {}),
    ...(env.ADMIN_TOKEN !== undefined ? { adminToken: env.ADMIN_TOKEN } : {}),
    authCacheTtlMs: env.AUTH_CACHE_TTL_MS,
    secretKeys: [
      parseSecretKey(env.WEBHOOK_SECRET_KEY),
      ...(env.WEBHOOK_SECRET_KEY_PREVIOUS ? [parseSecretKey(env.WEBHOOK_SECRET_KEY_PREVIOUS)] : []),
    ],
    concurrency: env.WEBHOOK_CONCURRENCY,
    perAccount: env.WEBHOOK_PER_ACCOUNT_CONCURRENCY,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    backoff: { baseMs: env.WEBHOOK_RETRY_BASE_MS, maxMs: env.WEBHOOK_RETRY_MAX_MS },
    retryForMs: env.WEBHOOK_RETRY_FOR_MS,
    pollMs: env.WEBHOOK_POLL_MS,
    retentionDays: env.WEBHOOK_RETENTION_DAYS,
    allowPrivateCallbacks: env.WEBHOOK_ALLOW_PRIVATE_CALLBACKS,
    groupId: 'smshub-webhooks',
  };
}
