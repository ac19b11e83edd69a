import { hostname } from 'node:os';
import { databaseEnv, envInt, envString, z } from '@smshub/config';
import { parseSecretKey } from '@smshub/secrets';

/** Egress environment (README "Configuration"); defaults live here and nowhere else. */
export const egressEnv = {
  ...databaseEnv,
  // 32 random bytes in base64: opens connector passwords sealed in egress_connectors.
  // Kept as the base64 text: the config object is deep-frozen, which a Buffer cannot be (main decodes it).
  CONNECTOR_SECRET_KEY: z.string({ message: 'is required (32 bytes, base64)' }).refine(
    (raw) => {
      try {
        parseSecretKey(raw);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be 32 bytes in base64' },
  ),
  // During a key rotation only: the previous key(s), comma-separated, tried after CONNECTOR_SECRET_KEY to
  // open passwords not yet re-sealed by `ops reseal-connectors` (docs/security.md). Never seals.
  CONNECTOR_SECRET_KEY_PREVIOUS: z
    .string()
    .optional()
    .refine(
      (raw) => {
        if (raw === undefined) return true;
        try {
          for (const k of raw.split(',').filter((x) => x.trim() !== '')) parseSecretKey(k);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be 32-byte keys in base64, comma-separated' },
    ),
  // This replica's name (the pod name in Kubernetes): per-replica config consumer group, session references.
  EGRESS_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  // Deprecated and ignored: each connector's TPS and sessions are split by the live replicas (heartbeats in
  // egress_replicas). Still accepted for one release, with a warning at start; removed after.
  EGRESS_REPLICAS: envInt({ min: 1, max: 1000 }).optional(),
  // Pace this many percent under the share, for jitter between our write and the supplier's per-second counter.
  EGRESS_TPS_HEADROOM_PERCENT: envInt({ min: 0, max: 50, default: 5 }),
  // Retries on one connector for throttling / queue full / response timeout before failing over.
  EGRESS_MAX_RETRIES_PER_CONNECTOR: envInt({ min: 0, max: 20, default: 3 }),
  EGRESS_RETRY_INITIAL_MS: envInt({ min: 1, max: 60_000, default: 250 }),
  EGRESS_RETRY_MAX_MS: envInt({ min: 1, max: 600_000, default: 5_000 }),
  EGRESS_RECONNECT_INITIAL_MS: envInt({ min: 10, max: 60_000, default: 1_000 }),
  EGRESS_RECONNECT_MAX_MS: envInt({ min: 10, max: 600_000, default: 60_000 }),
  // How long a part waits for any candidate connector to be bound before it fails NOT_SENT.
  EGRESS_UNAVAILABLE_WAIT_MS: envInt({ min: 0, max: 3_600_000, default: 30_000 }),
  // Routed records of one fetched batch (one partition) in flight at once.
  EGRESS_BATCH_CONCURRENCY: envInt({ min: 1, max: 10_000, default: 500 }),
  // Partitions of sms.routed.v1 processed at the same time by this replica (the topic has 6). With 1, a
  // partition's batch must finish (its slowest part) before any other partition's parts can use the window.
  EGRESS_PARTITION_CONCURRENCY: envInt({ min: 1, max: 64, default: 6 }),
  // A fetch of sms.routed.v1 waits for EGRESS_FETCH_MIN_BYTES or EGRESS_FETCH_WAIT_MS, whichever comes
  // first: larger batches (fewer fetches, dedupe reads and commits) under a paced flow, for up to that much
  // more latency per message.
  EGRESS_FETCH_MIN_BYTES: envInt({ min: 1, max: 16 * 1024 * 1024, default: 32 * 1024 }),
  EGRESS_FETCH_WAIT_MS: envInt({ min: 0, max: 10_000, default: 50 }),
  EGRESS_DRAIN_MS: envInt({ min: 0, max: 600_000, default: 20_000 }),
  // PEM CA bundle for connectors with tls=true whose certificates are not signed by a public CA.
  EGRESS_TLS_CA_FILE: envString().optional(),
};
