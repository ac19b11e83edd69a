// The live state of this replica's connectors on egress.connector-state.v1 (admin shows it merged across
// replicas: ListConnectorStates, hubctl connectors status, the console's connectors page). A timer reads
// the pool every `intervalMs`, and sooner when a session binds or drops; nothing here is on the send path.
// A connector given up (deleted, or this replica stopping) gets a tombstone, so readers forget it at once;
// a replica that dies without one is shown stale by readers after 3 intervals of silence.
import { SessionBindState, type ConnectorState, type topics as registry } from '@smshub/contracts';
import type { TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import type { ConnectorPool, ConnectorRuntime } from './connector-pool.js';

export const DEFAULT_STATE_INTERVAL_MS = 5_000;

const PHASES = {
  bound: SessionBindState.SESSION_BIND_STATE_BOUND,
  binding: SessionBindState.SESSION_BIND_STATE_BINDING,
  unbound: SessionBindState.SESSION_BIND_STATE_UNBOUND,
} as const;

/** One connector's record, from its runtime (pure: reads counters, writes nothing). */
export function connectorStateOf(
  rt: ConnectorRuntime,
  replicaId: string,
  intervalMs: number,
  now: Date,
): ConnectorState {
  const c = rt.config;
  const sessions = rt.bindSnapshots().map((b) => ({
    bindType: b.bindType,
    index: b.index,
    state: PHASES[b.phase],
    since: b.since,
    windowInUse: b.inUse,
  }));
  return {
    connectorId: c.id,
    replicaId,
    reportedAt: now,
    reportIntervalMs: intervalMs,
    enabled: c.enabled,
    sessions,
    windowInUse: rt.windowUsed,
    windowSize: c.windowSize,
    submitsPerSecond: rt.submitsLastSecond(now.getTime()),
    maxSubmitRate: c.maxSubmitRate,
    tpsShare: rt.tpsShare,
    throttledLastMinute: rt.throttledRecent.count(now.getTime()),
    failoversLastMinute: rt.failoversRecent.count(now.getTime()),
    failoversTotal: BigInt(rt.failoversRecent.total),
    lastError: rt.lastError?.message ?? '',
    lastErrorTime: rt.lastError?.at,
    liveReplicas: rt.pool.membership.count,
  };
}

export interface ConnectorStateReporterOptions {
  pool: ConnectorPool;
  producer: TypedProducer;
  topic: typeof registry.connectorState;
  replicaId: string;
  logger: Logger;
  /** Report period; a bind change reports sooner (at most every 250 ms). */
  intervalMs?: number;
}

export class ConnectorStateReporter {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly published = new Set<string>();
  private failing = false;
  private readonly intervalMs: number;

  constructor(private readonly o: ConnectorStateReporterOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_STATE_INTERVAL_MS;
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await this.report();
      try {
        // A bind change wakes this early; the short pause coalesces a burst of changes into one report.
        await this.o.pool.waitHealthChange(this.intervalMs, signal);
        await new Promise((r) => setTimeout(r, 250).unref());
      } catch {
        break;
      }
    }
  }

  /** Publishes every connector's record, and tombstones for those given up since the last report. */
  async report(): Promise<void> {
    const now = new Date();
    const ids = new Set(this.o.pool.ids());
    const sends: Promise<void>[] = [];
    for (const id of ids) {
      const rt = this.o.pool.get(id);
      if (!rt) continue;
      sends.push(
        this.o.producer.produce(this.o.topic, connectorStateOf(rt, this.o.replicaId, this.intervalMs, now), {
          noTrace: true,
        }),
      );
      this.published.add(id);
    }
    // A tombstone that fails is sent again at the next report (the id stays published until it is out).
    for (const id of [...this.published]) {
      if (ids.has(id)) continue;
      sends.push(this.tombstone(id).then(() => void this.published.delete(id)));
    }
    try {
      await Promise.all(sends);
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        this.o.logger.warn(
          { err: (err as Error).message },
          'connector state not published; retrying at the next report',
        );
      this.failing = true;
    }
  }

  private tombstone(connectorId: string): Promise<void> {
    return this.o.producer.produceRaw(this.o.topic.name, `${connectorId}/${this.o.replicaId}`, null, {
      noTrace: true,
    });
  }

  /** Graceful: stop reporting and tombstone every connector this replica reported. */
  async stop(): Promise<void> {
    this.halt();
    await this.loop;
    await Promise.all([...this.published].map((id) => this.tombstone(id))).catch((err: unknown) =>
      this.o.logger.warn({ err: (err as Error).message }, 'connector state tombstones not published'),
    );
    this.published.clear();
  }

  /** Abrupt (a crash in tests): the records are left to go stale. */
  halt(): void {
    this.abort.abort();
  }
}
