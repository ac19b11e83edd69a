import { hostname } from 'node:os';
import { authEnv } from '@smshub/auth';
import { databaseEnv, envInt, envString, grpcServerEnv, z } from '@smshub/config';

/** Routing environment (README "Configuration"); defaults live here and nowhere else. */
export const routingEnv = {
  ...databaseEnv,
  /** ADMIN_TOKEN (bootstrap credential) and AUTH_CACHE_TTL_MS of RoutingService's authentication. */
  ...authEnv,
  /** GRPC_HOST (default 127.0.0.1), GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE (PEM, both or neither). */
  ...grpcServerEnv,
  /** RoutingService (gRPC: dry run, learnt estimates) and grpc.health.v1 port, on every replica. */
  GRPC_PORT: envInt({ min: 0, max: 65535, default: 50057 }),
  // This replica's name (the pod name in Kubernetes): per-replica config consumer group.
  ROUTING_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  // Portability cache in front of routing_ported_numbers: how long a found / a "not ported" answer is kept,
  // and how many numbers at most (least recently used dropped first).
  ROUTING_PORTED_CACHE_TTL_MS: envInt({ min: 0, max: 7 * 24 * 3600_000, default: 3600_000 }),
  ROUTING_PORTED_NEGATIVE_TTL_MS: envInt({ min: 0, max: 7 * 24 * 3600_000, default: 600_000 }),
  // About 150 B per number: the default holds the cache near 30 MB.
  ROUTING_PORTED_CACHE_MAX: envInt({ min: 1, max: 50_000_000, default: 200_000 }),
  // Destination normalisations remembered (libphonenumber-js parse + validation, ~10 µs each); about
  // 200 B per entry; 0 turns the memo off.
  ROUTING_NORMALISE_CACHE_MAX: envInt({ min: 0, max: 10_000_000, default: 100_000 }),
  // Firewall memory bounds: keys per velocity counter / sequential-burst detector (~300 B each), entries
  // per duplicate rule (~150 B each; size it to at least peak msg/s x the rule's window, or the oldest are
  // forgotten early: the check fails open), admitted message ids remembered for redelivery (~150 B each).
  ROUTING_FIREWALL_MAX_KEYS_PER_RULE: envInt({ min: 1, max: 10_000_000, default: 100_000 }),
  ROUTING_FIREWALL_DUPLICATE_MAX_KEYS: envInt({ min: 1, max: 50_000_000, default: 300_000 }),
  ROUTING_FIREWALL_REMEMBERED_IDS: envInt({ min: 1, max: 50_000_000, default: 250_000 }),
  // Where the duplicate and velocity firewall windows live: postgres (shared by every replica, kept over
  // restarts; tables of migration 0310) or memory (per process, reset by a restart: one replica only).
  ROUTING_FIREWALL_WINDOWS: z.enum(['postgres', 'memory']).default('postgres'),
  // PostgreSQL windows: how long an admitted message id is remembered, so that a redelivery (crash,
  // rebalance) on any replica is not counted twice; expired rows are deleted every cleanup interval.
  ROUTING_FIREWALL_REMEMBER_MS: envInt({ min: 1_000, max: 24 * 3600_000, default: 600_000 }),
  ROUTING_FIREWALL_CLEANUP_INTERVAL_MS: envInt({ min: 1_000, max: 3600_000, default: 60_000 }),
  // Events of one consumed batch waiting for Kafka's acknowledgement at most (a backlog's batches are
  // large: this bounds the encoded events, timers and spans held meanwhile).
  ROUTING_MAX_PUBLISHES_IN_FLIGHT: envInt({ min: 1, max: 100_000, default: 1_000 }),
  // Half-life of the adaptive strategy's learnt delivery and latency estimates (an observation this old
  // weighs half): a change in a network shows within a few half-lives.
  ROUTING_ADAPTIVE_HALF_LIFE_MS: envInt({ min: 1_000, max: 7 * 24 * 3600_000, default: 300_000 }),
  // Partitions of sms.submitted.v1 processed at once by this replica. As many as the topic has (6 in the
  // hub): the batches of one fetch are then decided together and their events go to Kafka in one produce
  // request, where 2 at a time made one request per two batches, each ~1 ms of CPU however few events it
  // carries (README "Performance", session 10). A partition's batches are still handled in order.
  ROUTING_PARTITIONS_CONCURRENTLY: envInt({ min: 1, max: 64, default: 6 }),
  // A fetch of sms.submitted.v1 waits until the broker holds this many bytes for it, or the wait below has
  // passed: under a flow one fetch carries many messages instead of one each (a fetch request per produce
  // request otherwise); a message waits at most ROUTING_FETCH_WAIT_MS longer. At the hub's paced rates the
  // wait, not the bytes, ends a fetch, and each batch costs about 1.4 ms of CPU whatever it carries
  // (README "Performance", session 10): 50 ms instead of 25 cut routing's CPU per message by about 18 % at
  // 600 msg/s, for at most 25 ms more per message (egress waits 50 ms too).
  ROUTING_FETCH_MIN_BYTES: envInt({ min: 1, max: 1024 * 1024, default: 32 * 1024 }),
  ROUTING_FETCH_WAIT_MS: envInt({ min: 0, max: 1_000, default: 50 }),
  // Grey routes (docs/routing.md "Grey routes"). Probes go to the numbers of routing_probe_targets, sent as
  // this account (an internal one: rating prices channel PROBE at zero sell) from this hub number (assign
  // it to that account, so that inbound publishes the probe handsets' confirmations); either unset = no
  // probes (the latency signal and demotion still work).
  ROUTING_PROBE_ACCOUNT_ID: envString()
    .optional()
    .transform((v) => v ?? ''),
  ROUTING_PROBE_SENDER: z
    .string()
    .regex(/^\+?[0-9]{3,15}$/, 'a hub number (digits)')
    .optional()
    .transform((v) => v ?? ''),
  // How often due probes are sent and verdicts computed.
  ROUTING_PROBE_TICK_MS: envInt({ min: 100, max: 3600_000, default: 5_000 }),
  // A DELIVRD probe without the handset's MO this long after it was sent is a fake receipt; an MO later than
  // ROUTING_PROBE_LATE_MS after the DELIVRD receipt makes it late.
  ROUTING_PROBE_DEADLINE_MS: envInt({ min: 1_000, max: 24 * 3600_000, default: 600_000 }),
  ROUTING_PROBE_LATE_MS: envInt({ min: 100, max: 24 * 3600_000, default: 60_000 }),
  // Verdict: among a connector's last WINDOW decisive probes, at least MIN_BAD bad ones that are at least
  // half of them suspect it; its CLEAR_AFTER newest all confirmed clear it.
  ROUTING_PROBE_WINDOW: envInt({ min: 1, max: 1000, default: 10 }),
  ROUTING_PROBE_MIN_BAD: envInt({ min: 1, max: 1000, default: 3 }),
  ROUTING_PROBE_CLEAR_AFTER: envInt({ min: 1, max: 1000, default: 2 }),
  // Receipt latency signal: on, with this many DELIVRD receipts per connector before it speaks.
  ROUTING_LATENCY_SIGNAL: z.enum(['on', 'off']).default('on'),
  ROUTING_LATENCY_MIN_SAMPLES: envInt({ min: 10, max: 100_000, default: 100 }),
};
