import { hostname } from 'node:os';
import { databaseEnv, envBoolean, envHost, envInt, envString, z } from '@smshub/config';
import { DEFAULT_BIND_AUTH } from './bind-auth.js';
import { DEFAULT_BIND_GUARD } from './bind-guard.js';
import { DEFAULT_OPTIONS } from './ingress.js';

/** Ingress's own environment variables (merged with the shared Kafka/HTTP/log/OTel ones by runService). */
export const ingressEnv = {
  ...databaseEnv,
  /**
   * Listen address of both SMPP listeners. Loopback by default, like every listener: customers reach
   * SMPP from outside, so deployments set 0.0.0.0 (the image, compose and the Helm chart do).
   */
  SMPP_HOST: envHost(),
  SMPP_PORT: envInt({ min: 0, max: 65535, default: 2775 }),
  SMPP_TLS_PORT: envInt({ min: 0, max: 65535, default: 3550 }),
  /** PEM certificate chain and key of the TLS listener; without both, no TLS listener is opened. */
  SMPP_TLS_CERT_FILE: envString().optional(),
  SMPP_TLS_KEY_FILE: envString().optional(),
  /** Replica name (the pod name); defaults to the host name. */
  INGRESS_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  /**
   * What an acknowledged receipt's row becomes: `delete` (the message's state row keeps a redelivered event
   * from sending it again), or `mark` (kept, marked sent, as before session 13). A replica of an older version
   * relies on the mark: run new replicas with `mark` until none runs, and set it before rolling back.
   */
  INGRESS_RECEIPT_ACK: z.enum(['delete', 'mark']).default('delete'),
  /**
   * A fetch of sms.delivery.v1 waits for this many bytes or this long, whichever comes first: larger
   * batches (fewer statements) under a paced flow, for up to that much more receipt latency.
   */
  INGRESS_DELIVERY_FETCH_MIN_BYTES: envInt({
    min: 1,
    max: 16 * 1024 * 1024,
    default: DEFAULT_OPTIONS.deliveryFetch.minBytes,
  }),
  INGRESS_DELIVERY_FETCH_WAIT_MS: envInt({
    min: 0,
    max: 10_000,
    default: DEFAULT_OPTIONS.deliveryFetch.maxWaitMs,
  }),
  /**
   * Password verifications at once (argon2id, one core each; default: cores - 1, 1 to 3). Keep it below
   * UV_THREADPOOL_SIZE (libuv's default 4), which DNS lookups and file I/O share.
   */
  INGRESS_BIND_VERIFY_CONCURRENCY: envInt({ min: 1, max: 64, default: DEFAULT_BIND_AUTH.verifyConcurrency }),
  /** Binds in progress from one source address; more are refused (ESME_RBINDFAIL) without a check. */
  INGRESS_BIND_MAX_PER_IP: envInt({ min: 1, max: 10_000, default: DEFAULT_BIND_AUTH.maxPerIp }),
  /** Password checks per second from one address not known for the system_id (beyond: refused unchecked). */
  INGRESS_BIND_VERIFY_RATE_PER_IP: envInt({
    min: 1,
    max: 100_000,
    default: DEFAULT_BIND_AUTH.verifyPerSecondPerIp,
  }),
  /** Binds in progress of one system_id from addresses it has not bound from (allow list or success). */
  INGRESS_BIND_MAX_PER_SYSTEM_ID: envInt({ min: 1, max: 10_000, default: DEFAULT_BIND_AUTH.maxPerSystemId }),
  /** Failed binds of one system_id from one address that lock that pair. */
  INGRESS_BIND_LOCK_AFTER: envInt({ min: 1, max: 1000, default: DEFAULT_BIND_GUARD.blockAfter }),
  /** First lock of a pair; each further lock lasts twice as long, up to INGRESS_BIND_LOCK_MAX_MS. */
  INGRESS_BIND_LOCK_MS: envInt({ min: 1000, max: 86_400_000, default: DEFAULT_BIND_GUARD.blockMs }),
  INGRESS_BIND_LOCK_MAX_MS: envInt({
    min: 1000,
    max: 7 * 86_400_000,
    default: DEFAULT_BIND_GUARD.maxBlockMs,
  }),
  /** Failed binds from one address across system_ids that lock the address (not for its allow-listed accounts). */
  INGRESS_BIND_IP_LOCK_AFTER: envInt({ min: 1, max: 100_000, default: DEFAULT_BIND_GUARD.ipBlockAfter }),
  /** services/scheduler's gRPC address (host:port): query_sm, cancel_sm, replace_sm of held messages. */
  SCHEDULER_GRPC_ADDRESS: envString().optional(),
  /** Dial the scheduler over TLS. */
  SCHEDULER_GRPC_TLS: envBoolean(false),
  /** The bootstrap admin credential, presented to the scheduler (the same value as everywhere). */
  ADMIN_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
};

export type IngressEnv = z.infer<z.ZodObject<typeof ingressEnv>>;
