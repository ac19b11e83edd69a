// The stats core, built from explicit dependencies (main.ts wires the defaults; tests pass isolated
// topics, a test database and a free gRPC port).
//   sms.routed.v1, sms.rejected.v1, billing.rated.v1 --consumer--> roll-ups + offsets (one transaction)
//   StatsService (gRPC) <-- roll-ups
import { PgTokenStore, TokenVerifier } from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import type { Pool } from '@smshub/db';
import { GroupCommit } from '@smshub/db';
import type { ConsumerOptions, ConsumedRecord, TypedConsumer } from '@smshub/kafka';
import type { BillingRated, SmsRejected, SmsRouted, topics as registry } from '@smshub/contracts';
import type { StatsOptions } from './config.js';
import { StatsApi } from './api.js';
import { startGrpcServer, statsService, type GrpcServer } from './grpc.js';
import { StatsQueries } from './query.js';
import { RollupStore, type BatchOutcome, type PartitionBatch } from './store.js';
import { RuleHitsStore } from './rule-hits.js';
import type { StatsKind } from './domain/prepare.js';
import { purgedRows, recordsCounted } from './metrics.js';

export interface StatsDeps {
  options: StatsOptions;
  logger: Logger;
  consumer: (opts: Omit<ConsumerOptions, 'producer'>) => Promise<TypedConsumer>;
  /** Writer pool (roll-ups). */
  pool: Pool;
  /** Query pool (StatsService); default `pool`. */
  queryPool?: Pool;
  topics: Pick<typeof registry, 'routed' | 'rejected' | 'rated'>;
}

export interface Stats {
  readonly store: RollupStore;
  readonly api: StatsApi;
  readonly ruleHits: RuleHitsStore;
  readonly grpcPort: number;
  /** Records read and waiting for the flush that writes them. */
  readonly pendingRecords: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Stops as a crash would: what is not flushed yet is never written and its offsets are not committed
   * (tests of the exactly-once flush).
   */
  abandon(): Promise<void>;
  purge(): Promise<void>;
}

/** A flush refused because the instance was abandoned (retriable: the records are read again). */
class AbandonedError extends Error {
  readonly retriable = true;
  constructor() {
    super('stats abandoned before this flush');
  }
}

export function createStats(deps: StatsDeps): Stats {
  const { options, logger, pool } = deps;
  const log = logger.child({ component: 'stats' });
  const rollups = new RollupStore(pool, options.groupId);
  const api = new StatsApi(new StatsQueries(deps.queryPool ?? pool));
  const ruleHits = new RuleHitsStore(pool, options.groupId, deps.queryPool ?? pool);
  let consumer: TypedConsumer | undefined;
  let grpcServer: GrpcServer | undefined;
  let retention: NodeJS.Timeout | undefined;

  // Records are summed in memory and written by one flush per STATS_FLUSH_MS (or once STATS_FLUSH_RECORDS
  // are pending): one transaction for every partition's records, with their offsets (store.ts). A batch
  // handler returns only once the flush that carried its records committed, so Kafka's committed offset
  // never passes what PostgreSQL holds: a crash between flushes loses nothing (the records are read
  // again) and counts nothing twice (the offsets stored with the rows skip what a flush did commit).
  const kindOf = new Map<string, StatsKind>([
    [deps.topics.routed.name, 'routed'],
    [deps.topics.rejected.name, 'rejected'],
    [deps.topics.rated.name, 'rated'],
  ]);
  let abandoned = false;
  let abandon: (err: Error) => void = () => undefined;
  const abandonedBeforeFlush = new Promise<never>((_, reject) => (abandon = reject));
  abandonedBeforeFlush.catch(() => undefined);
  const flushes = new GroupCommit<ConsumedRecord<unknown>, Map<string, BatchOutcome>>({
    commit: async (records) => {
      if (abandoned) throw new AbandonedError();
      const parts: PartitionBatch[] = [];
      let current: PartitionBatch & { records: ConsumedRecord<unknown>[] } = {
        topic: '',
        partition: -1,
        kind: 'routed',
        records: [],
      };
      for (const r of records) {
        if (r.topic !== current.topic || r.partition !== current.partition) {
          current = { topic: r.topic, partition: r.partition, kind: kindOf.get(r.topic)!, records: [] };
          parts.push(current);
        }
        current.records.push(r);
      }
      const outcome = await rollups.applyPartitions(parts, ruleHits);
      for (const [topic, o] of outcome) {
        for (const [k, n] of Object.entries(o)) if (n > 0) recordsCounted.inc({ topic, outcome: k }, n);
        if (o.uncorrectable > 0)
          log.warn(
            { topic, n: o.uncorrectable },
            'rated corrections of messages counted before STATS_CORRECTION_DAYS: not applied',
          );
      }
      return outcome;
    },
    maxItems: options.flush?.maxRecords ?? 10_000,
    lingerMs: options.flush?.intervalMs ?? 1_000,
  });
  let pending = 0;
  let closing = false;
  const handler = async (records: ConsumedRecord<unknown>[]): Promise<void> => {
    if (records.length === 0) return;
    pending += records.length;
    try {
      const flushed = flushes.push(records);
      if (closing) flushes.flush();
      await Promise.race([flushed, abandonedBeforeFlush]);
    } finally {
      pending -= records.length;
    }
  };

  async function purge(): Promise<void> {
    const deleted = await rollups.purge(options.retention);
    for (const [table, n] of Object.entries(deleted)) if (n > 0) purgedRows.inc({ table }, n);
    const hits = await ruleHits.purge(options.retention.minuteDays);
    if (hits > 0) purgedRows.inc({ table: 'stats_rule_minute' }, hits);
  }

  return {
    store: rollups,
    ruleHits,
    api,
    get grpcPort() {
      return grpcServer?.port ?? 0;
    },
    get pendingRecords() {
      return pending;
    },
    purge,
    async start() {
      const verifier = new TokenVerifier({
        store: new PgTokenStore(pool),
        ...(options.adminToken !== undefined ? { bootstrapToken: options.adminToken } : {}),
        ...(options.authCacheTtlMs !== undefined ? { cacheTtlMs: options.authCacheTtlMs } : {}),
      });
      grpcServer = await startGrpcServer(statsService(api, log, { verifier, logger: log }, ruleHits), log, {
        port: options.grpcPort,
        ...(options.grpcHost !== undefined ? { host: options.grpcHost } : {}),
        ...(options.grpcTls ? { tls: options.grpcTls } : {}),
      });
      // A new group reads the topics from the start: the history Kafka still holds is rolled up too.
      // Every partition's batch of a fetch is handled at once (each waits for the flush that carries it),
      // and a fetch may bring a flush interval of a busy flow (or STATS_FLUSH_RECORDS of a backlog).
      consumer = (
        await deps.consumer({
          groupId: options.groupId,
          fromBeginning: true,
          partitionsConsumedConcurrently: 64,
          fetch: { maxBytes: 4 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024 },
        })
      )
        .onBatch<SmsRouted>(deps.topics.routed, handler)
        .onBatch<SmsRejected>(deps.topics.rejected, handler)
        .onBatch<BillingRated>(deps.topics.rated, handler);
      await consumer.start();
      retention = setInterval(() => {
        purge().catch((err: unknown) => log.warn({ err }, 'stats retention delete failed'));
      }, options.purgeEveryMs ?? 3_600_000);
      retention.unref();
    },
    async stop() {
      if (retention) clearInterval(retention);
      await grpcServer?.stop();
      // The batches in hand are written now, not at the end of the interval.
      closing = true;
      const stopped = consumer?.stop();
      flushes.flush();
      await stopped;
    },
    async abandon() {
      abandoned = true;
      if (retention) clearInterval(retention);
      // The consumer is stopping before the waiting handlers fail, so their batches are left unresolved
      // (read again by the next member) rather than retried or dead-lettered.
      const stopped = consumer?.stop();
      abandon(new AbandonedError());
      await stopped;
      await grpcServer?.stop();
    },
  };
}
