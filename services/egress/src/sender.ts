import {
  BindType,
  DispatchOutcome,
  type MessageContext,
  type SmppSession as SessionRef,
  type SmsDispatched,
  type SmsRouted,
  type topics as registry,
} from '@smshub/contracts';
import type { TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import { ESM_CLASS_UDHI, parseUdh, type SmppSession } from '@smshub/smpp';
import type { ConnectorPool, ConnectorRuntime, SubmitOutcome } from './connector-pool.js';
import { normaliseSupplierId, type ConnectorConfig } from './domain/connector.js';
import { onDelivery, type PartRecord } from './domain/dedupe.js';
import { decide, type AttemptResult, type RetryPolicy } from './domain/failover.js';
import { planSubmit, type SubmitPlan } from './domain/translate.js';
import { sleep } from './domain/token-bucket.js';
import { partKey, type DispatchStore, type PartKey, type PartWrite } from './dispatch-store.js';
import { metrics } from './metrics.js';

export interface SenderOptions {
  pool: ConnectorPool;
  store: DispatchStore;
  producer: TypedProducer;
  topics: Pick<typeof registry, 'dispatched'>;
  logger: Logger;
  replica: string;
  retry: RetryPolicy;
  /** How long to wait for any candidate to be bound before failing the part NOT_SENT. */
  unavailableWaitMs: number;
  /** Aborted by shutdown/crash: every wait ends and nothing more is written for in-flight parts. */
  signal: AbortSignal;
  /**
   * Aborted when a graceful stop begins (and by a crash): no new attempt starts, waits for a window slot,
   * a token, a bound session or a retry's backoff end, so the batch ends within one response time. Parts
   * already claimed are written and their answers recorded (until `signal` aborts). Default: `signal`.
   */
  stopping?: AbortSignal;
  /**
   * A part whose claim another replica holds ("sending"): how long to wait for that attempt's outcome
   * before reporting it unknown, as for a crash (default 30 s).
   */
  heldClaimWaitMs?: number;
}

/** The part's "sending" row is held by another replica (or an earlier copy): this caller must not send. */
class ClaimLostError extends Error {
  constructor() {
    super('part claimed elsewhere');
    this.name = 'ClaimLostError';
  }
}

/** The handler was interrupted by shutdown: the consumer must redeliver the record (not dead-letter it). */
export class InterruptedError extends Error {
  readonly retriable = true;
  constructor() {
    super('egress stopping: record left for redelivery');
    this.name = 'InterruptedError';
  }
}

const BIND_TYPES: Record<string, BindType> = {
  transmitter: BindType.BIND_TYPE_TRANSMITTER,
  receiver: BindType.BIND_TYPE_RECEIVER,
  transceiver: BindType.BIND_TYPE_TRANSCEIVER,
};

/** SessionRef per session (the peer address is a system call each time it is read). */
const sessionRefs = new WeakMap<SmppSession, SessionRef>();

export function sessionRef(
  replica: string,
  systemId: string,
  s: SmppSession | undefined,
): SessionRef | undefined {
  if (!s) return undefined;
  const known = sessionRefs.get(s);
  if (
    known &&
    known.replica === replica &&
    known.systemId === systemId &&
    known.interfaceVersion === (s.peerInterfaceVersion ?? 0)
  )
    return known;
  const ref: SessionRef = {
    replica,
    sessionId: s.id,
    systemId,
    bindType: BIND_TYPES[s.bindType ?? ''] ?? BindType.BIND_TYPE_UNSPECIFIED,
    remoteAddress: `${s.socket.remoteAddress ?? ''}:${s.socket.remotePort ?? ''}`,
    interfaceVersion: s.peerInterfaceVersion ?? 0,
  };
  // Only once the address is known (a socket that is not connected yet has none).
  if (s.socket.remoteAddress) sessionRefs.set(s, ref);
  return ref;
}

/** MessageContext of a routed message (what dlr and rating need downstream). */
export function messageContext(routed: SmsRouted): MessageContext {
  const m = routed.message!;
  let ud: Buffer = Buffer.from(m.shortMessage);
  if ((m.esmClass & ESM_CLASS_UDHI) !== 0) {
    const u = parseUdh(ud);
    if (u.ok) ud = u.payload;
  }
  return {
    messageId: m.messageId,
    accountId: m.accountId,
    systemId: m.systemId,
    customerMessageId: m.customerMessageId,
    source: m.source,
    destination: m.destination,
    registeredDelivery: m.registeredDelivery,
    dataCoding: m.dataCoding,
    trafficType: m.trafficType,
    receivedAt: m.receivedAt,
    concat: m.concat,
    destinationInfo: routed.destinationInfo,
    receiptText: ud.subarray(0, 20),
    channel: m.channel,
    validityUntil: m.validityUntil,
    // HTTP API fields (a7065a4), carried to dlr and the webhooks; unset, encoding the dispatch failed.
    callbackUrl: m.callbackUrl ?? '',
    clientReference: m.clientReference ?? '',
  };
}

/** Hub message ids are UUIDs (egress_part_dispatch.message_id is a uuid column). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A routed message checked and planned, ready to send. */
export interface PreparedMessage {
  routed: SmsRouted;
  context: MessageContext;
  /** Undefined when no candidate can carry it (`reason` says why): the message fails NOT_SENT. */
  plan?: SubmitPlan;
  reason: string;
}

function canCarry(c: ConnectorConfig, plan: SubmitPlan): boolean {
  if (!c.dataCodings.includes(plan.dataCoding) && plan.dataCoding < 0xc0) return false;
  if (plan.parts.some((p) => p.message_payload !== undefined) && c.segmentation !== 'payload') return false;
  return true;
}

/**
 * Sends one routed message: plans its parts with the first usable candidate's settings (a long message
 * keeps that segmentation across failover so the handset can reassemble it), then sends each part on
 * the first healthy candidate that can carry it, retrying/failing over per domain/failover.ts, with the
 * persisted dedupe record of domain/dedupe.ts around every submit_sm. Publishes one SmsDispatched per
 * attempt.
 */
export class Sender {
  private readonly log: Logger;
  private readonly stopping: AbortSignal;

  constructor(private readonly o: SenderOptions) {
    this.log = o.logger.child({ component: 'sender' });
    this.stopping = o.stopping ?? o.signal;
  }

  /** Before starting anything new: a stop (graceful or not) leaves the record for redelivery. */
  private check(): void {
    if (this.o.signal.aborted || this.stopping.aborted) throw new InterruptedError();
  }

  /**
   * The part's row once no live replica holds it as "sending": that replica's attempt finished (its
   * outcome decides), or it died or gave up, or heldClaimWaitMs passed (stuck): the crash rule applies.
   */
  private async settledRecord(key: PartKey): Promise<PartRecord | undefined> {
    const deadline = Date.now() + (this.o.heldClaimWaitMs ?? 30_000);
    for (;;) {
      const rec = await this.o.store.get(key);
      if (rec?.state !== 'sending' || !rec.heldByLiveReplica || Date.now() >= deadline) return rec;
      try {
        await sleep(200, this.stopping);
      } catch {
        throw new InterruptedError();
      }
    }
  }

  /**
   * Checks a routed record and plans its parts (no I/O). Throws a non-retriable error for a record that
   * can never be sent (dead-lettered by the consumer).
   */
  prepare(routed: SmsRouted): PreparedMessage {
    this.check();
    const msg = routed.message;
    if (!msg || routed.candidates.length === 0)
      throw Object.assign(new Error('routed record without message or candidates'), { retriable: false });
    if (!UUID.test(msg.messageId))
      throw Object.assign(
        new Error(`routed record with an invalid message id ${JSON.stringify(msg.messageId)}`),
        {
          retriable: false,
        },
      );
    const context = messageContext(routed);
    let reason = 'no candidate connector is configured and enabled';
    for (const c of routed.candidates) {
      const rt = this.o.pool.get(c.connectorId);
      if (!rt?.config.enabled) continue;
      const r = planSubmit(msg, rt.config);
      if (r.ok) return { routed, context, plan: r.plan, reason: '' };
      reason = r.reason;
    }
    return { routed, context, reason };
  }

  /** The dedupe rows `run` needs (read for a whole batch in one statement). */
  keys(p: PreparedMessage): PartKey[] {
    const n = p.plan ? p.plan.parts.length : 1;
    return Array.from({ length: n }, (_, i) => ({ messageId: p.context.messageId, partNumber: i + 1 }));
  }

  /** Sends one routed message on its own (reads its dedupe rows first). */
  async handle(routed: SmsRouted): Promise<void> {
    const p = this.prepare(routed);
    await this.run(p, await this.o.store.getMany(this.keys(p)));
  }

  /**
   * Sends a prepared message whose dedupe rows were read into `records` (by `partKey`; absent = never
   * recorded). Nothing else may write those rows meanwhile (the caller runs one message id at a time).
   */
  async run(p: PreparedMessage, records: Map<string, PartRecord>, fromCandidate = 0): Promise<void> {
    const { routed, context, plan } = p;
    if (!plan) {
      const key = { messageId: context.messageId, partNumber: 1 };
      const rec = records.get(partKey(key));
      if (rec?.event) return this.republish(rec.event, 'republish');
      const ev = this.event(context, 1, 1, routed.candidates[0]!.connectorId, 0, undefined, 1, {
        outcome: DispatchOutcome.DISPATCH_OUTCOME_NOT_SENT,
        finalFailure: true,
        detail: p.reason,
      });
      return this.finish(
        {
          messageId: key.messageId,
          partNumber: key.partNumber,
          partTotal: 1,
          state: 'failed',
          attempt: 1,
          connectorId: ev.connectorId,
          commandStatus: 0,
        },
        ev,
      );
    }
    // Parts of one message in order: the handset reassembles them, some SMSCs expect them in sequence.
    for (let i = 0; i < plan.parts.length; i++) {
      const key = { messageId: context.messageId, partNumber: i + 1 };
      await this.sendPart(routed, context, plan, key, records.get(partKey(key)), fromCandidate);
    }
  }

  private async republish(bytes: Buffer, action: string): Promise<void> {
    metrics.redeliveries.inc({ action });
    await this.publish(this.o.topics.dispatched.decode(bytes), bytes);
  }

  /** Publishes a dispatch event already encoded (encoded once for both the dedupe row and Kafka). */
  private publish(ev: SmsDispatched, bytes: Uint8Array): Promise<void> {
    const { dispatched } = this.o.topics;
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const messageId = ev.context?.messageId;
    return this.o.producer.produceRaw(
      dispatched.name,
      dispatched.key(ev),
      buf,
      messageId ? { messageId } : {},
    );
  }

  /**
   * Records a final state with its event, then publishes the event (in that order: see domain/dedupe.ts).
   * `row` is the caller's own literal: the event is set on it (a spread of it with the event cost more than
   * the rest of a part's bookkeeping).
   */
  private async finish(row: PartWrite, ev: SmsDispatched): Promise<void> {
    const bytes = this.o.topics.dispatched.encode(ev);
    row.event = bytes;
    await this.o.store.record(row);
    await this.publish(ev, bytes);
  }

  private event(
    context: MessageContext,
    partNumber: number,
    partTotal: number,
    connectorId: string,
    candidateIndex: number,
    out: SubmitOutcome | undefined,
    attempt: number,
    x: { outcome: DispatchOutcome; finalFailure: boolean; detail: string; normalised?: string },
  ): SmsDispatched {
    return {
      context,
      partNumber,
      partTotal,
      connectorId,
      candidateIndex,
      session: out
        ? sessionRef(this.o.replica, this.o.pool.get(connectorId)?.config.systemId ?? '', out.session)
        : undefined,
      supplierMessageId: out?.supplierMessageId ?? '',
      supplierMessageIdNormalised: x.normalised ?? '',
      commandStatus: out?.commandStatus ?? 0,
      attempt,
      submittedAt: out?.submittedAt,
      respondedAt: out?.respondedAt,
      outcome: x.outcome,
      finalFailure: x.finalFailure,
      errorDetail: x.detail,
      segments: x.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED ? 1 : 0,
      partId: partTotal > 1 ? `${context.messageId}-${partNumber}` : '',
    };
  }

  /** The first candidate from `from` on that is bound and can carry the plan; waits while none is bound. */
  private async pick(
    routed: SmsRouted,
    plan: SubmitPlan,
    from: number,
  ): Promise<{ index: number; rt: ConnectorRuntime } | undefined> {
    const deadline = Date.now() + this.o.unavailableWaitMs;
    for (;;) {
      let anyUsable = false;
      for (let i = from; i < routed.candidates.length; i++) {
        const rt = this.o.pool.get(routed.candidates[i]!.connectorId);
        if (!rt || !rt.config.enabled || !canCarry(rt.config, plan)) continue;
        anyUsable = true;
        if (rt.healthy) return { index: i, rt };
      }
      const left = deadline - Date.now();
      if (!anyUsable || left <= 0) return undefined;
      try {
        await this.o.pool.waitHealthChange(Math.min(left, 1000), this.stopping);
      } catch {
        throw new InterruptedError();
      }
    }
  }

  private async sendPart(
    routed: SmsRouted,
    context: MessageContext,
    plan: SubmitPlan,
    key: PartKey,
    rec: PartRecord | undefined,
    /** First candidate to try (a re-route order starts after the failed one). */
    fromCandidate = 0,
  ): Promise<void> {
    const { store, producer, topics } = this.o;
    const total = plan.parts.length;
    const partNumber = key.partNumber;
    // A partition that moved while its old owner is still sending: wait for that owner's outcome.
    if (rec?.state === 'sending' && rec.heldByLiveReplica) rec = await this.settledRecord(key);
    const action = onDelivery(rec);
    if (action.action === 'republish') return this.republish(action.event, 'republish');
    if (action.action === 'report_unknown') {
      metrics.redeliveries.inc({ action: 'unknown' });
      const connectorId = rec?.connectorId || routed.candidates[0]!.connectorId;
      const ev = this.event(context, partNumber, total, connectorId, 0, undefined, action.attempt, {
        outcome: DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT,
        // Final: the part is never resent, and without a supplier id no receipt can ever be matched to it,
        // so dlr ends it as UNKNOWN at once (the customer gets a final receipt instead of waiting for expiry).
        finalFailure: true,
        detail:
          'egress stopped between submit_sm and its response; not resent to avoid a duplicate (outcome unknown)',
      });
      await this.finish(
        {
          messageId: key.messageId,
          partNumber: key.partNumber,
          partTotal: total,
          state: 'unknown',
          attempt: action.attempt,
          connectorId,
          commandStatus: 0,
        },
        ev,
      );
      this.log.warn(
        { messageId: context.messageId, part: partNumber },
        'part was in flight at a previous stop; reported unknown, not resent',
      );
      return;
    }
    let attempt = action.nextAttempt;
    let from = fromCandidate;
    let retries = 0;
    let currentIndex = -1;
    const fields = plan.parts[partNumber - 1]!;
    const validUntil = routed.message?.validityUntil;
    for (;;) {
      this.check();
      let result: AttemptResult;
      let out: SubmitOutcome | undefined;
      let connectorId: string;
      let candidateIndex: number;
      if (validUntil && validUntil.getTime() <= Date.now()) {
        result = { kind: 'not_sent', reason: 'expired' };
        candidateIndex = Math.max(0, currentIndex);
        connectorId = routed.candidates[candidateIndex]!.connectorId;
      } else {
        const picked = await this.pick(routed, plan, from);
        if (!picked) {
          result = { kind: 'not_sent', reason: 'unavailable' };
          candidateIndex = Math.max(0, Math.min(from, routed.candidates.length - 1));
          connectorId = routed.candidates[candidateIndex]!.connectorId;
          from = routed.candidates.length;
        } else {
          if (picked.index !== currentIndex) retries = 0;
          currentIndex = picked.index;
          candidateIndex = picked.index;
          connectorId = picked.rt.config.id;
          const a = attempt;
          try {
            out = await picked.rt.submit(
              fields,
              this.o.signal,
              async () => {
                if (
                  !(await store.claim({
                    messageId: key.messageId,
                    partNumber: key.partNumber,
                    partTotal: total,
                    attempt: a,
                    connectorId,
                  }))
                )
                  throw new ClaimLostError();
              },
              this.stopping,
            );
          } catch (err) {
            if (err instanceof ClaimLostError) {
              // Another replica holds this part (a partition moved while its old owner was still sending):
              // its attempt's outcome decides, never a second submit_sm from here.
              metrics.redeliveries.inc({ action: 'claim_lost' });
              const now = await this.o.store.get(key);
              this.log.info(
                { messageId: context.messageId, part: partNumber, state: now?.state },
                'part claimed by another replica; not sent here',
              );
              return this.sendPart(routed, context, plan, key, now, fromCandidate);
            }
            if (this.o.signal.aborted || this.stopping.aborted) throw new InterruptedError();
            throw err;
          }
          // Crash, or a graceful stop past its drain, while the submit was in flight: write nothing more;
          // "sending" stays for the next owner. A graceful stop still within its drain records the answer.
          if (this.o.signal.aborted) throw new InterruptedError();
          if (!out) continue; // the last bound session went away between pick and submit: pick again
          result = out.result;
        }
      }
      const hasNext = candidateIndex + 1 < routed.candidates.length && from < routed.candidates.length;
      const d = decide(result, retries, hasNext, this.o.retry);
      if (d.action === 'next_candidate') this.o.pool.get(connectorId)?.noteFailover();
      const conn = this.o.pool.get(connectorId)?.config;
      if (d.action === 'done' && out) {
        const normalised =
          out.supplierMessageId && conn
            ? normaliseSupplierId(out.supplierMessageId, conn.messageIdFormat, 'resp')
            : out.supplierMessageId;
        const ev = this.event(context, partNumber, total, connectorId, candidateIndex, out, attempt, {
          outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
          finalFailure: false,
          detail: '',
          normalised,
        });
        return this.finish(
          {
            messageId: key.messageId,
            partNumber: key.partNumber,
            partTotal: total,
            state: 'sent',
            attempt,
            connectorId,
            supplierMessageId: out.supplierMessageId,
            commandStatus: 0,
          },
          ev,
        );
      }
      const outcome =
        result.kind === 'rejected'
          ? DispatchOutcome.DISPATCH_OUTCOME_REJECTED
          : result.kind === 'timeout' || result.kind === 'closed'
            ? DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT
            : result.kind === 'not_sent' && result.reason === 'expired'
              ? DispatchOutcome.DISPATCH_OUTCOME_EXPIRED
              : DispatchOutcome.DISPATCH_OUTCOME_NOT_SENT;
      const detail =
        out?.detail ||
        (result.kind === 'not_sent'
          ? result.reason === 'expired'
            ? 'validity ended before sending'
            : 'no candidate connector bound within the wait'
          : '');
      const final = d.action === 'fail';
      const ev = this.event(context, partNumber, total, connectorId, candidateIndex, out, attempt, {
        outcome,
        finalFailure: final,
        detail,
      });
      const status = out?.commandStatus ?? 0;
      if (final) {
        return this.finish(
          {
            messageId: key.messageId,
            partNumber: key.partNumber,
            partTotal: total,
            state: 'failed',
            attempt,
            connectorId,
            commandStatus: status,
          },
          ev,
        );
      }
      await store.record({
        messageId: key.messageId,
        partNumber: key.partNumber,
        partTotal: total,
        state: 'pending',
        attempt,
        connectorId,
        commandStatus: status,
      });
      await producer.produce(topics.dispatched, ev);
      attempt++;
      if (d.action === 'retry_same') {
        retries++;
        try {
          await sleep(d.delayMs, this.stopping);
        } catch {
          throw new InterruptedError();
        }
      } else {
        from = candidateIndex + 1;
        retries = 0;
      }
    }
  }
}
