import { hostname } from 'node:os';
import { databaseEnv, envInt, envString } from '@smshub/config';

/** Routing environment (README "Configuration"); defaults live here and nowhere else. */
export const routingEnv = {
  ...databaseEnv,
  // This replica's name (the pod name in Kubernetes): per-replica config consumer group.
  ROUTING_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  // Portability cache in front of routing_ported_numbers: how long a found / a "not ported" answer is kept,
  // and how many numbers at most (least recently used dropped first).
  ROUTING_PORTED_CACHE_TTL_MS: envInt({ min: 0, max: 7 * 24 * 3600_000, default: 3600_000 }),
  ROUTING_PORTED_NEGATIVE_TTL_MS: envInt({ min: 0, max: 7 * 24 * 3600_000, default: 600_000 }),
  ROUTING_PORTED_CACHE_MAX: envInt({ min: 1, max: 50_000_000, default: 1_000_000 }),
  // Partitions of sms.submitted.v1 processed at once by this replica.
  ROUTING_PARTITIONS_CONCURRENTLY: envInt({ min: 1, max: 64, default: 2 }),
};
