// The live connector state of every egress replica, read from egress.connector-state.v1 (compacted) into
// memory from the start of the topic; ListConnectorStates answers from it. A replica silent for 3 of its
// report intervals is shown stale (its figures are left out of the connector's totals); one silent for an
// hour is dropped (it died without its tombstone long ago).
import { randomUUID } from 'node:crypto';
import type {
  ConnectorLiveState,
  ConnectorState,
  ListConnectorStatesResponse,
  topics as registry,
} from '@smshub/contracts';
import type { Logger } from '@smshub/logging';
import type { Kafka } from '@smshub/kafka';

type Consumer = ReturnType<Kafka['consumer']>;

/** A stored record and when admin counts it as last heard from. */
export interface SeenState {
  state: ConnectorState;
  /** ms epoch. */
  heardAt: number;
}

export const STALE_INTERVALS = 3;
export const DROP_AFTER_MS = 3600_000;

const DEFAULT_INTERVAL_MS = 5_000;

/** Merges the replicas' records per connector (pure). */
export function mergeConnectorStates(
  seen: Iterable<SeenState>,
  now: number,
  connectorId = '',
): ConnectorLiveState[] {
  const by = new Map<string, ConnectorLiveState>();
  for (const s of seen) {
    const st = s.state;
    if (connectorId && st.connectorId !== connectorId) continue;
    const age = Math.max(0, now - s.heardAt);
    if (age > DROP_AFTER_MS) continue;
    const stale = age > STALE_INTERVALS * (st.reportIntervalMs || DEFAULT_INTERVAL_MS);
    let c = by.get(st.connectorId);
    if (!c) {
      c = {
        connectorId: st.connectorId,
        replicas: [],
        sessionsBound: 0,
        sessionsTotal: 0,
        windowInUse: 0,
        windowCapacity: 0,
        submitsPerSecond: 0,
        maxSubmitRate: st.maxSubmitRate,
        throttledLastMinute: 0,
        failoversLastMinute: 0,
      };
      by.set(st.connectorId, c);
    }
    c.replicas.push({ state: st, stale, ageMs: Math.min(age, 0xffffffff) });
    if (stale) continue;
    // The newest fresh record says the connector's current max_submit_rate.
    c.maxSubmitRate = st.maxSubmitRate;
    c.sessionsTotal += st.sessions.length;
    c.sessionsBound += st.sessions.filter((x) => x.state === 1).length;
    c.windowInUse += st.windowInUse;
    c.windowCapacity += st.windowSize * st.sessions.filter((x) => x.bindType !== 'receiver').length;
    c.submitsPerSecond += st.submitsPerSecond;
    c.throttledLastMinute += st.throttledLastMinute;
    c.failoversLastMinute += st.failoversLastMinute;
  }
  const out = [...by.values()].sort((a, b) => a.connectorId.localeCompare(b.connectorId));
  for (const c of out) c.replicas.sort((a, b) => a.state!.replicaId.localeCompare(b.state!.replicaId));
  return out;
}

export interface ConnectorStateViewOptions {
  kafka: Kafka;
  topic: typeof registry.connectorState;
  logger: Logger;
  /** Prefix of the view's own consumer group (KAFKA_NAMESPACE applied by the caller). */
  groupPrefix: string;
}

/** The in-memory view: a consumer of the whole topic under a group of its own, never committing. */
export class ConnectorStateView {
  private readonly states = new Map<string, SeenState>();
  private consumer: Consumer | undefined;
  /** Offsets to reach before the view is caught up (the topic's end at start), per partition. */
  private targets = new Map<number, bigint>();
  private caught = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly o: ConnectorStateViewOptions) {}

  get caughtUp(): boolean {
    return this.caught;
  }

  /**
   * Starts reading. A failure (the topic not created yet after an upgrade, Kafka away) does not stop admin:
   * it is logged and retried every 10 s; the RPC answers with what it has and caught_up false meanwhile.
   */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      this.o.logger.warn(
        { topic: this.o.topic.name, err: (err as Error).message },
        'connector state not readable yet; retrying every 10 s',
      );
      await this.consumer?.disconnect().catch(() => undefined);
      this.consumer = undefined;
      if (this.stopped) return;
      this.retry = setTimeout(() => void this.start(), 10_000);
      this.retry.unref();
    }
  }

  private async open(): Promise<void> {
    this.targets.clear();
    const admin = this.o.kafka.admin();
    await admin.connect();
    try {
      for (const p of await admin.fetchTopicOffsets(this.o.topic.name))
        if (BigInt(p.high) > BigInt(p.low)) this.targets.set(p.partition, BigInt(p.high));
    } finally {
      await admin.disconnect();
    }
    this.caught = this.targets.size === 0;
    const consumer = this.o.kafka.consumer({
      groupId: `${this.o.groupPrefix}-${randomUUID()}`,
      // Short-lived group: nothing committed, so it is forgotten soon after this process ends.
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topic.name, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        this.apply(partition, message.key?.toString('utf8') ?? '', message.value, BigInt(message.offset));
      },
    });
  }

  private apply(partition: number, key: string, value: Buffer | null, offset: bigint): void {
    const target = this.targets.get(partition);
    if (target !== undefined && offset + 1n >= target) {
      this.targets.delete(partition);
      if (this.targets.size === 0) this.caught = true;
    }
    if (!value || value.length === 0) {
      this.states.delete(key);
      return;
    }
    let state: ConnectorState;
    try {
      state = this.o.topic.decode(value);
    } catch (err) {
      this.o.logger.warn({ key, err: (err as Error).message }, 'connector state record not decoded; skipped');
      return;
    }
    const now = Date.now();
    // Records read while catching up are as old as the replica says (a dead replica's last record must
    // not look fresh); later ones count from their arrival (no clock skew between the hosts).
    const reported = state.reportedAt?.getTime() ?? now;
    const heardAt = target !== undefined ? Math.min(reported, now) : now;
    this.states.set(key, { state, heardAt });
  }

  list(connectorId = '', now = Date.now()): ListConnectorStatesResponse {
    return {
      connectors: mergeConnectorStates(this.states.values(), now, connectorId),
      caughtUp: this.caught,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
