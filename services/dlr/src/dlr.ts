// The dlr core, built from explicit dependencies (main.ts wires the defaults; tests pass isolated
// topics, a test database and a free gRPC port).
import { PgTokenStore, TokenVerifier } from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import type { Pool } from '@smshub/db';
import type { ConsumerOptions, TypedConsumer, TypedProducer } from '@smshub/kafka';
import type { DlrOptions } from './config.js';
import { Aggregator, EXPIRY_SWEEP_LIMIT } from './aggregator.js';
import { MessageQueries, messageService, startGrpcServer, type GrpcServer } from './grpc.js';
import { Joiner, SWEEP_LIMIT } from './joiner.js';
import { InboundRecorder } from './inbound.js';
import { RatedRecorder } from './rated.js';
import type { DlrTopics } from './topics.js';

export interface DlrDeps {
  options: DlrOptions;
  logger: Logger;
  producer: TypedProducer;
  consumer: (opts: Omit<ConsumerOptions, 'producer'>) => Promise<TypedConsumer>;
  pool: Pool;
  topics: DlrTopics;
}

export interface Dlr {
  readonly joiner: Joiner;
  readonly aggregator: Aggregator;
  readonly queries: MessageQueries;
  /** Port the gRPC server is bound to (after start). */
  readonly grpcPort: number;
  /** The consumer group's dead-letter topic (unmatched receipts are copied there). */
  readonly deadLetterTopic: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createDlr(deps: DlrDeps): Dlr {
  const { options, logger, topics } = deps;
  const log = logger.child({ component: 'dlr' });
  let consumer: TypedConsumer | undefined;
  let grpcServer: GrpcServer | undefined;
  const timers: NodeJS.Timeout[] = [];
  const aggregator = new Aggregator({ options, logger, producer: deps.producer, pool: deps.pool, topics });
  const joiner = new Joiner({
    options,
    logger,
    producer: deps.producer,
    pool: deps.pool,
    topics,
    applyParts: (parts, timeline) => aggregator.applyParts(parts, timeline),
    deadLetterTopic: () => consumer?.deadLetterTopic ?? `${options.groupId}.dlq`,
  });
  const queries = new MessageQueries(deps.pool);

  const running = new Set<Promise<unknown>>();

  /** Runs `task` every `ms`, never two at once; failures are logged and retried next time. */
  function every(name: string, ms: number, task: () => Promise<unknown>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy) return;
      busy = true;
      const p = task()
        .catch((err: unknown) => log.error({ err, task: name }, 'periodic task failed'))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    }, ms);
    t.unref();
    timers.push(t);
  }

  return {
    joiner,
    aggregator,
    queries,
    get grpcPort() {
      return grpcServer?.port ?? 0;
    },
    get deadLetterTopic() {
      return consumer?.deadLetterTopic ?? `${options.groupId}.dlq`;
    },
    async start() {
      const verifier = new TokenVerifier({
        store: new PgTokenStore(deps.pool),
        ...(options.adminToken !== undefined ? { bootstrapToken: options.adminToken } : {}),
        ...(options.authCacheTtlMs !== undefined ? { cacheTtlMs: options.authCacheTtlMs } : {}),
      });
      grpcServer = await startGrpcServer(messageService(queries, log, { verifier, logger: log }), log, {
        port: options.grpcPort,
        ...(options.grpcHost !== undefined ? { host: options.grpcHost } : {}),
        ...(options.grpcTls ? { tls: options.grpcTls } : {}),
      });
      consumer = await deps.consumer({
        groupId: options.groupId,
        partitionsConsumedConcurrently: options.partitionConcurrency,
        minBytes: options.fetchMinBytes,
        maxWaitMs: options.fetchMaxWaitMs,
        // DISPATCHES_FIRST (joiner.ts): a fetch's dispatch batches are started before its receipt batches
        ...(options.receiptsAfterDispatches !== false ? { firstTopics: [topics.dispatched.name] } : {}),
      });
      consumer
        .onBatch(topics.dispatched, (r) => joiner.onDispatches(r))
        .onBatch(topics.receiptRaw, (r) => joiner.onReceipts(r))
        .onBatch(topics.submitted, (r) => aggregator.onSubmitted(r))
        .onBatch(topics.routed, (r) => aggregator.onRouted(r))
        .onBatch(topics.rejected, (r) => aggregator.onRejected(r))
        .onBatch(topics.partStatus, (r) => aggregator.onParts(r));
      if (topics.scheduled) {
        const scheduled = topics.scheduled;
        consumer.onBatch(scheduled, (r) => aggregator.onScheduled(r));
      }
      if (topics.inbound) {
        const inbound = new InboundRecorder(deps.pool, topics.inbound.name);
        consumer.onBatch(topics.inbound, (r) => inbound.onInbound(r));
      }
      if (topics.rated) {
        const rated = new RatedRecorder(deps.pool, topics.rated.name);
        consumer.onBatch(topics.rated, (r) => rated.onRated(r));
      }
      await consumer.start();
      every('sweep', options.sweepIntervalMs, async () => {
        // each call handles one page; drain a backlog page by page
        while ((await joiner.sweepParked()).claimed === SWEEP_LIMIT) continue;
        while ((await aggregator.sweepExpiry()) === EXPIRY_SWEEP_LIMIT) continue;
        joiner.maintain();
      });
      every('stats', options.statsIntervalMs, () => aggregator.publishStats());
      every('retention', options.retentionIntervalMs, () => aggregator.retention());
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      timers.length = 0;
      await Promise.all(running); // a sweep in progress finishes before the pool and producer close
      await consumer?.stop();
      await grpcServer?.stop();
    },
  };
}
