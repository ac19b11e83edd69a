// The stats core, built from explicit dependencies (main.ts wires the defaults; tests pass isolated
// topics, a test database and a free gRPC port).
//   sms.routed.v1, sms.rejected.v1, billing.rated.v1 --consumer--> roll-ups + offsets (one transaction)
//   StatsService (gRPC) <-- roll-ups
import { PgTokenStore, TokenVerifier } from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import type { Pool } from '@smshub/db';
import type { ConsumerOptions, ConsumedRecord, TypedConsumer } from '@smshub/kafka';
import type { BillingRated, SmsRejected, SmsRouted, topics as registry } from '@smshub/contracts';
import type { StatsOptions } from './config.js';
import { StatsApi } from './api.js';
import { startGrpcServer, statsService, type GrpcServer } from './grpc.js';
import { StatsQueries } from './query.js';
import { RollupStore, type BatchOutcome, type StatsRecord } from './store.js';
import { ruleHitOf, RuleHitsStore } from './rule-hits.js';
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
  start(): Promise<void>;
  stop(): Promise<void>;
  purge(): Promise<void>;
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

  function handler<T>(kind: StatsRecord['kind']) {
    return async (records: ConsumedRecord<T>[]): Promise<void> => {
      const first = records[0];
      if (!first) return;
      const outcome: BatchOutcome = await rollups.applyBatch(
        first.topic,
        first.partition,
        records.map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          record: { kind, value: r.value } as StatsRecord,
        })),
      );
      for (const [k, n] of Object.entries(outcome))
        if (n > 0) recordsCounted.inc({ topic: first.topic, outcome: k }, n);
      // Rule hits (rule-hits.ts): their own transaction and offsets, after the roll-ups.
      if (kind !== 'rated')
        await ruleHits.applyBatch(
          first.topic,
          first.partition,
          records.map((r) => ({
            offset: r.offset,
            hit: ruleHitOf(
              { kind, value: r.value } as Parameters<typeof ruleHitOf>[0],
              new Date(Number(r.timestamp) || Date.now()),
            ),
          })),
        );
      if (outcome.uncorrectable > 0)
        log.warn(
          { topic: first.topic, partition: first.partition, n: outcome.uncorrectable },
          'rated corrections of messages counted before STATS_CORRECTION_DAYS: not applied',
        );
    };
  }

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
      // Larger fetches under a live flow: a batch costs a few statements whatever its size.
      consumer = (
        await deps.consumer({
          groupId: options.groupId,
          fromBeginning: true,
          minBytes: 64 * 1024,
          maxWaitMs: 250,
        })
      )
        .onBatch<SmsRouted>(deps.topics.routed, handler<SmsRouted>('routed'))
        .onBatch<SmsRejected>(deps.topics.rejected, handler<SmsRejected>('rejected'))
        .onBatch<BillingRated>(deps.topics.rated, handler<BillingRated>('rated'));
      await consumer.start();
      retention = setInterval(() => {
        purge().catch((err: unknown) => log.warn({ err }, 'stats retention delete failed'));
      }, options.purgeEveryMs ?? 3_600_000);
      retention.unref();
    },
    async stop() {
      if (retention) clearInterval(retention);
      await grpcServer?.stop();
      await consumer?.stop();
    },
  };
}
