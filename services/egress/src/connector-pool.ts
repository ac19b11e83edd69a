import type tls from 'node:tls';
import {
  CommandStatus,
  connectSmpp,
  SmppClosedError,
  SmppError,
  SmppTimeoutError,
  statusName,
  type BindType,
  type Pdu,
  type PduFields,
  type ResponseSpec,
  type SmppSession,
} from '@smshub/smpp';
import type { Logger } from '@smshub/logging';
import { backoffDelay, type BackoffPolicy } from './domain/backoff.js';
import { redactConnector, sessionSettingsChanged, type ConnectorConfig } from './domain/connector.js';
import type { AttemptResult } from './domain/failover.js';
import {
  PacedBucket,
  replicaShare,
  sessionsShare,
  sleep,
  strictBucket,
  strictLimits,
  type Membership,
} from './domain/token-bucket.js';
import { metrics } from './metrics.js';
import { RecentCounter } from './domain/recent-counter.js';

/** Handles a deliver_sm/data_sm from a supplier; what it returns is the response (always answered). */
export type InboundHandler = (
  connector: ConnectorConfig,
  session: SmppSession,
  pdu: Pdu,
) => Promise<ResponseSpec>;

export interface PoolOptions {
  logger: Logger;
  /**
   * Live egress replicas sharing each connector's TPS and sessions, and this one's rank (at start; then
   * `setMembership` from the replica registry). Default: alone.
   */
  membership?: Membership;
  /** Pace this fraction under the share, for jitter between our write and the supplier's counter. */
  tpsHeadroom: number;
  reconnect: BackoffPolicy;
  onInbound: InboundHandler;
  /** TLS options for connectors with tls=true (e.g. a private CA); certificates are verified. */
  tls?: tls.ConnectionOptions;
}

export interface SubmitOutcome {
  result: AttemptResult;
  /** submit_sm_resp command_status (0 for accepted, timeout, closed). */
  commandStatus: number;
  supplierMessageId: string;
  session: SmppSession;
  submittedAt: Date;
  respondedAt?: Date;
  detail: string;
}

interface SlotWaiter {
  signal: AbortSignal;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

/** A session's state for the live connector state (connector-state.ts). */
export type BindPhase = 'binding' | 'bound' | 'unbound';

/** What the live connector state reads of one session. */
export interface BindSnapshot {
  bindType: BindType;
  index: number;
  phase: BindPhase;
  since: Date;
  inUse: number;
}

class Bind {
  session: SmppSession | undefined;
  inUse = 0;
  phase: BindPhase = 'binding';
  since = new Date();
  private stopped = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    readonly runtime: ConnectorRuntime,
    readonly bindType: BindType,
    readonly index: number,
  ) {}

  get canSubmit(): boolean {
    return this.bindType !== 'receiver';
  }

  get bound(): boolean {
    const s = this.session?.state;
    return s === 'BOUND_TX' || s === 'BOUND_RX' || s === 'BOUND_TRX';
  }

  start(): void {
    this.loop = this.run();
  }

  private enter(phase: BindPhase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    this.since = new Date();
  }

  private async run(): Promise<void> {
    const rt = this.runtime;
    let failures = 0;
    while (!this.stopped) {
      const c = rt.config;
      this.enter('binding');
      try {
        const session = await connectSmpp({
          host: c.host,
          port: c.port,
          ...(c.tls ? { tls: rt.pool.opts.tls ?? true } : {}),
          systemId: c.systemId,
          password: c.password,
          systemType: c.systemType,
          bindType: this.bindType,
          interfaceVersion: c.interfaceVersion,
          enquireLinkMs: c.enquireLinkMs,
          responseTimeoutMs: c.responseTimeoutMs,
          window: c.windowSize,
          handlers: {
            deliver_sm: (pdu, s) => rt.pool.opts.onInbound(rt.config, s, pdu),
            data_sm: (pdu, s) => rt.pool.opts.onInbound(rt.config, s, pdu),
          },
          logger: rt.log,
        });
        if (this.stopped) {
          session.destroy();
          break;
        }
        this.session = session;
        failures = 0;
        this.enter('bound');
        rt.clearError();
        rt.log.info({ bind: this.index, bindType: this.bindType, session: session.id }, 'connector bound');
        rt.boundChanged();
        await session.waitClosed();
        this.session = undefined;
        this.enter('unbound');
        if (!this.stopped) rt.noteError('session closed by the supplier or the network');
        rt.boundChanged();
        if (!this.stopped)
          rt.log.warn(
            { bind: this.index, bindType: this.bindType },
            'connector session closed; reconnecting',
          );
      } catch (err) {
        this.session = undefined;
        this.enter('unbound');
        const status = err instanceof SmppError ? statusName(err.commandStatus) : undefined;
        rt.noteError(`bind failed: ${status ?? (err as Error).message}`);
        rt.boundChanged();
        rt.log.warn({ bind: this.index, err: (err as Error).message, status }, 'connector bind failed');
      }
      if (this.stopped) break;
      failures++;
      try {
        await sleep(backoffDelay(rt.pool.opts.reconnect, failures), this.abort.signal);
      } catch {
        break;
      }
    }
  }

  /** Unbind politely (graceful) or drop the socket (abrupt). */
  async stop(abrupt: boolean): Promise<void> {
    this.stopped = true;
    this.abort.abort(new SmppClosedError('connector stopping'));
    const s = this.session;
    if (s) {
      if (abrupt) s.destroy();
      else await s.unbind().catch(() => s.destroy());
    }
    await this.loop;
  }
}

/** One connector: its binds, its shared rate limit and its window accounting. */
export class ConnectorRuntime {
  readonly log: Logger;
  private binds: Bind[] = [];
  /** Binds being retired: their in-flight parts finish before they unbind. */
  private readonly retired = new Set<Promise<void>>();
  private readonly bucket: PacedBucket;
  /** Second, short gate right before the write: keeps spacing after the database write in between. */
  private readonly gate: PacedBucket;
  /** Parts waiting for a window slot, oldest first from `slotHead` (a queue without O(n) shifts). */
  private slotWaiters: SlotWaiter[] = [];
  private slotHead = 0;
  /** Abort signals with a listener that rejects their waiters (one listener per signal, not per wait). */
  private readonly watchedSignals = new WeakSet<AbortSignal>();
  /** Write times of the last second, from `writesHead`, for the TPS gauge. */
  private writes: number[] = [];
  private writesHead = 0;
  private tpsSetAt = 0;
  /** submit_sm answered ESME_RTHROTTLED/ESME_RMSGQFUL, and parts that failed over to the next candidate. */
  readonly throttledRecent = new RecentCounter();
  readonly failoversRecent = new RecentCounter();
  /** The last bind or session error since the last successful bind. */
  lastError: { message: string; at: Date } | undefined;

  constructor(
    readonly pool: ConnectorPool,
    public config: ConnectorConfig,
  ) {
    this.log = pool.opts.logger.child({ connector: config.id });
    this.bucket = new PacedBucket(strictBucket(this.rate()));
    this.gate = new PacedBucket(strictBucket(this.rate()));
    metrics.tpsShare.set({ connector: config.id }, this.rate());
  }

  private rate(): number {
    return (
      replicaShare(this.config.maxSubmitRate, this.pool.membership.count) * (1 - this.pool.opts.tpsHeadroom)
    );
  }

  /** Sessions of each bind kind this replica opens (its share of the connector's). */
  sessionsHere(): number {
    return sessionsShare(this.config.sessions, this.pool.membership);
  }

  start(): void {
    if (!this.config.enabled) return;
    this.openBinds(0, this.sessionsHere());
  }

  private openBinds(from: number, to: number): void {
    const c = this.config;
    const kinds: BindType[] =
      c.bindMode === 'transceiver'
        ? ['transceiver']
        : c.bindMode === 'transmitter'
          ? ['transmitter']
          : ['transmitter', 'receiver'];
    const added: Bind[] = [];
    for (let i = from; i < to; i++) for (const k of kinds) added.push(new Bind(this, k, i));
    this.binds.push(...added);
    for (const b of added) b.start();
  }

  /**
   * The live replicas changed: pace at the new share at once, open or retire sessions to the new share.
   * A retired session takes no new part and unbinds once its in-flight ones are answered.
   */
  rescale(): void {
    const { rate, burst } = strictLimits(this.rate());
    this.bucket.bucket.reconfigure(rate, burst);
    this.gate.bucket.reconfigure(rate, burst);
    metrics.tpsShare.set({ connector: this.config.id }, this.rate());
    if (!this.config.enabled) return;
    const want = this.sessionsHere();
    if (this.pool.membership.count > this.config.sessions)
      this.log.warn(
        { sessions: this.config.sessions, replicas: this.pool.membership.count },
        'more egress replicas than the connector has sessions: each opens one, the supplier sees one bind per replica',
      );
    const have = this.binds.reduce((n, b) => Math.max(n, b.index + 1), 0);
    if (want > have) this.openBinds(have, want);
    else if (want < have) {
      const drop = this.binds.filter((b) => b.index >= want);
      this.binds = this.binds.filter((b) => b.index < want);
      for (const b of drop) {
        const done = this.retire(b).finally(() => this.retired.delete(done));
        this.retired.add(done);
      }
      this.boundChanged();
    }
    this.log.info({ tps: this.rate(), sessions: want }, 'connector share changed');
  }

  private async retire(b: Bind): Promise<void> {
    const deadline = Date.now() + this.config.responseTimeoutMs + 1000;
    while (b.inUse > 0 && Date.now() < deadline) await sleep(20);
    await b.stop(false);
  }

  async stop(abrupt: boolean): Promise<void> {
    const binds = this.binds;
    this.binds = [];
    await Promise.all([...binds.map((b) => b.stop(abrupt)), ...this.retired]);
    this.boundChanged();
  }

  /** Applies a new configuration; sessions are reopened only when a session setting changed. */
  async update(next: ConnectorConfig): Promise<void> {
    const reopen = sessionSettingsChanged(this.config, next);
    this.config = next;
    const { rate, burst } = strictLimits(this.rate());
    this.bucket.bucket.reconfigure(rate, burst);
    this.gate.bucket.reconfigure(rate, burst);
    metrics.tpsShare.set({ connector: next.id }, this.rate());
    if (reopen) {
      this.log.info({ connector: redactConnector(next).id }, 'connector settings changed; rebinding');
      await this.stop(false);
      this.start();
    }
  }

  noteError(message: string): void {
    this.lastError = { message, at: new Date() };
  }

  clearError(): void {
    this.lastError = undefined;
  }

  /** A part leaves this connector for the next candidate (sender.ts). */
  noteFailover(): void {
    this.failoversRecent.add();
  }

  /** This replica's sessions, for the live connector state. */
  bindSnapshots(): BindSnapshot[] {
    return this.binds.map((b) => ({
      bindType: b.bindType,
      index: b.index,
      phase: b.bound ? 'bound' : b.phase === 'bound' ? 'unbound' : b.phase,
      since: b.since,
      inUse: b.inUse,
    }));
  }

  /** submit_sm written in the last second. */
  submitsLastSecond(now: number = Date.now()): number {
    let n = 0;
    for (let i = this.writes.length - 1; i >= this.writesHead && this.writes[i]! > now - 1000; i--) n++;
    return n;
  }

  /** This replica's pace: its share of max_submit_rate after the headroom. */
  get tpsShare(): number {
    return this.rate();
  }

  get windowUsed(): number {
    return this.windowInUse();
  }

  get boundCount(): number {
    return this.binds.filter((b) => b.bound).length;
  }

  /** At least one bound session can submit. */
  get healthy(): boolean {
    return this.config.enabled && this.binds.some((b) => b.canSubmit && b.bound);
  }

  boundChanged(): void {
    metrics.bindsBound.set({ connector: this.config.id }, this.boundCount);
    this.wakeSlotWaiters();
    this.pool.notifyHealth();
  }

  private wakeSlotWaiters(): void {
    const w = this.slotWaiters.slice(this.slotHead);
    this.slotWaiters = [];
    this.slotHead = 0;
    for (const x of w) x.resolve();
  }

  private windowInUse(): number {
    let n = 0;
    for (const b of this.binds) n += b.inUse;
    return n;
  }

  /** A bound submit-capable session with a free window slot; waits for one; undefined when none is bound. */
  private async acquireSlot(signal: AbortSignal): Promise<Bind | undefined> {
    for (;;) {
      signal.throwIfAborted();
      let anyBound = false;
      let best: Bind | undefined;
      for (const b of this.binds) {
        if (!b.canSubmit || !b.bound) continue;
        anyBound = true;
        if (b.inUse < this.config.windowSize && (!best || b.inUse < best.inUse)) best = b;
      }
      if (!anyBound) return undefined;
      if (best) {
        best.inUse++;
        metrics.windowInUse.set({ connector: this.config.id }, this.windowInUse());
        return best;
      }
      await this.waitForSlot(signal);
    }
  }

  private waitForSlot(signal: AbortSignal): Promise<void> {
    if (!this.watchedSignals.has(signal)) {
      this.watchedSignals.add(signal);
      signal.addEventListener(
        'abort',
        () => {
          const rest: SlotWaiter[] = [];
          for (const w of this.slotWaiters.slice(this.slotHead))
            if (w.signal === signal) w.reject(signal.reason);
            else rest.push(w);
          this.slotWaiters = rest;
          this.slotHead = 0;
        },
        { once: true },
      );
    }
    return new Promise<void>((resolve, reject) => this.slotWaiters.push({ signal, resolve, reject }));
  }

  private releaseSlot(b: Bind): void {
    b.inUse--;
    metrics.windowInUse.set({ connector: this.config.id }, this.windowInUse());
    if (this.slotHead < this.slotWaiters.length) {
      const next = this.slotWaiters[this.slotHead++]!;
      if (this.slotHead === this.slotWaiters.length) {
        this.slotWaiters = [];
        this.slotHead = 0;
      } else if (this.slotHead > 1024 && this.slotHead * 2 > this.slotWaiters.length) {
        this.slotWaiters = this.slotWaiters.slice(this.slotHead);
        this.slotHead = 0;
      }
      next.resolve();
    }
  }

  private recordWrite(): void {
    const now = Date.now();
    this.writes.push(now);
    while (this.writesHead < this.writes.length && this.writes[this.writesHead]! <= now - 1000)
      this.writesHead++;
    if (this.writesHead > 4096) {
      this.writes = this.writes.slice(this.writesHead);
      this.writesHead = 0;
    }
    // The gauge is refreshed at most every 100 ms (a labelled set per submit_sm costs more than the rest).
    if (now - this.tpsSetAt >= 100) {
      this.tpsSetAt = now;
      metrics.tps.set({ connector: this.config.id }, this.writes.length - this.writesHead);
    }
  }

  /**
   * One submit_sm: a window slot on the least busy bound session, then a token of the connector's
   * rate, then `beforeWrite` (the "sending" dedupe record), then the write. Resolves with the outcome;
   * rejects only when `signal` aborts (shutdown/crash) or `beforeWrite` fails. `admit` (a graceful stop
   * begun) ends the waits before the claim, so a stopping replica starts nothing new; once claimed, a part
   * is written and its answer awaited unless `signal` aborts.
   */
  async submit(
    fields: PduFields,
    signal: AbortSignal,
    beforeWrite: () => Promise<void>,
    admit: AbortSignal = signal,
  ): Promise<SubmitOutcome | undefined> {
    const bind = await this.acquireSlot(admit);
    if (!bind) return undefined;
    const id = this.config.id;
    try {
      await this.bucket.take(admit);
      admit.throwIfAborted();
      await beforeWrite();
      await this.gate.take(signal);
      const session = bind.session;
      const submittedAt = new Date();
      if (!session || !bind.bound) {
        metrics.submits.inc({ connector: id, status: 'closed' });
        return {
          result: { kind: 'closed' },
          commandStatus: 0,
          supplierMessageId: '',
          session: session!,
          submittedAt,
          detail: 'session lost before write',
        };
      }
      this.recordWrite();
      try {
        const resp = await session.submit(fields);
        metrics.submits.inc({ connector: id, status: 'ESME_ROK' });
        return {
          result: { kind: 'accepted' },
          commandStatus: 0,
          supplierMessageId: resp.message_id ?? '',
          session,
          submittedAt,
          respondedAt: new Date(),
          detail: '',
        };
      } catch (err) {
        if (err instanceof SmppTimeoutError) {
          metrics.submits.inc({ connector: id, status: 'timeout' });
          return {
            result: { kind: 'timeout' },
            commandStatus: 0,
            supplierMessageId: '',
            session,
            submittedAt,
            detail: `no submit_sm_resp within ${this.config.responseTimeoutMs} ms`,
          };
        }
        if (err instanceof SmppClosedError || !(err instanceof SmppError) || err.pdu === undefined) {
          metrics.submits.inc({ connector: id, status: 'closed' });
          return {
            result: { kind: 'closed' },
            commandStatus: 0,
            supplierMessageId: '',
            session,
            submittedAt,
            detail: (err as Error).message,
          };
        }
        const status = err.commandStatus;
        metrics.submits.inc({ connector: id, status: statusName(status) ?? `0x${status.toString(16)}` });
        if (status === CommandStatus.ESME_RTHROTTLED || status === CommandStatus.ESME_RMSGQFUL) {
          metrics.throttled.inc({ connector: id });
          this.throttledRecent.add();
        }
        return {
          result: { kind: 'rejected', status },
          commandStatus: status,
          supplierMessageId: '',
          session,
          submittedAt,
          respondedAt: new Date(),
          detail: `submit_sm_resp ${statusName(status) ?? status}`,
        };
      }
    } finally {
      this.releaseSlot(bind);
    }
  }
}

/** All connectors of this replica, keyed by id. */
export class ConnectorPool {
  private readonly runtimes = new Map<string, ConnectorRuntime>();
  private healthWaiters: Array<() => void> = [];
  private current: Membership;

  constructor(readonly opts: PoolOptions) {
    this.current = opts.membership ?? { count: 1, rank: 0 };
  }

  /** The live egress replicas as last seen (replica-registry.ts). */
  get membership(): Membership {
    return this.current;
  }

  /** Every connector re-paces and re-deals its sessions for a new set of live replicas. */
  setMembership(m: Membership): void {
    metrics.liveReplicas.set(m.count);
    if (m.count === this.current.count && m.rank === this.current.rank) return;
    this.current = m;
    for (const rt of this.runtimes.values()) rt.rescale();
  }

  get(id: string): ConnectorRuntime | undefined {
    return this.runtimes.get(id);
  }

  ids(): string[] {
    return [...this.runtimes.keys()];
  }

  /** Adds, updates or (with undefined) removes a connector. */
  async apply(id: string, next: ConnectorConfig | undefined): Promise<void> {
    const cur = this.runtimes.get(id);
    if (!next) {
      if (cur) {
        this.runtimes.delete(id);
        await cur.stop(false);
        this.opts.logger.info({ connector: id }, 'connector removed');
      }
      return;
    }
    if (cur) {
      if (cur.config.revision === next.revision && !sessionSettingsChanged(cur.config, next)) return;
      await cur.update(next);
      return;
    }
    const rt = new ConnectorRuntime(this, next);
    this.runtimes.set(id, rt);
    rt.start();
    this.opts.logger.info({ connector: redactConnector(next) }, 'connector added');
  }

  /** Replaces the whole set (start, RELOAD). */
  async replaceAll(configs: ConnectorConfig[]): Promise<void> {
    const ids = new Set(configs.map((c) => c.id));
    for (const id of this.ids()) if (!ids.has(id)) await this.apply(id, undefined);
    for (const c of configs) await this.apply(c.id, c);
  }

  notifyHealth(): void {
    const w = this.healthWaiters;
    this.healthWaiters = [];
    for (const f of w) f();
  }

  /** Resolves when any connector's bound state changes, or after `ms`. */
  waitHealthChange(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve();
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.healthWaiters.push(done);
    });
  }

  async stop(abrupt: boolean): Promise<void> {
    const all = [...this.runtimes.values()];
    this.runtimes.clear();
    await Promise.all(all.map((r) => r.stop(abrupt)));
  }
}
