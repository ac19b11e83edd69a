import { CustomerError, SmsRejected, SmsSubmitted, type topics as topicRegistry } from '@smshub/contracts';
import { PgTokenStore, TokenVerifier } from '@smshub/auth';
import type { Pool } from '@smshub/db';
import type { TlsFiles } from '@smshub/grpc';
import type { TypedConsumer, TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import { heldRow, releasedRecord } from './hold.js';
import { HeldStore } from './store.js';
import { schedulerService, startGrpcServer, type GrpcServer } from './grpc.js';

/**
 * The scheduler: holds messages until their time.
 *   - consumer (group `groupId`) of sms.scheduled.v1: every record becomes a scheduler_held row (one
 *     statement per fetched batch) before its offset is committed; a redelivery changes nothing;
 *   - releaser: every `pollMs` (at once again while batches come back full) one transaction takes up to
 *     `batch` due rows with FOR UPDATE SKIP LOCKED, publishes each onto sms.submitted.v1 (acks=all,
 *     definite outcomes), marks them released and commits. Another replica skips the locked rows, so no two
 *     replicas release one message; a replica that dies before COMMIT leaves its rows held (the lock goes
 *     with its connection) and another releases them, so none is lost. Memory holds one batch at most,
 *     whatever the number held.
 *   - a due message whose validity has ended is not released: an sms.rejected.v1 with error EXPIRED.
 */
export interface SchedulerOptions {
  /** Replica name: recorded as who released a row. */
  replicaId: string;
  /** Group consuming sms.scheduled.v1. */
  groupId: string;
  /** Rows per release transaction. */
  batch: number;
  /** Release scan period when nothing is due. */
  pollMs: number;
  /**
   * Scan period while nothing at all is held (by any replica). This replica's own new rows wake it at
   * once; another replica releases its own, so this only bounds how late a replica that died with held
   * rows is taken over when nothing else was held.
   */
  idlePollMs: number;
  /** Finished rows are deleted after this. */
  retentionMs: number;
  /** SchedulerService (query/cancel/replace); omitted = no gRPC server (tests of the release alone). */
  grpc?: { port: number; host?: string; tls?: TlsFiles; adminToken?: string; authCacheTtlMs?: number };
}

export const DEFAULT_SCHEDULER_OPTIONS: Omit<SchedulerOptions, 'replicaId'> = {
  groupId: 'smshub-scheduler',
  batch: 1000,
  pollMs: 250,
  idlePollMs: 2_000,
  retentionMs: 3 * 24 * 3600_000,
};

export interface SchedulerDeps {
  options: SchedulerOptions;
  logger: Logger;
  pool: Pool;
  producer: TypedProducer;
  consumer(opts: { groupId: string; fromBeginning: boolean; maxWaitMs?: number }): Promise<TypedConsumer>;
  topics: typeof topicRegistry;
}

export interface Scheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly store: HeldStore;
  /** One release pass (tests, bench): how many rows it finished. */
  releaseOnce(): Promise<number>;
  /** The gRPC port (0 without a server). */
  readonly grpcPort: number;
  /** Released/expired since start (this replica). */
  readonly stats: { held: number; released: number; expired: number };
}

const EXPIRED_ERROR: CustomerError = {
  code: 'EXPIRED',
  receiptError: 3,
  message: 'The message validity ended while the hub held it',
};

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { options: opts, pool, producer, topics } = deps;
  const log = deps.logger.child({ component: 'scheduler', replica: opts.replicaId });
  const store = new HeldStore(pool);
  const stats = { held: 0, released: 0, expired: 0 };
  let consumer: TypedConsumer | null = null;
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  /** New rows came in while the loop was not asleep: its next pause ends at once (not lost for a poll). */
  let rowsArrived = false;
  let purgeTimer: NodeJS.Timeout | null = null;
  let grpcServer: GrpcServer | null = null;

  async function releaseOnce(): Promise<number> {
    const client = await pool.connect();
    // A connection lost mid-transaction fails the pending query (or the COMMIT): handled below.
    const onError = (err: Error): void => log.warn({ err: err.message }, 'database connection lost');
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const due = await store.takeDue(client, opts.batch);
      if (due.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const now = new Date();
      const released: string[] = [];
      const expired: string[] = [];
      const sends: Promise<void>[] = [];
      for (const row of due) {
        if (row.expired) {
          expired.push(row.messageId);
          const rejected: SmsRejected = {
            message: SmsSubmitted.decode(row.record),
            ruleId: '',
            reason: 'validity ended while held by the scheduler',
            error: EXPIRED_ERROR,
            destinationInfo: undefined,
            rejectedAt: now,
          };
          sends.push(producer.produce(topics.rejected, rejected));
        } else {
          released.push(row.messageId);
          sends.push(
            producer.produceRaw(topics.submitted.name, row.messageId, releasedRecord(row.record, now)),
          );
        }
      }
      // Every record acknowledged (acks=all) before the rows are marked; any failure rolls the batch back
      // and it is released again (a record that did reach Kafka then appears twice: see README).
      await Promise.all(sends);
      await store.markDone(client, released, expired, opts.replicaId);
      await client.query('COMMIT');
      stats.released += released.length;
      stats.expired += expired.length;
      if (log.isLevelEnabled('debug'))
        log.debug({ released: released.length, expired: expired.length }, 'released');
      return due.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      client.release();
    }
  }

  async function run(): Promise<void> {
    // A release transaction (connect, BEGIN, the claim, COMMIT) only when something is due or new rows
    // came in; while nothing is due, one look at the next due time per pollMs (an idle replica sent four
    // statements every 250 ms before, for nothing).
    let due = true;
    while (running) {
      if (due) {
        let n = 0;
        try {
          n = await releaseOnce();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'release failed; retrying');
          await pause(Math.max(1000, opts.pollMs));
          continue;
        }
        if (n >= opts.batch) continue;
      }
      // Asleep until the next due time (by the database's clock), at most pollMs: a message due in 30 ms is
      // released then, not up to a poll period later. New rows wake the loop (the consumer calls wake).
      let next: number | undefined;
      try {
        next = await store.msUntilNextDue();
      } catch {
        // the release transaction reports the failure and backs off
        due = true;
        continue;
      }
      // Nothing held anywhere: a longer sleep (4 statements a second for nothing before).
      const wait = next === undefined ? opts.idlePollMs : Math.min(opts.pollMs, next);
      const woken = await pause(Math.max(1, wait));
      due = woken || (next !== undefined && next <= wait);
    }
  }

  /** Sleeps `ms`; true when `wake` cut it short (new rows), or new rows came in since the last pause. */
  function pause(ms: number): Promise<boolean> {
    if (rowsArrived) {
      rowsArrived = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => done(false), ms);
      function done(woken: boolean): void {
        clearTimeout(t);
        wake = null;
        resolve(woken);
      }
      wake = () => done(true);
    });
  }

  return {
    store,
    stats,
    releaseOnce,
    get grpcPort() {
      return grpcServer?.port ?? 0;
    },
    async start() {
      const g = opts.grpc;
      if (g) {
        const verifier = new TokenVerifier({
          store: new PgTokenStore(pool),
          ...(g.adminToken !== undefined ? { bootstrapToken: g.adminToken } : {}),
          ...(g.authCacheTtlMs !== undefined ? { cacheTtlMs: g.authCacheTtlMs } : {}),
        });
        grpcServer = await startGrpcServer(
          schedulerService(store, opts.replicaId, log, { verifier, logger: log }),
          log,
          {
            port: g.port,
            ...(g.host !== undefined ? { host: g.host } : {}),
            ...(g.tls ? { tls: g.tls } : {}),
          },
        );
      }
      // Scheduled messages are rare next to the rest of the flow: an empty fetch waits 2 s (a record still
      // answers it at once), half a fetch and a heartbeat a second while idle instead of 2 + 1 (libs/kafka's
      // 500 ms); the price is a stop or a rebalance noticed up to 2 s later.
      consumer = await deps.consumer({ groupId: opts.groupId, fromBeginning: true, maxWaitMs: 2_000 });
      consumer.onBatch(topics.scheduled, async (recs) => {
        const now = new Date();
        const n = await store.insert(recs.map((r) => heldRow(r.value, now)));
        stats.held += n;
        // Something already due (a hold of less than a poll period, a backlog): release it now.
        if (n > 0) {
          if (wake) wake();
          else rowsArrived = true;
        }
      });
      await consumer.start();
      running = true;
      loop = run();
      purgeTimer = setInterval(() => {
        store.purge(opts.retentionMs).catch((err: unknown) => log.warn({ err }, 'purge failed'));
      }, 3600_000);
      purgeTimer.unref();
      log.info({ batch: opts.batch, pollMs: opts.pollMs }, 'scheduler started');
    },
    async stop() {
      running = false;
      wake?.();
      if (purgeTimer) clearInterval(purgeTimer);
      await consumer?.stop();
      await loop;
      await grpcServer?.stop();
      log.info(stats, 'scheduler stopped');
    },
  };
}
