import { authEnv } from '@smshub/auth';
import { databaseEnv, envInt, envString, grpcServerEnv, z } from '@smshub/config';

/** admin's own environment variables (merged with the shared Kafka/HTTP/log/OTel ones by runService). */
export const adminEnv = {
  ...databaseEnv,
  /** GRPC_HOST (default 127.0.0.1), GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE (PEM, both or neither). */
  ...grpcServerEnv,
  /** AdminService, grpc.health.v1 and reflection port. */
  GRPC_PORT: envInt({ min: 0, max: 65535, default: 50051 }),
  /** Bearer token every AdminService call must carry (at least 16 characters). */
  ADMIN_TOKEN: z
    .string({ message: 'is required (clients send "authorization: Bearer <token>")' })
    .min(16, { message: 'must be at least 16 characters' }),
  /** Token lookups are reused this long: other admin replicas refuse a revoked token at most this late. */
  AUTH_CACHE_TTL_MS: authEnv.AUTH_CACHE_TTL_MS,
  /** 32-byte key (base64) that seals connector passwords; the same key egress opens them with. */
  CONNECTOR_SECRET_KEY: z
    .string({ message: 'is required (32 bytes, base64)' })
    .refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'must be 32 bytes, base64-encoded' }),
  /** Deprecated names of GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE (still read when those are unset). */
  ADMIN_TLS_CERT_FILE: envString().optional(),
  ADMIN_TLS_KEY_FILE: envString().optional(),
  /** Name recorded as ConfigChange.actor and TopUp.actor. */
  ADMIN_ACTOR: envString().default('admin-api'),
};

export type AdminEnv = z.infer<z.ZodObject<typeof adminEnv>>;
