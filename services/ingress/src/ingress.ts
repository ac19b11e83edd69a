import { v7 as uuidv7 } from 'uuid';
import type { Pool } from 'pg';
import { ResourceKind, type SmsInbound, type topics as topicRegistry } from '@smshub/contracts';
import { ProduceOutcomeUnknownError, type TypedConsumer, type TypedProducer } from '@smshub/kafka';
import { maskNumber, type Logger } from '@smshub/logging';
import {
  CommandStatus as S,
  createSmppServer,
  statusName,
  validateQuerySm,
  type BindDecision,
  type BindType,
  type Pdu,
  type RequestHandler,
  type ResponseSpec,
  type SmppServer,
  type SmppSession,
} from '@smshub/smpp';
import { AccountStore, normaliseIp } from './accounts.js';
import { BindAuthenticator, DEFAULT_BIND_AUTH, type BindAuthOptions } from './bind-auth.js';
import { BindGuard, DEFAULT_BIND_GUARD, type BindGuardOptions } from './bind-guard.js';
import { PgGuardStore } from './bind-guard-store.js';
import { BindRegistry } from './bind-registry.js';
import { ReceiptDispatcher, type DispatcherOptions } from './dispatcher.js';
import { CustomerIdAllocator, pgBlockSource } from './customer-id.js';
import { newMessageId } from './message-id.js';
import * as m from './metrics.js';
import { buildReceipt, messageStateOf, wantsReceipt, type PendingReceipt } from './receipts.js';
import { buildInboundDelivery } from './inbound-mo.js';
import {
  isTransientDbError,
  receiptKey,
  ReceiptStore,
  stateExpiry,
  type MessageStateUpdate,
  type ReceiptAck,
} from './receipt-store.js';
import { AcceptedStates, DEFAULT_ACCEPTED_STATES } from './accepted-states.js';
import { queryResponse } from './query.js';
import { cancelRequest, heldQueryResponse, RecentlyHeld, replaceRequest, type HeldMessages } from './held.js';
import { SellRateCache } from './sell-rates.js';
import { buildSubmitted, checkSubmit, ConcatGroups, type SessionInfo } from './submit.js';
import { encodeSubmitted } from './submitted-encoder.js';
import { BalanceCache, Throttles } from '@smshub/quota';
import { ClusterShares } from './limits.js';

export interface IngressOptions {
  /** Replica name (pod name): in events, claim leases and the per-replica config group. */
  replicaId: string;
  smppHost: string;
  /** Plain TCP port (0 = any free port). */
  smppPort: number;
  /** TLS listener; omitted = none. */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
  /** Group that consumes sms.delivery.v1 (shared by all replicas). */
  deliveryGroupId: string;
  /**
   * A fetch of sms.delivery.v1 waits until the broker holds `minBytes` for it or `maxWaitMs` have passed:
   * under a paced flow, one fetch then carries many events (stored with one statement each per round)
   * instead of the few that arrived since the last one. The receipt waits up to `maxWaitMs` longer.
   */
  deliveryFetch: { minBytes: number; maxWaitMs: number };
  /** Prefix of the per-replica config.changes.v1 group (`<prefix>-<replicaId>`). */
  configGroupPrefix: string;
  /**
   * Prefix of the balances.v1 group (`<prefix>-<replicaId>-<start id>`): a fresh group per process start,
   * read from the beginning, so every replica rebuilds the whole credit cache from the compacted topic.
   */
  balancesGroupPrefix: string;
  /** Refuse submits of accounts that balances.v1 marks blocked (out of credit) with ESME_RSUBMITFAIL. */
  creditCheck: boolean;
  /** Failed-bind guard (bind-guard.ts); its counters are in PostgreSQL, shared by the replicas. */
  bindGuard: Partial<BindGuardOptions>;
  /** Bounds and verification pool of binds (bind-auth.ts). */
  bindAuth: Partial<BindAuthOptions>;
  idleTimeoutMs: number;
  bindTimeoutMs: number;
  /** Server-wide cap of in-flight inbound requests per session; the account's max_window applies below it. */
  inboundWindowCap: number;
  /** Answer for a submit beyond the window: ESME_RTHROTTLED (default) or ESME_RMSGQFUL. */
  overWindowStatus: number;
  /** Submits waiting for Kafka's acknowledgement on this replica beyond which new ones get ESME_RMSGQFUL. */
  maxPendingProduces: number;
  receipts: DispatcherOptions;
  /** query_sm state is kept this long after the last event. */
  stateRetentionMs: number;
  /** What an acknowledged receipt's row becomes (INGRESS_RECEIPT_ACK; receipt-store.ts). */
  receiptAck: ReceiptAck;
  /** Full account reload period, on top of config.changes.v1 (belt and braces). */
  accountReloadMs: number;
  /** Shutdown: how long in-flight submits and unbinds may take. */
  shutdownGraceMs: number;
}

export const DEFAULT_OPTIONS: Omit<IngressOptions, 'replicaId' | 'smppPort'> = {
  // Loopback, like every listener by default (SMPP_HOST in config.ts; deployments set 0.0.0.0).
  smppHost: '127.0.0.1',
  deliveryGroupId: 'smshub-ingress',
  deliveryFetch: { minBytes: 64 * 1024, maxWaitMs: 50 },
  configGroupPrefix: 'smshub-ingress-config',
  balancesGroupPrefix: 'smshub-ingress-balances',
  creditCheck: true,
  bindGuard: {},
  bindAuth: {},
  idleTimeoutMs: 120_000,
  bindTimeoutMs: 30_000,
  inboundWindowCap: 200,
  overWindowStatus: S.ESME_RTHROTTLED,
  maxPendingProduces: 20_000,
  receipts: {
    replicaId: '',
    leaseMs: 60_000,
    pollMs: 1000,
    retryBaseMs: 5_000,
    maxRetryMs: 300_000,
    responseTimeoutMs: 30_000,
    batch: 100,
    markDelayMs: 50,
    housekeepingMs: 30_000,
  },
  stateRetentionMs: 3 * 24 * 3600_000,
  receiptAck: 'delete',
  accountReloadMs: 5 * 60_000,
  shutdownGraceMs: 10_000,
};

export interface IngressDeps {
  options: IngressOptions;
  logger: Logger;
  producer: TypedProducer;
  /** Creates a consumer group member (main.ts: ctx.consumer; tests: a TypedConsumer on isolated topics). */
  consumer(opts: {
    groupId: string;
    fromBeginning: boolean;
    partitionsConsumedConcurrently?: number;
    minBytes?: number;
    maxWaitMs?: number;
  }): Promise<TypedConsumer>;
  pool: Pool;
  topics: typeof topicRegistry;
  /** Log unmasked numbers (LOG_DEBUG_NUMBERS). */
  debugNumbers?: boolean;
  /**
   * Messages the hub holds (services/scheduler): query_sm, cancel_sm, replace_sm of scheduled messages.
   * Omitted: cancel_sm and replace_sm are refused (ESME_RCANCELFAIL / ESME_RREPLACEFAIL).
   */
  held?: HeldMessages;
}

interface SessionState {
  info: SessionInfo;
  /** Accepted submits waiting for Kafka on this session. */
  inflight: number;
  /** Metric label of the account: its id, not its system_id (a credential). */
  accountId: string;
  /** smshub_ingress_submits_total{account, status="ESME_ROK"}, looked up once per session, not per message. */
  accepted: { inc(): void };
}

/** A submit that passed every check, encoded, not yet on Kafka. */
interface Admitted {
  messageId: string;
  /** The sms.submitted.v1 record value. */
  bytes: Buffer;
  destination: string | undefined;
  /** The id the submit_sm_resp carries (account's message_id_format): the hub id or a number. */
  customerMessageId: string;
  /** Scheduled (schedule_delivery_time in the future): held by services/scheduler (sms.scheduled.v1). */
  held: boolean;
}

export interface Ingress {
  start(): Promise<{ port: number; tlsPort?: number }>;
  /** Graceful: stop binds, answer in-flight submits, unbind everyone, stop consumers and the dispatcher. */
  stop(): Promise<void>;
  readonly accounts: AccountStore;
  readonly sellRates: SellRateCache;
  readonly servers: SmppServer[];
}

class RetriableError extends Error {
  readonly retriable = true;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createIngress(deps: IngressDeps): Ingress {
  const opts = deps.options;
  const log = deps.logger.child({ component: 'ingress', replica: opts.replicaId });
  const { producer, pool, topics } = deps;
  const accounts = new AccountStore(pool);
  const sellRates = new SellRateCache(pool);
  const guardOptions = { ...DEFAULT_BIND_GUARD, ...opts.bindGuard };
  const guardStore = new PgGuardStore(pool, guardOptions);
  const auth = new BindAuthenticator({
    accounts,
    guard: new BindGuard(guardStore, guardOptions),
    options: { ...DEFAULT_BIND_AUTH, ...opts.bindAuth },
    logger: log,
  });
  let sweepTimer: NodeJS.Timeout | null = null;
  const throttles = new Throttles();
  const groups = new ConcatGroups();
  const balances = new BalanceCache();
  const store = new ReceiptStore(pool, opts.receiptAck);
  const recentlyHeld = new RecentlyHeld();
  const acceptedStates = new AcceptedStates(
    store,
    { ...DEFAULT_ACCEPTED_STATES, retentionMs: opts.stateRetentionMs },
    log,
  );
  // tps_limit across replicas: this replica's share follows its binds of the account (limits.ts).
  const shares = new ClusterShares();
  /** Submit-capable binds of each system_id on this replica. */
  const submitBinds = new Map<string, number>();
  const registry = new BindRegistry(pool, opts.replicaId, undefined, (rows) => shares.update(rows));
  // Numeric customer ids (message_id_format decimal/hex) from blocks of a sequence, reserved ahead of need.
  const customerIds = new CustomerIdAllocator(pgBlockSource(pool), undefined, (err) =>
    log.warn({ err: err.message }, 'could not reserve numeric customer message ids'),
  );
  const dispatcher = new ReceiptDispatcher(pool, store, { ...opts.receipts, replicaId: opts.replicaId }, log);
  const bound = new Map<string, Set<SmppSession>>();
  const mask = (n: string | undefined): string => maskNumber(n ?? '', deps.debugNumbers);
  let pendingProduces = 0;
  let inflightSubmits = 0;
  let draining = false;
  const consumers: TypedConsumer[] = [];
  let reloadTimer: NodeJS.Timeout | null = null;

  const stateOf = (s: SmppSession): SessionState | undefined => s.context.ingress as SessionState | undefined;

  // ------------------------------------------------------------------ binds
  async function onBind(session: SmppSession, pdu: Pdu & { bindType: BindType }): Promise<BindDecision> {
    const ip = normaliseIp(session.remoteAddress);
    const systemId = pdu.system_id ?? '';
    const blog = log.child({ systemId, ip, bindType: pdu.bindType });
    if (draining) return { status: S.ESME_RBINDFAIL };
    const r = await auth.authenticate(ip, pdu);
    if (r.status === S.ESME_ROK && (bound.get(systemId)?.size ?? 0) >= r.account!.maxBinds) {
      r.status = S.ESME_RBINDFAIL;
      r.reason = `max binds (${r.account!.maxBinds}) reached`;
    }
    if (r.status !== S.ESME_ROK) {
      m.bindFailures.inc({ status: statusName(r.status) });
      blog.warn({ reason: r.reason, status: statusName(r.status) }, 'bind refused');
      return { status: r.status };
    }
    const account = r.account!;
    const info: SessionInfo = {
      replica: opts.replicaId,
      sessionId: uuidv7(),
      systemId,
      bindType: pdu.bindType,
      remoteAddress: `${ip}:${session.socket.remotePort ?? 0}`,
      interfaceVersion: pdu.interface_version ?? 0x34,
    };
    // max_binds across replicas. If Postgres cannot answer, the local count (checked above) decides:
    // a database outage must not lock every customer out.
    let registered = false;
    try {
      registered = await registry.acquire(
        { sessionId: info.sessionId, systemId, bindType: pdu.bindType, remote: info.remoteAddress },
        account.maxBinds,
      );
      if (!registered) {
        m.bindFailures.inc({ status: 'ESME_RBINDFAIL' });
        blog.warn({ maxBinds: account.maxBinds }, 'bind refused: max binds reached across replicas');
        return { status: S.ESME_RBINDFAIL };
      }
    } catch (err) {
      blog.warn(
        { err: (err as Error).message },
        'bind registry unavailable; max_binds checked on this replica only',
      );
    }
    const unregister = (): void => {
      if (registered) void registry.release(info.sessionId).catch(() => undefined);
      registered = false;
    };
    // The other replicas' binds of the account as of now, for this replica's TPS share (not awaited).
    if (registered) void registry.refreshOthers().catch(() => undefined);
    if (session.state !== 'OPEN') {
      unregister();
      return { status: S.ESME_RBINDFAIL };
    }
    const set = bound.get(systemId) ?? new Set<SmppSession>();
    set.add(session);
    bound.set(systemId, set);
    m.binds.inc({ account: account.id });
    const submits = pdu.bindType !== 'receiver';
    if (submits) submitBinds.set(systemId, (submitBinds.get(systemId) ?? 0) + 1);
    const forget = (): void => {
      if (set.delete(session)) {
        m.binds.dec({ account: account.id });
        if (submits) submitBinds.set(systemId, (submitBinds.get(systemId) ?? 1) - 1);
      }
      if (set.size === 0 && bound.get(systemId) === set) bound.delete(systemId);
      unregister();
    };
    session.once('close', forget);
    session.context.ingress = {
      info,
      inflight: 0,
      accountId: account.id,
      accepted: m.submits.labels({ account: account.id, status: 'ESME_ROK' }),
    } satisfies SessionState;
    session.once('bound', (bindType) => {
      blog.info({ sessionId: info.sessionId }, 'bound');
      if (bindType === 'receiver' || bindType === 'transceiver') dispatcher.addReceiver(systemId, session);
    });
    return { status: S.ESME_ROK, systemId: 'smshub' };
  }

  // ------------------------------------------------------------------ submits
  /**
   * submit_sm / data_sm. Every refusal is decided synchronously and answered without a promise; only an
   * accepted message waits, for Kafka's acks=all acknowledgement, before its submit_sm_resp.
   */
  const accept: RequestHandler = (pdu, session) => {
    const st = stateOf(session);
    if (!st) return refused('', S.ESME_RINVBNDSTS);
    const started = performance.now();
    const admitted = admit(pdu, st);
    if (typeof admitted === 'number') return refused(st.accountId, admitted);
    return produceAccepted(st, admitted, started, session);
  };

  /** `accountId`: the metric label ('' before a bind). */
  function refused(accountId: string, status: number): ResponseSpec {
    m.submits.inc({ account: accountId, status: statusName(status) });
    return { status };
  }

  /** The checks of a submit, in order: the refusal status, or the encoded event of an accepted message. */
  function admit(pdu: Pdu, st: SessionState): number | Admitted {
    const systemId = st.info.systemId;
    if (draining) return S.ESME_RTHROTTLED;
    const account = accounts.get(systemId);
    if (!account || !account.enabled) return S.ESME_RSUBMITFAIL;
    // This submit counts as outstanding on the session: more than max_window of them are refused.
    if (st.inflight + 1 > account.maxWindow) {
      m.throttled.inc({ account: account.id });
      return opts.overWindowStatus;
    }
    const now = new Date();
    const checked = checkSubmit(pdu, account, st.info.interfaceVersion, now);
    if (!checked.ok) {
      if (log.isLevelEnabled('debug'))
        log.debug(
          {
            systemId,
            status: statusName(checked.status),
            reason: checked.reason,
            dst: mask(pdu.destination_addr),
          },
          'submit refused',
        );
      return checked.status;
    }
    if (opts.creditCheck && balances.blocked(account.id)) {
      log.debug({ systemId }, 'submit refused: account out of credit');
      return S.ESME_RSUBMITFAIL;
    }
    // After the credit check: an account out of credit hears that first (ESME_RSUBMITFAIL).
    if (
      account.refuseUnrated &&
      !sellRates.priced(
        {
          accountId: account.id,
          pricePlanId: account.pricePlanId,
          defaultCountry: account.defaultCountry,
          address: pdu.destination_addr ?? '',
          ton: pdu.dest_addr_ton ?? 0,
        },
        now.getTime(),
      )
    ) {
      m.unrated.inc({ account: account.id });
      log.debug({ systemId, dst: mask(pdu.destination_addr) }, 'submit refused: no sell rate applies');
      return S.ESME_RINVDSTADR;
    }
    const rate = shares.rate(systemId, account.tpsLimit, submitBinds.get(systemId) ?? 0);
    if (!throttles.tryTake(account.id, rate, now.getTime())) {
      m.throttled.inc({ account: account.id });
      return S.ESME_RTHROTTLED;
    }
    if (pendingProduces >= opts.maxPendingProduces) return S.ESME_RMSGQFUL;
    const messageId = newMessageId(now.getTime());
    const customerMessageId = customerIds.next(messageId, account.messageIdFormat);
    // No numeric id could be reserved (PostgreSQL unreachable for the time half a block takes): retry later.
    if (customerMessageId === undefined) return S.ESME_RMSGQFUL;
    const c = checked.content.concat;
    const groupId = c
      ? groups.groupId(
          `${account.id}|${pdu.source_addr}|${pdu.destination_addr}|${c.refBits}|${c.ref}|${c.total}`,
          messageId,
        )
      : undefined;
    const event = buildSubmitted({
      pdu,
      checked,
      account,
      session: st.info,
      messageId,
      customerMessageId,
      groupId,
      now,
    });
    const held = event.holdUntil !== undefined;
    return {
      messageId,
      customerMessageId,
      bytes: encodeSubmitted(event),
      destination: pdu.destination_addr,
      held,
    };
  }

  /**
   * Answers an accepted message once Kafka has it (acks=all); ESME_RSYSERR only when it was certainly not
   * written (the producer has definite outcomes: see durable-accept.ts and the README's "durable accept").
   */
  async function produceAccepted(
    st: SessionState,
    msg: Admitted,
    started: number,
    session: SmppSession,
  ): Promise<ResponseSpec> {
    const systemId = st.info.systemId;
    inflightSubmits++;
    st.inflight++;
    pendingProduces++;
    try {
      // Keyed and traced by the hub message id, as the topic's codec would (the bytes are its encoding).
      // A scheduled message goes to the scheduler, which releases it onto sms.submitted.v1 at its time.
      const topic = msg.held ? topics.scheduled.name : topics.submitted.name;
      await producer.produceRaw(topic, msg.messageId, msg.bytes);
    } catch (err) {
      if (err instanceof ProduceOutcomeUnknownError) {
        // Shutting down while Kafka had not answered: it may be sent, so no error answer; no answer at all.
        log.error(
          { systemId, messageId: msg.messageId },
          'outcome unknown at shutdown; session closed unanswered',
        );
        session.destroy();
        return new Promise<never>(() => undefined);
      }
      log.error(
        { systemId, messageId: msg.messageId, err: (err as Error).message },
        'Kafka did not take the message; answered ESME_RSYSERR',
      );
      return refused(st.accountId, S.ESME_RSYSERR);
    } finally {
      pendingProduces--;
      inflightSubmits--;
      st.inflight--;
    }
    st.accepted.inc();
    // The id this submit_sm_resp carries (the hub id; see message_id_format) and the hub id.
    acceptedStates.add(systemId, msg.customerMessageId, msg.messageId);
    if (msg.held) recentlyHeld.add(systemId, msg.customerMessageId);
    m.submitLatency.observe((performance.now() - started) / 1000);
    if (log.isLevelEnabled('debug'))
      log.debug({ systemId, messageId: msg.messageId, dst: mask(msg.destination) }, 'accepted');
    return { fields: { message_id: msg.customerMessageId } };
  }

  const querySm: RequestHandler = async (pdu, session) => {
    const st = stateOf(session);
    if (!st) return { status: S.ESME_RINVBNDSTS };
    const v = validateQuerySm(pdu);
    if (v) return { status: v };
    const id = pdu.message_id ?? '';
    let row;
    try {
      row = await store.queryState(st.info.systemId, id);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'query_sm lookup failed');
      const known = acceptedStates.known(st.info.systemId, id);
      return known ? queryResponse(id, known) : { status: S.ESME_RSYSERR };
    }
    // Not final here: it may be held by the scheduler (SCHEDULED), cancelled or expired there.
    if (deps.held && !row?.finalDate) {
      try {
        const answer = heldQueryResponse(
          id,
          await deps.held.get(st.info.systemId, id),
          st.info.interfaceVersion,
        );
        if (answer) return answer;
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'query_sm: scheduler unavailable; answered from ingress');
      }
    }
    // Accepted here a moment ago, its row not written yet: ENROUTE.
    return queryResponse(id, row ?? acceptedStates.known(st.info.systemId, id));
  };

  /** cancel_sm of held messages (held.ts). */
  const cancelSm: RequestHandler = async (pdu, session) => {
    const st = stateOf(session);
    if (!st) return { status: S.ESME_RINVBNDSTS };
    const req = cancelRequest(pdu, st.info.systemId);
    if (typeof req === 'number') return { status: req };
    if (!deps.held) return { status: S.ESME_RCANCELFAIL };
    try {
      const held = deps.held;
      const ids = await recentlyHeld.retry(
        req.systemId,
        req.messageId,
        () => held.cancel(req),
        (r) => r.length > 0,
      );
      return ids.length > 0 ? {} : { status: S.ESME_RCANCELFAIL };
    } catch (err) {
      log.error({ err: (err as Error).message }, 'cancel_sm: scheduler unavailable');
      return { status: S.ESME_RSYSERR };
    }
  };

  /** replace_sm of a held message (held.ts). */
  const replaceSm: RequestHandler = async (pdu, session) => {
    const st = stateOf(session);
    if (!st) return { status: S.ESME_RINVBNDSTS };
    const req = replaceRequest(pdu, st.info.systemId, new Date());
    if (typeof req === 'number') return { status: req };
    if (!deps.held) return { status: S.ESME_RREPLACEFAIL };
    try {
      const held = deps.held;
      const replaced = await recentlyHeld.retry(
        req.systemId,
        req.messageId,
        () => held.replace(req),
        (r) => r !== undefined,
      );
      return replaced ? {} : { status: S.ESME_RREPLACEFAIL };
    } catch (err) {
      log.error({ err: (err as Error).message }, 'replace_sm: scheduler unavailable');
      return { status: S.ESME_RSYSERR };
    }
  };

  const serverOptions = {
    onBind,
    handlers: {
      submit_sm: accept,
      data_sm: accept,
      query_sm: querySm,
      cancel_sm: cancelSm,
      replace_sm: replaceSm,
    },
    idleTimeoutMs: opts.idleTimeoutMs,
    bindTimeoutMs: opts.bindTimeoutMs,
    inboundWindow: opts.inboundWindowCap,
    overWindowStatus: opts.overWindowStatus,
    responseTimeoutMs: opts.receipts.responseTimeoutMs,
    logger: log,
  };
  const servers: SmppServer[] = [createSmppServer(serverOptions)];
  if (opts.tls)
    servers.push(createSmppServer({ ...serverOptions, tls: { cert: opts.tls.cert, key: opts.tls.key } }));

  // ------------------------------------------------------------------ consumers
  function enforceAccounts(): void {
    auth.accountsChanged();
    for (const [systemId, set] of bound) {
      const a = accounts.get(systemId);
      if (a && a.enabled) continue;
      for (const s of set) {
        log.warn({ systemId }, 'account removed or disabled; unbinding its session');
        void s.close();
      }
    }
  }

  /**
   * A consumed batch of sms.delivery.v1 (one partition's fetch): every message's state and every receipt
   * asked for are stored with one statement each, before the batch's offsets are committed (store and
   * forward). A failing batch is retried whole, then record by record (libs/kafka), so one poison event
   * cannot hold the rest back.
   */
  async function onDeliveries(ds: readonly import('@smshub/contracts').SmsDelivery[]): Promise<void> {
    const now = new Date();
    const states: MessageStateUpdate[] = [];
    const receipts: PendingReceipt[] = [];
    for (const d of ds) {
      const ctx = d.context;
      if (!ctx?.messageId || !ctx.systemId) continue;
      let receipt: PendingReceipt | undefined;
      if (wantsReceipt(d)) {
        const validity = accounts.get(ctx.systemId)?.defaultValiditySeconds ?? 172_800;
        receipt = buildReceipt(d, validity, now);
        receipts.push(receipt);
      }
      states.push({
        systemId: ctx.systemId,
        customerMessageId: ctx.customerMessageId || ctx.messageId,
        messageId: ctx.messageId,
        messageState: messageStateOf(d.status),
        finalDate: d.final ? (d.doneAt ?? d.updatedAt ?? now) : null,
        errorCode: Math.min(255, d.error?.receiptError ?? 0),
        revision: d.revision,
        expiresAt: stateExpiry(now.getTime() + opts.stateRetentionMs, receipt),
      });
    }
    try {
      await storeTogether(states, receipts);
    } catch (err) {
      if (isTransientDbError(err))
        throw new RetriableError(`database unavailable: ${(err as Error).message}`);
      throw err;
    }
  }

  /**
   * A consumed batch of sms.inbound.v1: each MO becomes a stored deliver_sm (esm_class 0) for the account's
   * receiver/transceiver binds, stored before the offsets commit, idempotent on the MO's id.
   */
  async function onInbound(records: readonly SmsInbound[]): Promise<void> {
    const now = new Date();
    const rows: PendingReceipt[] = [];
    for (const mo of records) {
      const account = mo.messageId ? accounts.byId(mo.accountId) : undefined;
      if (!account) {
        m.moNoAccount.inc();
        log.warn(
          { messageId: mo.messageId, accountId: mo.accountId },
          'inbound message for an unknown account',
        );
        continue;
      }
      rows.push(buildInboundDelivery(mo, account.systemId, account.defaultValiditySeconds, now));
    }
    try {
      await storeTogether([], rows);
      m.moStored.inc(rows.length);
    } catch (err) {
      if (isTransientDbError(err))
        throw new RetriableError(`database unavailable: ${(err as Error).message}`);
      throw err;
    }
  }

  /**
   * The batches of the partitions consumed together (one fetch) reach here in the same event-loop turn:
   * they are written together, in one statement for all their states and receipts (one commit). Every
   * batch waits for (and fails with) the common write, so each is committed only once it is stored.
   */
  let nextWrite: { states: MessageStateUpdate[]; receipts: PendingReceipt[]; written: Promise<void> } | null =
    null;
  function storeTogether(states: MessageStateUpdate[], receipts: PendingReceipt[]): Promise<void> {
    if (!nextWrite) {
      const write = { states, receipts, written: Promise.resolve() };
      write.written = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        nextWrite = null;
        // Receipts of a receiver bound here are inserted claimed by this replica and sent at once (no
        // claim statement); the others wait for whichever replica has one (notification, claim loop).
        let room = dispatcher.directRoom();
        const mine = write.receipts.map((r) => {
          const here = room > 0 && dispatcher.canSend(r.systemId);
          if (here) room--;
          return here;
        });
        const claim = { replica: opts.replicaId, leaseMs: opts.receipts.leaseMs, mine };
        const { inserted, claimed } = await store.storeBatch(write.states, write.receipts, claim);
        const direct = claimed.size;
        if (direct > 0)
          dispatcher.sendClaimed(
            // A receipt twice in the batch (a redelivered event) is one row: sent once.
            write.receipts.filter((r) => claimed.delete(receiptKey(r))).map((r) => ({ ...r, attempts: 1 })),
          );
        if (inserted > direct) dispatcher.kick();
      });
      nextWrite = write;
      return write.written;
    }
    nextWrite.states.push(...states);
    nextWrite.receipts.push(...receipts);
    return nextWrite.written;
  }

  return {
    accounts,
    sellRates,
    servers,
    async start() {
      // Config first: a per-replica group from "latest", assigned before the full load, so no change
      // committed after the load can be missed.
      const config = await deps.consumer({
        groupId: `${opts.configGroupPrefix}-${opts.replicaId}`,
        fromBeginning: false,
      });
      consumers.push(config);
      config.on(topics.configChanges, async (rec) => {
        if (rec.value.kind === ResourceKind.RESOURCE_KIND_RATE) {
          await sellRates.reload();
          log.info({ sellRates: sellRates.size, change: rec.value.changeId }, 'sell rates reloaded');
          return;
        }
        if (rec.value.kind !== ResourceKind.RESOURCE_KIND_ACCOUNT) return;
        await accounts.reload();
        log.info({ accounts: accounts.size, change: rec.value.changeId }, 'accounts reloaded');
        enforceAccounts();
      });
      const assigned = config.waitForAssignment();
      await config.start();
      await assigned;
      await Promise.all([accounts.reload(), sellRates.reload()]);
      log.info({ accounts: accounts.size, sellRates: sellRates.size }, 'accounts and sell rates loaded');
      auth.accountsChanged();
      sweepTimer = setInterval(() => void guardStore.sweep().catch(() => undefined), 10 * 60_000);
      sweepTimer.unref();
      reloadTimer = setInterval(() => {
        accounts.reload().then(enforceAccounts, (err: unknown) => log.warn({ err }, 'account reload failed'));
        sellRates.reload().catch((err: unknown) => log.warn({ err }, 'sell rate reload failed'));
      }, opts.accountReloadMs);
      reloadTimer.unref();

      if (opts.creditCheck) {
        const credit = await deps.consumer({
          groupId: `${opts.balancesGroupPrefix}-${opts.replicaId}-${uuidv7()}`,
          fromBeginning: true,
        });
        consumers.push(credit);
        credit.on(topics.balances, (rec) => {
          if (balances.apply(rec.value) && rec.value.blocked)
            log.info({ accountId: rec.value.accountId }, 'account blocked for credit');
        });
        const creditAssigned = credit.waitForAssignment();
        await credit.start();
        await creditAssigned;
      }

      // From the beginning when the group has no offsets yet (a new hub): "latest" would skip every
      // delivery published before this group's first commit, e.g. while the first ingress was down.
      const delivery = await deps.consumer({
        groupId: opts.deliveryGroupId,
        fromBeginning: true,
        partitionsConsumedConcurrently: topics.delivery.partitions,
        minBytes: opts.deliveryFetch.minBytes,
        maxWaitMs: opts.deliveryFetch.maxWaitMs,
      });
      consumers.push(delivery);
      delivery.onBatch(topics.delivery, (recs) => onDeliveries(recs.map((rec) => rec.value)));
      delivery.onBatch(topics.inbound, (recs) => onInbound(recs.map((rec) => rec.value)));
      await delivery.start();
      await dispatcher.start();
      await registry.start();
      await customerIds.start();

      const plain = await servers[0]!.listen(opts.smppPort, opts.smppHost);
      const out: { port: number; tlsPort?: number } = { port: plain.port };
      if (opts.tls) out.tlsPort = (await servers[1]!.listen(opts.tls.port, opts.smppHost)).port;
      log.info(out, 'SMPP listening');
      return out;
    },
    async stop() {
      draining = true;
      // No new connections (net.Server.close stops accepting at once; its callback only comes once every
      // connection has ended, which SmppServer.close below waits for). Binds in progress are refused.
      for (const s of servers) s.server.close();
      const deadline = Date.now() + opts.shutdownGraceMs;
      while (inflightSubmits > 0 && Date.now() < deadline) await sleep(20);
      await Promise.all(servers.map((s) => s.close({ graceMs: Math.max(500, deadline - Date.now()) })));
      if (reloadTimer) clearInterval(reloadTimer);
      if (sweepTimer) clearInterval(sweepTimer);
      await acceptedStates.stop();
      await dispatcher.stop();
      await registry.stop();
      await Promise.all(consumers.map((c) => c.stop()));
      log.info({}, 'ingress stopped');
    },
  };
}
