// The rating service, built from explicit dependencies (tests construct it with isolated topics and a
// test database; main.ts wires the defaults).

import type { Pool } from 'pg';
import {
  ResourceKind,
  ratedStatusToJSON,
  type AccountBalance,
  type BillingRated,
  type ConfigChange,
  type SmsDelivery,
  type SmsDispatched,
  type SmsInbound,
  type TopicSpec,
} from '@smshub/contracts';
import { GroupCommit } from '@smshub/db';
import type { TlsFiles } from '@smshub/grpc';
import type { ConsumerOptions, Kafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { PgTokenStore, TokenVerifier } from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import { applyTopUp, BalancePublisher, type TopUpRequest, type TopUpResult } from './balance-publisher.js';
import { CatalogHolder, type Catalog } from './catalog.js';
import {
  listUnpublished,
  markPublished,
  oldestUnpublished,
  publishUnpublished,
  writeCdrs,
  type CdrRow,
  type WriteResult,
} from './cdr-store.js';
import { decideRating } from './domain/idempotency.js';
import { rerouteCost, withRerouteCost } from './reroute-cost.js';
import { asInternal } from './domain/internal.js';
import type { SupplierPolicy } from './domain/types.js';
import {
  fromDelivery,
  fromDispatched,
  fromInbound,
  InvalidEventError,
  type Mapped,
  type RatingInput,
} from './events.js';
import { startSettlementServer, type GrpcServer } from './grpc.js';
import { ratingMetrics } from './metrics.js';
import { readRatedTopic } from './rated-topic-reader.js';
import { toBillingRated } from './record.js';

export interface RatingTopics {
  dispatched: TopicSpec<SmsDispatched>;
  delivery: TopicSpec<SmsDelivery>;
  /** Inbound messages (MO), rated with inbound rates in a consumer group of their own (`<groupId>-inbound`). */
  inbound: TopicSpec<SmsInbound>;
  rated: TopicSpec<BillingRated>;
  balances: TopicSpec<AccountBalance>;
  configChanges: TopicSpec<ConfigChange>;
}

export interface RatingOptions {
  /** Names the per-replica config consumer group smshub-rating-config-<replicaId>. */
  replicaId: string;
  /** Consumer group of the message events. */
  groupId: string;
  /** Balances are published at most once per account per interval. */
  balancePublishIntervalMs: number;
  /** Full reload of the configuration even without a change notice (safety net). */
  reloadIntervalMs: number;
  /** gRPC SettlementService port (0 = any free port); null = no gRPC server. */
  grpcPort: number | null;
  /** gRPC listen address; default 127.0.0.1. */
  grpcHost?: string;
  /** gRPC over TLS with these PEM files; omitted = plaintext. */
  grpcTls?: TlsFiles;
  /** Accepted as an admin token besides auth_tokens (ADMIN_TOKEN). */
  adminToken?: string;
  /** Token lookups are reused this long (the bound on how late a revocation takes effect). */
  authCacheTtlMs?: number;
  /** Bound on reading billing.rated.v1 back at start (see recoverPublished). */
  recoveryReadTimeoutMs?: number;
}

export const DEFAULT_OPTIONS: Omit<RatingOptions, 'replicaId'> = {
  groupId: 'smshub-rating',
  balancePublishIntervalMs: 500,
  reloadIntervalMs: 300_000,
  grpcPort: 50053,
};

export interface RatingDeps {
  options: RatingOptions;
  logger: Logger;
  pool: Pool;
  kafka: Kafka;
  producer: TypedProducer;
  consumer: (opts: Omit<ConsumerOptions, 'producer'>) => Promise<TypedConsumer>;
  topics: RatingTopics;
  /** Wall clock (ms); rated_at of new records. */
  now?: () => number;
}

export interface Rating {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Port of the gRPC server once started. */
  readonly grpcPort: number | undefined;
  /** Reloads the configuration from Postgres now. */
  reload(): Promise<void>;
  /** Applies a top-up (idempotent per key) and schedules the balance publication. */
  topUp(req: TopUpRequest): Promise<TopUpResult>;
  /** Publishes pending balance changes now. */
  flushBalances(): Promise<void>;
}

const CONFIG_KINDS = new Set([
  ResourceKind.RESOURCE_KIND_ACCOUNT,
  ResourceKind.RESOURCE_KIND_CONNECTOR,
  ResourceKind.RESOURCE_KIND_RATE,
]);

/** CDRs written by one transaction at most when several batches are grouped. */
const MAX_CDRS_PER_TRANSACTION = 2000;

/** CDRs listed and published per round by the start-up publication of leftovers. */
const LEFTOVERS_PER_ROUND = 500;

/** How long after a load an unknown account triggers another load (a just-created account). */
const UNKNOWN_ACCOUNT_RELOAD_MS = 5_000;

/** A CDR's record to publish if its CDR is still unpublished. */
interface ToPublish {
  id: string;
  bytes: Buffer;
}

interface Pending {
  row: CdrRow;
  bytes: Buffer;
  status: string;
}

export function createRating(deps: RatingDeps): Rating {
  const { options, pool, producer, topics } = deps;
  const log = deps.logger.child({ component: 'rating' });
  const now = deps.now ?? Date.now;
  const holder = new CatalogHolder(pool, log, (c, ms) => {
    ratingMetrics.configReloads.inc({ outcome: 'ok' });
    ratingMetrics.rates.set(c.rates.size);
    void ms;
  });
  const balances = new BalancePublisher({
    pool,
    producer,
    spec: topics.balances,
    catalog: () => holder.catalog,
    logger: log,
    intervalMs: options.balancePublishIntervalMs,
  });
  // CDR transactions are shared by the batches of the partitions being rated at the same time (see
  // libs/db group-commit.ts): one per round instead of one per partition batch.
  const cdrWrites = new GroupCommit<CdrRow, WriteResult>({
    commit: async (rows) => {
      const stopTimer = ratingMetrics.cdrWrite.startTimer();
      try {
        return await writeCdrs(pool, rows);
      } finally {
        stopTimer();
      }
    },
    keyOf: (row) => row.hubMessageId,
    maxItems: MAX_CDRS_PER_TRANSACTION,
  });
  // The publications of those batches are grouped the same way: their CDRs' claims (rows of
  // rating_cdrs_unpublished, locked and deleted) share one transaction per round, and the records go to
  // Kafka together before it commits, instead of a BEGIN, a DELETE and a COMMIT per partition batch. Two
  // batches naming the same CDR never share one (keyOf): the later one finds it claimed or published.
  const publications = new GroupCommit<ToPublish, Set<string>>({
    commit: (items) => {
      const bytes = new Map<string, Buffer>();
      for (const it of items) bytes.set(it.id, it.bytes);
      return publishUnpublished(pool, [...bytes.keys()], async (claimed) => {
        await Promise.all(
          [...claimed].map((id) => producer.produceRaw(topics.rated.name, id, bytes.get(id)!)),
        );
      });
    },
    keyOf: (item) => item.id,
    maxItems: MAX_CDRS_PER_TRANSACTION,
  });
  const consumers: TypedConsumer[] = [];
  let reloadTimer: NodeJS.Timeout | undefined;
  let server: GrpcServer | undefined;

  /**
   * After a crash between Kafka's acknowledgement of rated records and the UPDATE that marks their CDRs
   * published, the redelivered events would publish those records a second time (identical bytes, but a
   * finance consumer would see two). Before consuming, the topic is read back from the oldest unmarked CDR
   * on and every CDR whose record is already there is marked, so each message's record is on the topic once.
   */
  async function recoverPublished(): Promise<void> {
    const since = await oldestUnpublished(pool);
    if (since === null) return;
    // Records are produced after their rated_at; a minute of slack covers clock steps between replicas.
    const onTopic = await readRatedTopic(deps.kafka, topics.rated, since.getTime() - 60_000, {
      timeoutMs: options.recoveryReadTimeoutMs,
    });
    await markPublished(pool, [...onTopic.keys()]);
    log.info(
      { since: since.toISOString(), recordsRead: onTopic.size },
      'CDRs whose records reached billing.rated.v1 before a stop are marked published',
    );
  }

  /**
   * CDRs still unpublished once recoverPublished marked those already on the topic: their records never
   * reached Kafka (a stop between the CDR's commit and Kafka's acknowledgement). They are published now,
   * with their stored bytes, rather than at the message's next event, which may never come. Same claim as
   * every publication (publishUnpublished: row lock, SKIP LOCKED), so a replica publishing one at the same
   * time, or another replica starting, never makes a second copy. A failure is logged and left for the
   * next start or the message's next event.
   */
  async function publishLeftovers(): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    let published = 0;
    try {
      for (;;) {
        const rows = await listUnpublished(pool, after, LEFTOVERS_PER_ROUND);
        if (rows.length === 0) break;
        after = rows[rows.length - 1]!.id;
        const records = new Map(rows.map((r) => [r.id, r.record]));
        const done = await publishUnpublished(pool, [...records.keys()], async (claimed) => {
          await Promise.all(
            [...claimed].map((id) => producer.produceRaw(topics.rated.name, id, records.get(id)!)),
          );
        });
        published += done.size;
      }
    } catch (err) {
      log.warn(
        { err, published },
        "publishing CDRs left unpublished by a stop failed; the next start or the message's next event publishes them",
      );
      return;
    }
    if (published > 0) {
      ratingMetrics.republished.inc(published);
      log.info({ published }, 'CDRs left unpublished by a stop are published on billing.rated.v1');
    }
  }

  async function reload(): Promise<void> {
    try {
      await holder.reload();
    } catch (err) {
      ratingMetrics.configReloads.inc({ outcome: 'error' });
      throw err;
    }
  }

  async function accountFor(accountId: string, catalog: Catalog): Promise<Catalog> {
    if (catalog.accounts.has(accountId) || now() - catalog.loadedAt < UNKNOWN_ACCOUNT_RELOAD_MS)
      return catalog;
    await reload();
    return holder.catalog;
  }

  /** Prices the mapped events of one consumed batch and writes, debits and publishes the new records. */
  async function rateBatch(mapped: Mapped[]): Promise<void> {
    let catalog = holder.catalog;
    const pending = new Map<string, Pending>();
    const ratedAt = now();
    // One Date for the batch's records and CDRs (never mutated), not two per message.
    const ratedAtDate = new Date(ratedAt);
    const rerouted: (RatingInput & { rerouteFrom: string })[] = [];
    for (const m of mapped) {
      if ('skip' in m) {
        ratingMetrics.skipped.inc({ reason: m.skip });
        continue;
      }
      const { input } = m;
      if (input.rerouteFrom !== undefined) rerouted.push({ ...input, rerouteFrom: input.rerouteFrom });
      const inbound = m.inbound === true;
      const ev = input.event;
      if (pending.has(ev.hubMessageId)) {
        ratingMetrics.skipped.inc({ reason: 'duplicate' });
        continue; // the first billable event of the message in this batch decides
      }
      catalog = await accountFor(ev.accountId, catalog);
      const account = catalog.accounts.get(ev.accountId);
      if (account === undefined) {
        throw new InvalidEventError(`message ${ev.hubMessageId}: unknown account ${ev.accountId}`);
      }
      const connector = ev.connectorId === undefined ? undefined : catalog.connectors.get(ev.connectorId);
      const supplier: SupplierPolicy | undefined =
        connector?.policy ??
        (ev.connectorId === undefined ? undefined : { connectorId: ev.connectorId, buyChargeOn: 'submit' });
      // MO: the account's inbound rates only, and no supplier side. MT: never an inbound rate.
      const ctx = inbound
        ? { rates: catalog.inboundRates, fx: catalog.fx, account: account.policy, noBuy: true }
        : {
            rates: catalog.rates,
            fx: catalog.fx,
            account: account.policy,
            ...(supplier ? { supplier } : {}),
          };
      const decision = decideRating(undefined, { ...ev, eventTime: ratedAt }, ctx, {
        missingRates: 'record',
      });
      if (decision.action === 'skip') {
        ratingMetrics.skipped.inc({ reason: decision.reason });
        continue;
      }
      // The hub's own probes: zero sell, real buy, never a customer's charge (domain/internal.ts).
      const r = input.internal === true ? asInternal(decision.record) : decision.record;
      if (inbound && r.sell.rateId === undefined) {
        // No inbound rate: MO is free unless the price plan says otherwise, so no record and no alert.
        ratingMetrics.skipped.inc({ reason: 'no-inbound-rate' });
        continue;
      }
      const supplierId = connector?.supplierId ?? r.connectorId ?? '';
      const proto = toBillingRated(r, input, { supplierId, ratedAt: ratedAtDate });
      // encode's bytes are the record's own (the writer copies them out): a Buffer over them, not a copy.
      const encoded = topics.rated.encode(proto);
      const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
      const status = ratedStatusToJSON(proto.status);
      pending.set(r.hubMessageId, {
        bytes,
        status,
        row: {
          hubMessageId: r.hubMessageId,
          accountId: r.accountId,
          connectorId: r.connectorId ?? '',
          supplierId,
          country: r.country ?? '',
          mccMnc: proto.destinationMccMnc,
          segments: r.segments,
          outcome: r.status,
          status,
          billedOn: r.billedOn,
          sellMinor: r.sell.amountMinor,
          sellCurrency: r.sell.currency,
          sellCharged: r.sell.charged,
          sellRateId: r.sell.rateId ?? '',
          buyMinor: r.buy.amountMinor,
          buyCurrency: r.buy.currency,
          buyCharged: r.buy.charged,
          buyRateId: r.buy.rateId ?? '',
          marginMinor: r.margin?.amountMinor ?? null,
          submittedAt: proto.submittedAt ?? new Date(r.submitTime),
          ratedAt: ratedAtDate,
          record: bytes,
          debitMinor: r.sell.charged ? r.sell.amountMinor : 0n,
        },
      });
    }
    if (pending.size === 0) {
      // No CDR for these messages: the re-routed ones' other attempts are told apart by the billing point.
      if (rerouted.length > 0) {
        await rateBatch(rerouted.map((input) => rerouteCost(input, undefined, holder.catalog)));
      }
      return;
    }

    // The result may cover other partitions' batches written in the same transaction: only this batch's
    // records are published here.
    const result = await cdrWrites.push([...pending.values()].map((p) => p.row));

    const candidates: ToPublish[] = [];
    for (const id of result.inserted) {
      const p = pending.get(id);
      if (p === undefined) continue;
      candidates.push({ id, bytes: p.bytes });
      ratingMetrics.rated.inc({ status: p.status });
      if (p.status === 'RATED_STATUS_MISSING_RATE') {
        ratingMetrics.missingRate.inc();
        log.warn(
          {
            messageId: id,
            accountId: p.row.accountId,
            connectorId: p.row.connectorId,
            country: p.row.country,
          },
          'no rate for a charged side: published with status MISSING_RATE',
        );
      }
    }
    const republish = new Set<string>();
    for (const ex of result.existing) {
      const p = pending.get(ex.hubMessageId);
      if (p === undefined) continue;
      if (
        p.row.sellMinor !== ex.sellMinor ||
        p.row.sellCurrency !== ex.sellCurrency ||
        p.row.buyMinor !== ex.buyMinor ||
        p.row.buyCurrency !== ex.buyCurrency
      ) {
        ratingMetrics.conflicts.inc();
        log.warn(
          { messageId: ex.hubMessageId },
          'event prices the message differently from its CDR; the CDR stands',
        );
      }
      if (ex.published) {
        ratingMetrics.skipped.inc({ reason: 'already-rated' });
      } else {
        // Not published as far as this transaction saw: either never (a crash between the CDR and Kafka's
        // ack), or being published right now by another batch (the message's other billable event, on
        // another topic or replica). publishUnpublished's row lock tells the two apart.
        candidates.push({ id: ex.hubMessageId, bytes: ex.record });
        republish.add(ex.hubMessageId);
      }
    }
    balances.markDirty(result.debitedAccounts);
    // The result may cover other batches' CDRs published in the same transaction (publications).
    const published = candidates.length === 0 ? new Set<string>() : await publications.push(candidates);
    for (const id of republish) {
      if (published.has(id)) ratingMetrics.republished.inc();
      else ratingMetrics.skipped.inc({ reason: 'already-rated' });
    }
    if (rerouted.length > 0) {
      // The other supplier attempt of each re-routed message, told apart by the connector its CDR names.
      const named = new Map(result.existing.map((ex) => [ex.hubMessageId, ex.connectorId]));
      for (const id of result.inserted) {
        const p = pending.get(id);
        if (p !== undefined) named.set(id, p.row.connectorId);
      }
      await rateBatch(
        rerouted.map((input) => rerouteCost(input, named.get(input.event.hubMessageId), holder.catalog)),
      );
    }
  }

  return {
    get grpcPort() {
      return server?.port;
    },
    reload,
    async topUp(req) {
      const res = await applyTopUp(pool, req);
      balances.markDirty([req.accountId]);
      return res;
    },
    flushBalances: () => balances.flush(),

    async start() {
      // Follow changes first, then load: a change committed during the load is not missed.
      const config = await deps.consumer({
        groupId: `${options.groupId}-config-${options.replicaId}`,
        fromBeginning: false,
      });
      config.on(topics.configChanges, async (rec) => {
        if (CONFIG_KINDS.has(rec.value.kind)) await reload();
      });
      consumers.push(config);
      await Promise.all([config.waitForAssignment(), config.start()]);
      await reload();
      reloadTimer = setInterval(() => {
        reload().catch((err: unknown) => log.error({ err }, 'periodic configuration reload failed'));
      }, options.reloadIntervalMs);
      reloadTimer.unref();
      balances.start();

      await recoverPublished();
      await publishLeftovers();
      // Every partition of both topics at once, so their batches share CDR transactions (cdrWrites); and
      // a fetch waits for 64 KiB of events (about 200) or 250 ms, so that under a live flow a round carries
      // many events instead of the few that arrived since the last fetch. Rating's cost is mostly per
      // round (statements, produce requests); a rated record 250 ms later changes nothing downstream.
      const events = await deps.consumer({
        groupId: options.groupId,
        partitionsConsumedConcurrently: topics.dispatched.partitions + topics.delivery.partitions,
        minBytes: 64 * 1024,
        maxWaitMs: 250,
      });
      events.onBatch(topics.dispatched, (recs) => rateBatch(recs.map((r) => fromDispatched(r.value))));
      events.onBatch(topics.delivery, (recs) =>
        rateBatch(recs.map((r) => withRerouteCost(r.value, fromDelivery(r.value)))),
      );
      consumers.push(events);
      await events.start();
      // MO in a group of its own: its lag and offsets never interfere with the MT events'.
      const inboundEvents = await deps.consumer({
        groupId: `${options.groupId}-inbound`,
        partitionsConsumedConcurrently: topics.inbound.partitions,
        minBytes: 64 * 1024,
        maxWaitMs: 250,
      });
      inboundEvents.onBatch(topics.inbound, (recs) => rateBatch(recs.map((r) => fromInbound(r.value))));
      consumers.push(inboundEvents);
      await inboundEvents.start();

      if (options.grpcPort !== null) {
        server = await startSettlementServer(
          {
            pool,
            kafka: deps.kafka,
            rated: topics.rated,
            logger: log,
            guard: {
              logger: log,
              verifier: new TokenVerifier({
                store: new PgTokenStore(pool),
                ...(options.adminToken !== undefined ? { bootstrapToken: options.adminToken } : {}),
                ...(options.authCacheTtlMs !== undefined ? { cacheTtlMs: options.authCacheTtlMs } : {}),
              }),
            },
          },
          {
            port: options.grpcPort,
            ...(options.grpcHost !== undefined ? { host: options.grpcHost } : {}),
            ...(options.grpcTls ? { tls: options.grpcTls } : {}),
          },
        );
      }
    },

    async stop() {
      if (reloadTimer) clearInterval(reloadTimer);
      await server?.stop(5_000);
      await Promise.all(consumers.map((c) => c.stop()));
      await balances.stop();
    },
  };
}
