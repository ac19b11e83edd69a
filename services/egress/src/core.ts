import { setMaxListeners } from 'node:events';
import type tls from 'node:tls';
import { v7 as uuidv7 } from 'uuid';
import {
  ChangeAction,
  ResourceKind,
  type ConfigChange,
  type SmsRouted,
  type topics as registry,
} from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { ConsumedRecord, ConsumerOptions, TypedConsumer, TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import { CommandStatus, type Pdu, type ResponseSpec, type SmppSession } from '@smshub/smpp';
import { ConnectorPool } from './connector-pool.js';
import { ConnectorStateReporter } from './connector-state.js';
import { ConnectorStore } from './connector-store.js';
import { DispatchStore, type DispatchWriteShape } from './dispatch-store.js';
import type { BackoffPolicy } from './domain/backoff.js';
import type { ConnectorConfig } from './domain/connector.js';
import type { RetryPolicy } from './domain/failover.js';
import { isReceipt, toMo, toReceipt } from './domain/inbound.js';
import { metrics } from './metrics.js';
import {
  DEFAULT_REPLICA_REGISTRY,
  ReplicaRegistry,
  type ReplicaRegistryOptions,
} from './replica-registry.js';
import { InterruptedError, Sender, sessionRef, type PreparedMessage } from './sender.js';
import { RerouteHandler } from './reroute.js';

export interface EgressCoreConfig {
  /** This replica's name (pod name): per-replica config group, session references. */
  replicaId: string;
  /**
   * Heartbeats of the live replicas that split each connector's TPS and sessions (replica-registry.ts);
   * default 2 s / 6 s.
   */
  replicaRegistry?: ReplicaRegistryOptions;
  /** Period of the live connector state on egress.connector-state.v1 (default 5 s; connector-state.ts). */
  stateIntervalMs?: number;
  /** Fraction under the TPS share to pace at (EGRESS_TPS_HEADROOM). */
  tpsHeadroom: number;
  retry: RetryPolicy;
  reconnect: BackoffPolicy;
  /** Wait this long for a candidate to be bound before failing a part NOT_SENT. */
  unavailableWaitMs: number;
  /** CONNECTOR_SECRET_KEY, decoded. */
  secretKey: Buffer;
  /** CONNECTOR_SECRET_KEY_PREVIOUS, decoded: also tried when opening passwords (key rotation). */
  previousSecretKeys?: Buffer[];
  /** Routed records of one fetched batch processed at the same time. */
  batchConcurrency: number;
  /** Consumer group of sms.routed.v1 (default smshub-egress). */
  groupId?: string;
  /** Graceful stop: in-flight parts get this long to finish before they are interrupted. */
  drainMs: number;
  tls?: tls.ConnectionOptions;
  /** How the dedupe rows are written (dispatch-store.ts DispatchWriteShape); default 'plain'. Benches compare. */
  dispatchWriteShape?: DispatchWriteShape;
  consumer?: Pick<
    ConsumerOptions,
    'sessionTimeoutMs' | 'commitIntervalMs' | 'partitionsConsumedConcurrently' | 'minBytes' | 'maxWaitMs'
  >;
}

export interface EgressDeps {
  config: EgressCoreConfig;
  logger: Logger;
  producer: TypedProducer;
  consumer: (opts: Omit<ConsumerOptions, 'producer'>) => Promise<TypedConsumer> | TypedConsumer;
  pool: Pool;
  topics: Pick<typeof registry, 'routed' | 'dispatched' | 'receiptRaw' | 'mo' | 'configChanges'> &
    /** sms.reroute.v1: dlr's re-route orders (reroute.ts), consumed by the routed consumer when given. */
    Partial<Pick<typeof registry, 'reroute'>> &
    Partial<Pick<typeof registry, 'connectorState'>>;
}

export interface EgressCore {
  start(): Promise<void>;
  /**
   * Graceful: start no new part, finish the submits on the wire (up to drainMs), commit the batches that
   * ended, leave the group, unbind every session.
   */
  stop(): Promise<void>;
  /** Abrupt (tests, and what a kill looks like): drop SMPP sockets and leave the group without finishing or committing in-flight records. */
  crash(): Promise<void>;
  readonly connectors: ConnectorPool;
  readonly connectorStore: ConnectorStore;
  /** Reload one connector (or all with '*') from Postgres, as a config change does. */
  reload(id: string): Promise<void>;
}

export function createEgressCore(deps: EgressDeps): EgressCore {
  const { config, topics, producer } = deps;
  const log = deps.logger.child({ component: 'egress', replica: config.replicaId });
  const abort = new AbortController();
  // Every part waiting for a window slot, a token or a backoff listens on this one signal.
  setMaxListeners(0, abort.signal);
  // Aborted when a graceful stop begins: no new part is started (see SenderOptions.stopping).
  const draining = new AbortController();
  setMaxListeners(0, draining.signal);
  const connectorStore = new ConnectorStore(deps.pool, config.secretKey, config.previousSecretKeys);
  const dispatchStore = new DispatchStore(deps.pool, config.replicaId, {
    signal: abort.signal,
    ownerStaleMs: (config.replicaRegistry ?? DEFAULT_REPLICA_REGISTRY).staleMs,
    ...(config.dispatchWriteShape ? { writeShape: config.dispatchWriteShape } : {}),
  });

  async function onInbound(
    connector: ConnectorConfig,
    session: SmppSession,
    pdu: Pdu,
  ): Promise<ResponseSpec> {
    const ctx = {
      connectorId: connector.id,
      messageIdFormat: connector.messageIdFormat,
      receiptTimeZone: connector.receiptTimeZone,
      session: sessionRef(config.replicaId, connector.systemId, session)!,
      receivedAt: new Date(),
      newId: () => uuidv7(),
    };
    try {
      if (isReceipt(pdu)) {
        const receipt = toReceipt(pdu, ctx);
        await producer.produce(topics.receiptRaw, receipt);
        metrics.receipts.inc({ connector: connector.id, result: receipt.parseError ? 'unparsed' : 'parsed' });
        if (receipt.parseError)
          log.warn(
            { connector: connector.id, receiptId: receipt.receiptId, problems: receipt.parseError },
            'receipt published raw with parse problems',
          );
        return {};
      }
      const mo = toMo(pdu, ctx);
      if (!mo.source?.address) return { status: CommandStatus.ESME_RINVSRCADR };
      if (!mo.destination?.address) return { status: CommandStatus.ESME_RINVDSTADR };
      await producer.produce(topics.mo, mo);
      metrics.mo.inc({ connector: connector.id });
      return {};
    } catch (err) {
      // Not recorded (Kafka unavailable): a temporary error makes the SMSC deliver it again later.
      log.error({ connector: connector.id, err }, 'inbound deliver_sm not recorded; answered ESME_RX_T_APPN');
      return { status: CommandStatus.ESME_RX_T_APPN };
    }
  }

  const connectors = new ConnectorPool({
    logger: log,
    tpsHeadroom: config.tpsHeadroom,
    reconnect: config.reconnect,
    onInbound,
    ...(config.tls ? { tls: config.tls } : {}),
  });

  const replicas = new ReplicaRegistry(
    deps.pool,
    config.replicaId,
    log,
    (m) => connectors.setMembership(m),
    config.replicaRegistry ?? DEFAULT_REPLICA_REGISTRY,
  );

  // Without the topic (some tests), no live state is published.
  const stateReporter = topics.connectorState
    ? new ConnectorStateReporter({
        pool: connectors,
        producer,
        topic: topics.connectorState,
        replicaId: config.replicaId,
        logger: log,
        ...(config.stateIntervalMs !== undefined ? { intervalMs: config.stateIntervalMs } : {}),
      })
    : undefined;

  const sender = new Sender({
    pool: connectors,
    store: dispatchStore,
    producer,
    topics,
    logger: log,
    replica: config.replicaId,
    retry: config.retry,
    unavailableWaitMs: config.unavailableWaitMs,
    signal: abort.signal,
    stopping: draining.signal,
  });
  const reroutes = new RerouteHandler({ pool: deps.pool, store: dispatchStore, sender, logger: log });

  async function reload(id: string): Promise<void> {
    if (id === '*') {
      const { connectors: all, errors } = await connectorStore.loadAll();
      for (const e of errors) log.error({ connector: e.connectorId, err: e.message }, 'connector skipped');
      await connectors.replaceAll(all);
      return;
    }
    try {
      await connectors.apply(id, await connectorStore.load(id));
    } catch (err) {
      log.error({ connector: id, err: (err as Error).message }, 'connector change not applied');
    }
  }

  async function onConfigChange(r: ConsumedRecord<ConfigChange>): Promise<void> {
    const c = r.value;
    if (c.kind !== ResourceKind.RESOURCE_KIND_CONNECTOR) return;
    if (c.action === ChangeAction.CHANGE_ACTION_RELOAD) return reload('*');
    if (c.action === ChangeAction.CHANGE_ACTION_DELETED) return connectors.apply(c.resourceId, undefined);
    return reload(c.resourceId);
  }

  async function onRoutedBatch(records: ConsumedRecord<SmsRouted>[]): Promise<void> {
    let firstError: unknown;
    const fail = (err: unknown): void => {
      if (!firstError || err instanceof InterruptedError) firstError = err;
    };
    // A message id seen twice in one batch (a record re-published upstream) runs after the first copy
    // has finished, re-reading its rows: two copies in flight at once could both send.
    const first: PreparedMessage[] = [];
    const again: PreparedMessage[] = [];
    const seen = new Set<string>();
    for (const r of records) {
      try {
        const p = sender.prepare(r.value);
        const id = p.context.messageId.toLowerCase();
        (seen.has(id) ? again : first).push(p);
        seen.add(id);
      } catch (err) {
        fail(err);
      }
    }
    // One statement reads the dedupe rows of every part of the batch.
    const known = await dispatchStore.getMany(first.flatMap((p) => sender.keys(p)));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < first.length) {
        const p = first[next++]!;
        try {
          await sender.run(p, known);
        } catch (err) {
          fail(err);
        }
      }
    };
    // Every record settles before the batch reports: a failed batch is retried whole, and parts still in
    // flight must not be seen as "sending" by that retry. The offsets are committed only after.
    await Promise.all(Array.from({ length: Math.min(config.batchConcurrency, first.length) }, worker));
    for (const p of again) {
      try {
        await sender.handle(p.routed);
      } catch (err) {
        fail(err);
      }
    }
    if (firstError) throw firstError;
  }

  let routedConsumer: TypedConsumer | undefined;
  let configConsumer: TypedConsumer | undefined;

  return {
    connectors,
    connectorStore,
    reload,
    async start() {
      configConsumer = await deps.consumer({
        groupId: `${config.groupId ?? 'smshub-egress'}-config-${config.replicaId}`,
        fromBeginning: false,
      });
      configConsumer.on(topics.configChanges, onConfigChange);
      const assigned = configConsumer.waitForAssignment();
      await configConsumer.start();
      await assigned;
      // The live replicas before the connectors open: each opens its share of the sessions at once.
      await replicas.start();
      // After joining the change stream, so a change made during the load is applied after it.
      await reload('*');
      stateReporter?.start();
      // By default a fetch waits for 32 KiB of routed records (about 100) or 50 ms (EGRESS_FETCH_MIN_BYTES,
      // EGRESS_FETCH_WAIT_MS): under a live flow a batch then carries tens of parts instead of the few that
      // arrived since the last fetch, and its per-batch costs (the dedupe read, the fetch, the offset
      // commit) are shared by more parts, for at most 50 ms more latency.
      routedConsumer = await deps.consumer({
        groupId: config.groupId ?? 'smshub-egress',
        minBytes: 32 * 1024,
        maxWaitMs: 50,
        ...config.consumer,
      });
      routedConsumer.onBatch(topics.routed, onRoutedBatch);
      const rerouteTopic = topics.reroute;
      if (rerouteTopic) routedConsumer.on(rerouteTopic, (r) => reroutes.handle(r.value));
      await routedConsumer.start();
      log.info({ connectors: connectors.ids().length }, 'egress started');
    },
    async stop() {
      // Nothing new is started: parts waiting for a window slot, a token or a backoff are left for the
      // next owner (unclaimed, or "pending"), so the batch in hand ends once the submits already on the
      // wire are answered (one response time); those answers are recorded and published. After drainMs
      // even those are given up ("sending" stays: the next owner reports them unknown, never resends).
      draining.abort(new InterruptedError());
      const timer = setTimeout(() => abort.abort(new InterruptedError()), config.drainMs);
      try {
        await routedConsumer?.stop();
      } finally {
        clearTimeout(timer);
      }
      abort.abort(new InterruptedError());
      await configConsumer?.stop();
      await connectors.stop(false);
      // Readers forget this replica's connectors at once (a crash leaves them to go stale instead).
      await stateReporter?.stop();
      // Last: the others take over this replica's share once its sessions are closed.
      await replicas.stop();
    },
    async crash() {
      replicas.halt();
      stateReporter?.halt();
      draining.abort(new InterruptedError());
      abort.abort(new InterruptedError());
      await Promise.all([connectors.stop(true), routedConsumer?.stop(), configConsumer?.stop()]);
    },
  };
}
