import { databaseEnv, envBoolean, envInt, grpcServerEnv, z } from '@smshub/config';
import { tlsFiles, type TlsFiles } from '@smshub/grpc';
import { authEnv } from '@smshub/auth';
import type { IdFormatSetting } from './domain/types.js';

/**
 * Join-stage cache size: about 2.8 KB of heap per message, so ~110 MB, which keeps the process under
 * 300 MB while it holds a backlog (200,000 took it to 680-870 MB). Receipts usually arrive seconds after
 * their dispatch; one that finds its message evicted costs a keyed lookup in dlr_dispatch_index.
 */
export const MAX_MESSAGES_IN_MEMORY_DEFAULT = 40_000;

/**
 * A fetch waits until the broker holds this much for it (about 1,400 hub records of ~370 bytes, 0.3 s of
 * input at 1,200 messages/s) or DLR_FETCH_MAX_WAIT_MS have passed. dlr's cost is mostly per batch
 * (one statement per batch for the message rows, the timeline, the dispatch index, the parked
 * receipts), and one fetch is split into a batch per partition of six topics: a fetch answered at once
 * under a paced flow carries a few records per partition. Under a backlog the fetch fills at once.
 */
export const FETCH_MIN_BYTES_DEFAULT = 512 * 1024;
/**
 * The longest a fetch waits for DLR_FETCH_MIN_BYTES: what a receipt may wait more per hop under a light
 * flow. A receipt makes two hops in dlr (sms.receipt.raw.v1 -> dlr.parts.v1 -> sms.delivery.v1). When dlr
 * is busy a wait also makes the next fetches larger and longer to handle: at 1,200 messages/s the median
 * grew by ~35-215 ms per hop with 100 ms, and by seconds with 150 ms (README, "fetch waits").
 */
export const FETCH_MAX_WAIT_MS_DEFAULT = 100;
/**
 * DLR_RECEIPT_HOLD_MS (joiner.ts RECEIPT_HOLD): a few fetches' waits (FETCH_MAX_WAIT_MS_DEFAULT), so a
 * receipt whose dispatch is published up to ~200 ms after it is held until then. Chosen with the pipeline
 * bench (README "Performance: session 14", D5): dispatches 100 ms after their receipts, 0 / 150 / 250 / 500
 * parked 0.39-0.46 / 0.067 / 0.009 / 0 per message; 200 ms after, 0 / 250 / 500 parked 0.95 / 0.20 / 0.
 */
export const RECEIPT_HOLD_MS_DEFAULT = 500;

/**
 * Old-generation growth between full GCs under a heap cap: 50 % instead of V8's 30 % took the cap's price
 * in the pipeline bench from 20-36 % to ~10 % with no higher peak RSS (README, "Performance: session 9");
 * 100 % halves the full GCs again: the price of the cap +23 % → +12 % (medians) in the bundled pipeline
 * bench, peak RSS 184-216 MB (README, "Performance: session 11").
 */
export const HEAP_GROWING_PERCENT_DEFAULT = 100;

/** dlr's own environment variables (merged with the shared Kafka/HTTP/log/OTel ones by runService). */
export const dlrEnv = {
  ...databaseEnv,
  /** ADMIN_TOKEN (optional bootstrap admin credential), AUTH_CACHE_TTL_MS (revocation bound, 2000). */
  ...authEnv,
  /** GRPC_HOST (default 127.0.0.1), GRPC_TLS_CERT_FILE / GRPC_TLS_KEY_FILE (PEM, both or neither). */
  ...grpcServerEnv,
  /** MessageService (gRPC) and grpc.health.v1 port. */
  GRPC_PORT: envInt({ min: 0, max: 65535, default: 50052 }),
  /** How long a receipt that arrived before its dispatch is retried before it is reported unmatched. */
  DLR_PARK_TTL_MS: envInt({ min: 1_000, max: 86_400_000, default: 300_000 }),
  /** Validity assumed when the customer gave none (then the message expires). */
  DLR_DEFAULT_VALIDITY_SECONDS: envInt({ min: 60, max: 30 * 86_400, default: 172_800 }),
  /** Extra wait after the end of validity before the hub declares a message EXPIRED. */
  DLR_EXPIRY_GRACE_SECONDS: envInt({ min: 0, max: 86_400, default: 600 }),
  /**
   * A re-routed part (issue 21 item 2) whose extra attempt egress has not reported accepted within this
   * time ends with the withheld failure (the supplier's own status and err) instead of waiting for expiry.
   */
  DLR_REROUTE_TIMEOUT_SECONDS: envInt({ min: 10, max: 86_400, default: 900 }),
  /** Message rows, timelines and dispatch index entries older than this are deleted. */
  DLR_RETENTION_DAYS: envInt({ min: 1, max: 3_650, default: 30 }),
  /** How often delivery statistics are published on delivery.stats.v1. */
  DLR_STATS_INTERVAL_MS: envInt({ min: 1_000, max: 3_600_000, default: 30_000 }),
  /** Publish intermediate (ENROUTE/ACCEPTED) deliveries too, not only the final one. */
  DLR_INTERMEDIATE_RECEIPTS: envBoolean(false),
  /** How often parked receipts are retried/expired and overdue messages expired. */
  DLR_SWEEP_INTERVAL_MS: envInt({ min: 100, max: 600_000, default: 5_000 }),
  /** How often the retention delete runs. */
  DLR_RETENTION_INTERVAL_MS: envInt({ min: 1_000, max: 86_400_000, default: 3_600_000 }),
  /** Messages whose join state is cached in memory (the rest is looked up in Postgres). */
  DLR_MAX_MESSAGES_IN_MEMORY: envInt({
    min: 1_000,
    max: 10_000_000,
    default: MAX_MESSAGES_IN_MEMORY_DEFAULT,
  }),
  /** Topic partitions processed concurrently by one instance (each batch is one partition of one topic). */
  DLR_PARTITION_CONCURRENCY: envInt({ min: 1, max: 64, default: 4 }),
  /** Bytes the broker gathers before it answers a fetch (1: answer at once). */
  DLR_FETCH_MIN_BYTES: envInt({ min: 1, max: 16 * 1024 * 1024, default: FETCH_MIN_BYTES_DEFAULT }),
  /** The longest a fetch waits for DLR_FETCH_MIN_BYTES (added latency per hop under a light flow). */
  DLR_FETCH_MAX_WAIT_MS: envInt({ min: 0, max: 5_000, default: FETCH_MAX_WAIT_MS_DEFAULT }),
  /**
   * With a capped heap (--max-old-space-size below 1 GB), how much the old generation may grow between
   * full GCs, percent of the live heap (heap.ts; V8's own is 30 % under such a cap); 0 = V8's choice.
   */
  DLR_HEAP_GROWING_PERCENT: envInt({ min: 0, max: 400, default: HEAP_GROWING_PERCENT_DEFAULT }),
  /**
   * How message rows store the reducer state (stored-state.ts): `compact` (json without what the row already
   * says) or `jsonb` (whole, as dlr before migration 0402 wrote it and alone can read: for a rolling upgrade
   * from such a version, until no instance of it runs).
   */
  DLR_STATE_FORMAT: z.enum(['compact', 'jsonb']).default('compact'),
  /**
   * Where an accepted dispatch's timeline event is kept (joiner.ts DISPATCH_EVENT_IN_INDEX): `index` (in its
   * dlr_dispatch_index row, migration 0404: no dlr_timeline row) or `timeline` (a dlr_timeline row, as dlr
   * before 0404 wrote it and alone can read: for a rolling upgrade from such a version, until none runs).
   */
  DLR_DISPATCH_EVENT: z.enum(['index', 'timeline']).default('index'),
  /**
   * Where a joined receipt's timeline event is kept (aggregator.ts RECEIPT_IN_DELIVERY): `delivery` (in the
   * dlr_timeline row of the delivery it causes, migration 0405) or `timeline` (a row of its own, as dlr
   * before 0405 wrote it and alone can read: for a rolling upgrade from such a version, until none runs).
   */
  DLR_RECEIPT_EVENT: z.enum(['delivery', 'timeline']).default('delivery'),
  /**
   * A receipt batch waits for the dispatch batches being handled at that moment before it looks for its
   * dispatches (joiner.ts DISPATCHES_FIRST): fewer receipts parked when they follow their dispatch closely.
   */
  DLR_RECEIPTS_AFTER_DISPATCHES: envBoolean(true),
  /**
   * A receipt that finds no dispatch and whose record is younger than this is held back for the next fetch
   * instead of parked (joiner.ts RECEIPT_HOLD); 0 = parked at once.
   */
  DLR_RECEIPT_HOLD_MS: envInt({ min: 0, max: 60_000, default: RECEIPT_HOLD_MS_DEFAULT }),
};

export type DlrEnv = z.infer<z.ZodObject<typeof dlrEnv>>;

/** Options of the dlr core (createDlr); main.ts builds them from DlrEnv. */
export interface DlrOptions {
  grpcPort: number;
  /** Accepted as an admin token besides auth_tokens (ADMIN_TOKEN). */
  adminToken?: string;
  /** Token lookups are reused this long (the bound on how late a revocation takes effect). */
  authCacheTtlMs?: number;
  /** gRPC listen address; default 127.0.0.1. */
  grpcHost?: string;
  /** gRPC over TLS with these PEM files; omitted = plaintext. */
  grpcTls?: TlsFiles;
  parkTtlMs: number;
  defaultValidityMs: number;
  expiryGraceMs: number;
  /** DLR_REROUTE_TIMEOUT_SECONDS in ms (domain/expiry.ts); unset: a re-routed part waits for expiry. */
  rerouteTimeoutMs?: number;
  retentionDays: number;
  statsIntervalMs: number;
  intermediateReceipts: boolean;
  sweepIntervalMs: number;
  retentionIntervalMs: number;
  maxMessagesInMemory: number;
  /** Id format of a connector (from its MESSAGE_ID_FORMAT option); default auto-detection. */
  idSetting: (connectorId: string) => IdFormatSetting;
  /** Partitions (of any of the consumed topics) processed at the same time. */
  partitionConcurrency: number;
  /** The consumer's fetches wait for this many bytes or `fetchMaxWaitMs` (larger batches under a paced flow). */
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  /** Consumer group; default smshub-dlr. */
  groupId: string;
  /** DLR_STATE_FORMAT; default compact. */
  stateFormat?: 'compact' | 'jsonb';
  /** DLR_DISPATCH_EVENT; default index. */
  dispatchEvent?: 'index' | 'timeline';
  /** DLR_RECEIPT_EVENT; default delivery. */
  receiptEvent?: 'delivery' | 'timeline';
  /** DLR_RECEIPTS_AFTER_DISPATCHES (joiner.ts DISPATCHES_FIRST); default true. */
  receiptsAfterDispatches?: boolean;
  /** DLR_RECEIPT_HOLD_MS (joiner.ts RECEIPT_HOLD); omitted or 0 = parked at once. */
  receiptHoldMs?: number;
  /**
   * Parameters of the join stage's one-statement write at most (joiner.ts writeStatement); a batch past it
   * is written in a transaction, a statement per table. Default ONE_STATEMENT_MAX_PARAMS; not configurable
   * (tests set a small one to take that path with a small batch).
   */
  joinStatementMaxParams?: number;
}

export function optionsFromEnv(env: DlrEnv): DlrOptions {
  const grpcTls = tlsFiles(env.GRPC_TLS_CERT_FILE, env.GRPC_TLS_KEY_FILE);
  return {
    grpcPort: env.GRPC_PORT,
    ...(env.ADMIN_TOKEN !== undefined ? { adminToken: env.ADMIN_TOKEN } : {}),
    authCacheTtlMs: env.AUTH_CACHE_TTL_MS,
    grpcHost: env.GRPC_HOST,
    ...(grpcTls ? { grpcTls } : {}),
    parkTtlMs: env.DLR_PARK_TTL_MS,
    defaultValidityMs: env.DLR_DEFAULT_VALIDITY_SECONDS * 1000,
    expiryGraceMs: env.DLR_EXPIRY_GRACE_SECONDS * 1000,
    rerouteTimeoutMs: env.DLR_REROUTE_TIMEOUT_SECONDS * 1000,
    retentionDays: env.DLR_RETENTION_DAYS,
    statsIntervalMs: env.DLR_STATS_INTERVAL_MS,
    intermediateReceipts: env.DLR_INTERMEDIATE_RECEIPTS,
    sweepIntervalMs: env.DLR_SWEEP_INTERVAL_MS,
    retentionIntervalMs: env.DLR_RETENTION_INTERVAL_MS,
    maxMessagesInMemory: env.DLR_MAX_MESSAGES_IN_MEMORY,
    partitionConcurrency: env.DLR_PARTITION_CONCURRENCY,
    fetchMinBytes: env.DLR_FETCH_MIN_BYTES,
    fetchMaxWaitMs: env.DLR_FETCH_MAX_WAIT_MS,
    idSetting: () => ({ format: 'auto' }),
    groupId: 'smshub-dlr',
    stateFormat: env.DLR_STATE_FORMAT,
    dispatchEvent: env.DLR_DISPATCH_EVENT,
    receiptEvent: env.DLR_RECEIPT_EVENT,
    receiptsAfterDispatches: env.DLR_RECEIPTS_AFTER_DISPATCHES,
    receiptHoldMs: env.DLR_RECEIPT_HOLD_MS,
  };
}
