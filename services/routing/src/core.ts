// The routing service core, built from explicit dependencies (main.ts wires the defaults; tests build it
// in-process with isolated topics and a test database).
//
// start():
//   1. joins config.changes.v1 with a per-replica group at the latest offset (so a change made while the
//      tables load is applied after the load), then loads every table from Postgres into one snapshot;
//   2. reads delivery.stats.v1 (compacted) from the beginning into memory, with a fresh group per process;
//   2b. reads sms.delivery.v1 (a fresh group per process) from the adaptive horizon on (now - 20
//      half-lives, by Kafka's time index, when `seekGroup` is given; else from the beginning) into the
//      adaptive strategy's decayed estimates (adaptive-store.ts);
//   3. consumes sms.submitted.v1 (group smshub-routing) and publishes SmsRouted or SmsRejected, keyed by
//      the hub message id.
// A config change of a kind routing uses rebuilds the whole snapshot and swaps it in atomically; a bad
// configuration is refused (logged, counted) and the tables in force stay. No Postgres query per message,
// except a portability lookup on a cache miss.

import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import {
  ChangeAction,
  HoldReason,
  ResourceKind,
  TrafficType,
  topics as registry,
  type ConfigChange,
  type SmsSubmitted,
} from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { ConsumedRecord, ConsumerOptions, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { maskNumber, type Logger } from '@smshub/logging';
import type { FirewallStateOptions } from './domain/firewall.js';
import { RoutingEngine } from './domain/engine.js';
import { CachedNumberLookup } from './domain/number-lookup.js';
import type { ConnectorHealth } from './domain/strategies.js';
import type { Clock, RoutingDecision, RoutingRequest } from './domain/types.js';
import { encodeRejected, encodeRouted, toRejected, toRouted, toRoutingRequest } from './mapping.js';
import { metrics } from './metrics.js';
import { PgFirewallWindows } from './firewall-store.js';
import { PgNumberLookup } from './pg-lookup.js';
import { QualityStore } from './quality.js';
import { AdaptiveStore } from './adaptive-store.js';
import { DEFAULT_HALF_LIFE_MS } from './domain/adaptive.js';
import { optedOut, OptOutStore } from './optouts.js';
import { reject } from './domain/customer-error.js';
import { QuietHoursStore } from './quiet-hours-store.js';
import { ConfigLoadError, loadRoutingSnapshot, type RoutingSnapshot } from './store.js';
import { demoteSuspected, demotes } from './domain/grey-routes.js';
import { DEFAULT_GREY_ROUTE_CONFIG, GreyRouteMonitor, type GreyRouteConfig } from './grey-routes.js';
import { SuspicionStore } from './suspicion-store.js';
import { deliveryBatchHandler } from './delivery-consumer.js';
import { deliveryViewCodec } from './delivery-view.js';

export interface RoutingCoreConfig {
  /** This replica's name: per-replica config group. */
  replicaId: string;
  /** Group of sms.submitted.v1; default smshub-routing. */
  groupId?: string;
  /** Per-replica config group is `<configGroupPrefix>-<replicaId>`; default smshub-routing-config. */
  configGroupPrefix?: string;
  /** delivery.stats.v1 group is `<statsGroupPrefix>-<replicaId>-<start id>`; default smshub-routing-stats. */
  statsGroupPrefix?: string;
  portedCache: { ttlMs: number; negativeTtlMs: number; maxEntries: number };
  /** Destination normalisations remembered; 0 = none (engine default when absent). */
  normaliseCacheSize?: number;
  /** Bounds of the firewall's in-memory windows (engine defaults when absent). */
  firewall?: FirewallStateOptions;
  /**
   * Where the duplicate and velocity windows live: 'postgres' (default: shared by every replica, kept
   * over restarts, one transaction per consumed batch) or 'memory' (this process only, reset by a restart).
   */
  firewallWindows?: 'postgres' | 'memory';
  /** PostgreSQL windows: how long admitted ids are remembered (default 10 min) and the cleanup interval (60 s). */
  firewallRememberMs?: number;
  firewallCleanupIntervalMs?: number;
  /** Half-life of the adaptive strategy's learnt estimates, ms; default 300,000 (5 min). */
  adaptiveHalfLifeMs?: number;
  /** sms.delivery.v1 group is `<adaptiveGroupPrefix>-<replicaId>-<start id>`; default smshub-routing-adaptive. */
  adaptiveGroupPrefix?: string;
  /**
   * How long start-up waits for `seekGroup` (default DEFAULT_ADAPTIVE_SEEK_TIMEOUT_MS); past it, or when the
   * seek fails, sms.delivery.v1 is read from its beginning under a new group instead.
   */
  adaptiveSeekTimeoutMs?: number;
  /** Grey-route probes and verdicts (grey-routes.ts); defaults: DEFAULT_GREY_ROUTE_CONFIG (no probe account: no probes). */
  greyRoutes?: GreyRouteConfig;
  /** Group of sms.inbound.v1 (probe confirmations); default smshub-routing-probes. */
  probeGroupId?: string;
  /** routing.suspicion.v1 group is `<suspicionGroupPrefix>-<replicaId>-<start id>`; default smshub-routing-suspicion. */
  suspicionGroupPrefix?: string;
  /** Events of one batch waiting for Kafka's acknowledgement at most; default 1,000. */
  maxPublishesInFlight?: number;
  /** Log destination numbers unmasked (debug only). */
  debugNumbers?: boolean;
  consumer?: Pick<
    ConsumerOptions,
    | 'retry'
    | 'sessionTimeoutMs'
    | 'commitIntervalMs'
    | 'partitionsConsumedConcurrently'
    | 'minBytes'
    | 'maxWaitMs'
  >;
}

export interface RoutingCoreDeps {
  config: RoutingCoreConfig;
  logger: Logger;
  producer: TypedProducer;
  consumer: (opts: Omit<ConsumerOptions, 'producer'>) => Promise<TypedConsumer> | TypedConsumer;
  pool: Pool;
  /** Without `delivery`, the adaptive strategy learns nothing (every connector keeps its prior). */
  /** Without `scheduled`, quiet hours are not applied (every message is routed at once). */
  topics: Pick<typeof registry, 'submitted' | 'routed' | 'rejected' | 'configChanges' | 'deliveryStats'> &
    Partial<Pick<typeof registry, 'delivery' | 'scheduled' | 'inbound' | 'suspicion'>>;
  clock?: Clock;
  health?: ConnectorHealth;
  /**
   * Sets a fresh group's offsets on a topic to the first records at or after a time (seek.ts), before the
   * group's consumer starts: sms.delivery.v1 is then read from the adaptive horizon, not its beginning.
   * Without it the whole topic is read (the observations past the horizon are skipped as they arrive).
   * Bounded by `adaptiveSeekTimeoutMs`: past it, or when it throws, `signal` is aborted (the seek may give
   * up its resources) and the whole topic is read under a new group.
   */
  seekGroup?: (groupId: string, topic: string, sinceMs: number, signal?: AbortSignal) => Promise<unknown>;
}

/**
 * Default `adaptiveSeekTimeoutMs`. A seek takes ~5 s: kafkajs's setOffsets (seek.ts) runs a hidden member of
 * the group and returns after its first fetch (kafkajs's 5 s maxWaitTime). That member logs nothing and
 * setOffsets has no timeout of its own: a start-up once waited on it 90 s, until it was stopped.
 */
export const DEFAULT_ADAPTIVE_SEEK_TIMEOUT_MS = 30_000;

/** The adaptive seek did not finish in time. */
export class AdaptiveSeekTimeoutError extends Error {
  readonly retriable = true;
  constructor(groupId: string, topic: string, timeoutMs: number) {
    super(`setting the offsets of ${groupId} on ${topic} did not finish within ${timeoutMs} ms`);
    this.name = 'AdaptiveSeekTimeoutError';
  }
}

export interface RoutingCore {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Rebuilds the snapshot from Postgres now (coalesced with a reload already waiting). */
  reload(): Promise<void>;
  /** The snapshot in force (undefined before start). */
  snapshot(): RoutingSnapshot | undefined;
  readonly quality: QualityStore;
  /** The adaptive strategy's learnt estimates. */
  readonly adaptive: AdaptiveStore;
  readonly numbers: CachedNumberLookup;
  /** The opt-out lists in memory (optouts.ts). */
  readonly optOuts: OptOutStore;
  /** The quiet hours in memory (quiet-hours-store.ts). */
  readonly quietHours: QuietHoursStore;
  /** Grey-route suspicions in force (routing.suspicion.v1) and the rules' demote_suspected settings. */
  readonly suspicions: SuspicionStore;
  /** Probes and verdicts; undefined without the suspicion topic. */
  readonly greyRoutes: GreyRouteMonitor | undefined;
  /** The connector health view the engine uses (undefined: every connector healthy). */
  readonly health: ConnectorHealth | undefined;
}

/** Config kinds whose change rebuilds the snapshot. */
const RELOAD_KINDS = new Set<ResourceKind>([
  ResourceKind.RESOURCE_KIND_ROUTING_RULE,
  ResourceKind.RESOURCE_KIND_FIREWALL_RULE,
  ResourceKind.RESOURCE_KIND_NUMBER_PREFIX,
  ResourceKind.RESOURCE_KIND_CONNECTOR,
  ResourceKind.RESOURCE_KIND_RATE,
  ResourceKind.RESOURCE_KIND_ACCOUNT,
]);

class RetriableLoadError extends Error {
  readonly retriable = true;
  constructor(cause: unknown) {
    super(`loading the routing tables failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'RetriableLoadError';
  }
}

export function createRoutingCore(deps: RoutingCoreDeps): RoutingCore {
  const { config, topics, producer, pool } = deps;
  const clock = deps.clock ?? Date.now;
  const log = deps.logger.child({ component: 'routing', replica: config.replicaId });
  const quality = new QualityStore();
  const adaptive = new AdaptiveStore(config.adaptiveHalfLifeMs ?? DEFAULT_HALF_LIFE_MS, clock);
  const maxInFlight = config.maxPublishesInFlight ?? 1_000;
  const numbers = new CachedNumberLookup(new PgNumberLookup(pool), { ...config.portedCache, clock });
  const optOuts = new OptOutStore(pool, log);
  const quietHours = new QuietHoursStore(pool, log);
  let engine: RoutingEngine | undefined;
  let current: RoutingSnapshot | undefined;
  const suspicions = new SuspicionStore();
  const greyRoutes =
    topics.suspicion !== undefined
      ? new GreyRouteMonitor({
          pool,
          producer,
          topics: { routed: topics.routed, suspicion: topics.suspicion },
          logger: log,
          clock,
          prefixes: () => engine?.tables.prefixes,
          suspicions,
          config: config.greyRoutes ?? DEFAULT_GREY_ROUTE_CONFIG,
        })
      : undefined;
  let loads = 0;
  const consumers: TypedConsumer[] = [];
  const windows =
    (config.firewallWindows ?? 'postgres') === 'postgres'
      ? new PgFirewallWindows(
          pool,
          {
            rememberMs: config.firewallRememberMs ?? 600_000,
            cleanupIntervalMs: config.firewallCleanupIntervalMs ?? 60_000,
          },
          log,
          clock,
        )
      : undefined;

  function publishCounts(s: RoutingSnapshot): void {
    for (const [kind, n] of Object.entries(s.counts)) metrics.tablesLoaded.set({ kind }, n);
  }

  async function load(): Promise<void> {
    const version = `${++loads}@${new Date(clock()).toISOString()}`;
    let next: RoutingSnapshot;
    try {
      next = await loadRoutingSnapshot(pool, quality.lookup, version);
    } catch (err) {
      if (err instanceof ConfigLoadError) {
        metrics.reloads.inc({ outcome: 'invalid' });
        if (!current) throw err;
        log.error(
          { err, version: current.tables.version },
          'routing configuration refused; the tables in force stay',
        );
        return;
      }
      metrics.reloads.inc({ outcome: 'error' });
      throw new RetriableLoadError(err);
    }
    if (engine) engine.swap(next.tables);
    else
      engine = new RoutingEngine(next.tables, {
        lookup: numbers,
        clock,
        adaptive: adaptive.lookup,
        ...(deps.health ? { health: deps.health } : {}),
        ...(config.normaliseCacheSize === undefined ? {} : { normaliseCacheSize: config.normaliseCacheSize }),
        ...(config.firewall ? { firewallState: config.firewall } : {}),
        ...(windows ? { sharedWindows: windows } : {}),
      });
    current = next;
    await suspicions.loadRules(pool);
    metrics.reloads.inc({ outcome: 'ok' });
    publishCounts(next);
    log.info({ version, ...next.counts }, 'routing tables loaded');
  }

  // Reloads run one at a time; requests arriving while one waits join it (a burst of changes, one reload).
  let queued: Promise<void> | undefined;
  let chain: Promise<void> = Promise.resolve();
  function reload(): Promise<void> {
    if (queued) return queued;
    const q = chain
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return load();
      });
    queued = q;
    chain = q;
    return q;
  }

  async function onConfigChange(r: ConsumedRecord<ConfigChange>): Promise<void> {
    const c = r.value;
    if (OptOutStore.handles(c)) return optOuts.onChange(c);
    if (QuietHoursStore.handles(c)) return quietHours.onChange(c);
    if (c.kind === ResourceKind.RESOURCE_KIND_PORTED_NUMBER) {
      if (c.action === ChangeAction.CHANGE_ACTION_RELOAD) numbers.clear();
      else numbers.forget(c.resourceId.startsWith('+') ? c.resourceId : `+${c.resourceId}`);
      return;
    }
    if (!RELOAD_KINDS.has(c.kind)) return;
    log.debug({ kind: c.kind, resourceId: c.resourceId, action: c.action }, 'config change: reloading');
    await reload();
  }

  /** The batch's decisions; the histogram gets the batch's mean time per decision, once per batch. */
  async function decide(reqs: RoutingRequest[], e: RoutingEngine): Promise<RoutingDecision[]> {
    const started = performance.now();
    const d = await e.decideBatch(reqs);
    if (reqs.length > 0) metrics.decisionSeconds.observe((performance.now() - started) / 1000 / reqs.length);
    return d;
  }

  async function onSubmittedBatch(records: ConsumedRecord<SmsSubmitted>[]): Promise<void> {
    if (!engine || !current) throw new RetriableLoadError(new Error('routing tables not loaded'));
    const e = engine;
    const published: Promise<void>[] = [];
    let acknowledged = 0;
    // Observed at once (a failure must not count as unhandled while later decisions await), and
    // awaited in order, where the first failure fails the batch (redelivered, decided the same way).
    // A fetched batch can hold thousands of records: at most maxInFlight events wait for Kafka at once,
    // so a backlog does not turn into that many encoded events, timers and spans in memory. Below the
    // bound nothing is awaited (no promise and no turn of the event loop per message).
    const publish = (p: Promise<void>): Promise<void> | undefined => {
      p.catch(() => undefined);
      published.push(p);
      return published.length - acknowledged > maxInFlight ? drain() : undefined;
    };
    const drain = async (): Promise<void> => {
      while (published.length - acknowledged > maxInFlight) await published[acknowledged++];
    };
    // The batch's new destinations in one portability query rather than one per message.
    await e.prefetch(
      records.map(({ value: m }) => ({
        accountId: m.accountId,
        destinationAddr: m.destination?.address ?? '',
        destTon: m.destination?.ton ?? 0,
      })),
    );
    const debug = log.isLevelEnabled('debug');
    // Decisions of the whole batch first, in partition order (the firewall's windows see messages as they
    // were submitted; with shared windows, one database transaction for the batch), on the snapshot in
    // force when the batch started; then publishing, and the batch completes only when Kafka acknowledged
    // every event.
    // Counted per batch: one metric update per outcome and rule instead of one per message.
    let routedCount = 0;
    let heldCount = 0;
    const rejectedCounts = new Map<string, { category: string; rule: string; n: number }>();
    const groups = current.accountGroups;
    const decisions = await decide(
      records.map(({ value: m }) => toRoutingRequest(m, groups.get(m.accountId))),
      e,
    );
    // Opt-outs: a message the engine would route to a subscriber who opted out of the account is rejected
    // instead (its destination as the engine normalised it), before any supplier sees it.
    for (const [i, d] of decisions.entries()) {
      if (d.kind === 'routed' && optedOut(optOuts.list, records[i]!.value, d.destination.e164))
        decisions[i] = reject('opted_out', '', 'the subscriber opted out', d.destination);
    }
    // Grey routes: in rules that demote them (unset: OTP traffic), suspected connectors go last.
    if (suspicions.size > 0) {
      for (const [i, d] of decisions.entries()) {
        if (d.kind !== 'routed') continue;
        const otp = records[i]!.value.trafficType === TrafficType.TRAFFIC_TYPE_OTP;
        if (!demotes(suspicions.ruleSetting(d.ruleId), otp ? 'OTP' : 'OTHER')) continue;
        const candidates = demoteSuspected(d.candidates, suspicions.why);
        if (candidates !== d.candidates) decisions[i] = { ...d, candidates };
      }
    }
    // Quiet hours: a routable message (not already released by the scheduler) outside the allowed windows
    // of its destination country is held on sms.scheduled.v1 until the next window opens, or EXPIRED when
    // its validity ends first.
    const holds = new Map<number, number>();
    const scheduled = topics.scheduled;
    if (scheduled && quietHours.table.size > 0) {
      const now = clock();
      for (const [i, d] of decisions.entries()) {
        if (d.kind !== 'routed') continue;
        const v = quietHours.verdict(records[i]!.value, d.destination.country, now);
        if (v.kind === 'hold') holds.set(i, v.until);
        else if (v.kind === 'expired')
          decisions[i] = reject(
            'expired',
            '',
            `quiet hours: validity ends before the next allowed window (${v.opensAt === undefined ? 'none' : new Date(v.opensAt).toISOString()})`,
            d.destination,
          );
      }
    }
    try {
      for (const [i, r] of records.entries()) {
        const m = r.value;
        const d = decisions[i]!;
        const now = new Date(clock());
        const prefixes = e.tables.prefixes;
        // The consumed bytes stand for the message in the published event (no second encoding of it),
        // unless a sender rewrite changed it.
        const raw = { messageId: m.messageId };
        const holdUntil = holds.get(i);
        if (holdUntil !== undefined && scheduled) {
          heldCount++;
          const held = {
            ...m,
            holdUntil: new Date(holdUntil),
            holdReason: HoldReason.HOLD_REASON_QUIET_HOURS,
          };
          const full = publish(producer.produce(scheduled, held));
          if (full) await full;
        } else if (d.kind === 'routed') {
          routedCount++;
          const bytes = d.senderRewrite ? undefined : r.bytes;
          const routed = toRouted(m, d, prefixes, now);
          const key = topics.routed.key(routed);
          const full = publish(
            producer.produceRaw(topics.routed.name, key, encodeRouted(routed, bytes), raw),
          );
          if (full) await full;
        } else {
          const k = `${d.category}|${d.ruleId}`;
          const c = rejectedCounts.get(k);
          if (c) c.n++;
          else rejectedCounts.set(k, { category: d.category, rule: d.ruleId, n: 1 });
          if (debug)
            log.debug(
              {
                hubMessageId: m.messageId,
                destination: maskNumber(m.destination?.address ?? '', config.debugNumbers === true),
                category: d.category,
                ruleId: d.ruleId,
              },
              'message rejected',
            );
          const rejected = toRejected(m, d, prefixes, now);
          const key = topics.rejected.key(rejected);
          const full = publish(
            producer.produceRaw(topics.rejected.name, key, encodeRejected(rejected, r.bytes), raw),
          );
          if (full) await full;
        }
      }
    } finally {
      if (routedCount > 0) metrics.decisions.inc({ outcome: 'routed' }, routedCount);
      if (heldCount > 0) metrics.decisions.inc({ outcome: 'held' }, heldCount);
      let rejectedTotal = 0;
      for (const c of rejectedCounts.values()) {
        metrics.rejected.inc({ category: c.category, rule: c.rule }, c.n);
        rejectedTotal += c.n;
      }
      if (rejectedTotal > 0) metrics.decisions.inc({ outcome: 'rejected' }, rejectedTotal);
    }
    await Promise.all(published.slice(acknowledged));
  }

  /**
   * Sets `groupId`'s offsets at the adaptive horizon, bounded by `adaptiveSeekTimeoutMs`: true once done,
   * false (logged) when it failed or timed out; the seek is then told to give up (its signal).
   */
  async function seekAdaptive(
    seekGroup: NonNullable<RoutingCoreDeps['seekGroup']>,
    groupId: string,
    topic: string,
  ): Promise<boolean> {
    const timeoutMs = config.adaptiveSeekTimeoutMs ?? DEFAULT_ADAPTIVE_SEEK_TIMEOUT_MS;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    try {
      await Promise.race([
        seekGroup(groupId, topic, clock() - adaptive.horizonMs, abort.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new AdaptiveSeekTimeoutError(groupId, topic, timeoutMs)),
            timeoutMs,
          );
        }),
      ]);
      return true;
    } catch (err) {
      abort.abort(err);
      log.warn(
        { err, group: groupId, topic, timeoutMs, ms: Math.round(performance.now() - started) },
        'adaptive start-up: the seek to the horizon failed; reading the topic from its beginning with a new group',
      );
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    quality,
    adaptive,
    numbers,
    optOuts,
    quietHours,
    suspicions,
    greyRoutes,
    health: deps.health,
    snapshot: () => current,
    reload,
    async start() {
      const cfg = await deps.consumer({
        groupId: `${config.configGroupPrefix ?? 'smshub-routing-config'}-${config.replicaId}`,
        fromBeginning: false,
      });
      consumers.push(cfg);
      cfg.on(topics.configChanges, onConfigChange);
      const assigned = cfg.waitForAssignment();
      await cfg.start();
      await assigned;
      await reload();
      await optOuts.load();
      await quietHours.load();

      // A fresh group per start, so the whole compacted topic is read again; one dead-letter topic per replica.
      const statsPrefix = `${config.statsGroupPrefix ?? 'smshub-routing-stats'}-${config.replicaId}`;
      const stats = await deps.consumer({
        groupId: `${statsPrefix}-${uuidv7()}`,
        fromBeginning: true,
        deadLetterTopic: `${statsPrefix}.dlq`,
      });
      consumers.push(stats);
      stats.on(topics.deliveryStats, (r) => {
        if (quality.apply(r.value)) metrics.qualityStats.set(quality.size);
      });
      await stats.start();

      // Final statuses for the adaptive strategy: the whole topic again per start (estimates are a pure
      // function of it, the same on every replica).
      const deliveryTopic = topics.delivery;
      if (deliveryTopic) {
        const adaptivePrefix = `${config.adaptiveGroupPrefix ?? 'smshub-routing-adaptive'}-${config.replicaId}`;
        let adaptiveGroup = `${adaptivePrefix}-${uuidv7()}`;
        // From the horizon on (older observations are not learnt from): same estimates, faster start.
        if (deps.seekGroup && !(await seekAdaptive(deps.seekGroup, adaptiveGroup, deliveryTopic.name))) {
          // The group may hold some partitions' offsets (or a member still joining): a new one, from the
          // beginning. Same estimates, a longer start-up; better than none.
          adaptiveGroup = `${adaptivePrefix}-${uuidv7()}`;
        }
        // Estimates move over minutes: a fetch waits for 64 KiB of deliveries or 500 ms, so that under a
        // flow it carries hundreds of records instead of the one or two of each produce request.
        const deliveries = await deps.consumer({
          groupId: adaptiveGroup,
          fromBeginning: true,
          deadLetterTopic: `${adaptivePrefix}.dlq`,
          minBytes: 64 * 1024,
          maxWaitMs: 500,
        });
        consumers.push(deliveries);
        // Decoded to routing's view only (delivery-view.ts): most of each record is not needed here.
        deliveries.onBatch(
          deliveryViewCodec(deliveryTopic),
          deliveryBatchHandler(adaptive, greyRoutes, () => metrics.adaptiveEstimates.set(adaptive.book.size)),
        );
        await deliveries.start();
      }

      // Grey-route suspicions in force: the whole compacted topic again per start.
      if (topics.suspicion) {
        const prefix = `${config.suspicionGroupPrefix ?? 'smshub-routing-suspicion'}-${config.replicaId}`;
        const sc = await deps.consumer({
          groupId: `${prefix}-${uuidv7()}`,
          fromBeginning: true,
          deadLetterTopic: `${prefix}.dlq`,
        });
        consumers.push(sc);
        sc.on(topics.suspicion, (r) => suspicions.apply(r.value));
        await sc.start();
      }
      // Probe confirmations (MO from probe handsets), once per record across replicas.
      if (greyRoutes && topics.inbound) {
        const ic = await deps.consumer({
          groupId: config.probeGroupId ?? 'smshub-routing-probes',
          fromBeginning: true,
        });
        consumers.push(ic);
        ic.on(topics.inbound, (r) => greyRoutes.onInbound(r.value));
        await ic.start();
      }

      const submitted = await deps.consumer({
        groupId: config.groupId ?? 'smshub-routing',
        ...config.consumer,
      });
      consumers.unshift(submitted);
      submitted.onBatch(topics.submitted, onSubmittedBatch);
      windows?.start();
      await submitted.start();
      greyRoutes?.start();
      log.info('routing started');
    },
    async stop() {
      await greyRoutes?.stop();
      // The submitted consumer first (in-flight batches finish and commit), then the others.
      for (const c of consumers) await c.stop();
      consumers.length = 0;
      await windows?.stop();
    },
  };
}
