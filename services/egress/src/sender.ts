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
import { onDelivery } from './domain/dedupe.js';
import { decide, type AttemptResult, type RetryPolicy } from './domain/failover.js';
import { planSubmit, type SubmitPlan } from './domain/translate.js';
import { sleep } from './domain/token-bucket.js';
import type { DispatchStore, PartKey } from './dispatch-store.js';
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

export function sessionRef(
  replica: string,
  systemId: string,
  s: SmppSession | undefined,
): SessionRef | undefined {
  if (!s) return undefined;
  return {
    replica,
    sessionId: s.id,
    systemId,
    bindType: BIND_TYPES[s.bindType ?? ''] ?? BindType.BIND_TYPE_UNSPECIFIED,
    remoteAddress: `${s.socket.remoteAddress ?? ''}:${s.socket.remotePort ?? ''}`,
    interfaceVersion: s.peerInterfaceVersion ?? 0,
  };
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
  };
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

  constructor(private readonly o: SenderOptions) {
    this.log = o.logger.child({ component: 'sender' });
  }

  private check(): void {
    if (this.o.signal.aborted) throw new InterruptedError();
  }

  async handle(routed: SmsRouted): Promise<void> {
    this.check();
    const msg = routed.message;
    if (!msg || routed.candidates.length === 0)
      throw Object.assign(new Error('routed record without message or candidates'), { retriable: false });
    const context = messageContext(routed);
    let plan: SubmitPlan | undefined;
    let reason = 'no candidate connector is configured and enabled';
    for (const c of routed.candidates) {
      const rt = this.o.pool.get(c.connectorId);
      if (!rt?.config.enabled) continue;
      const r = planSubmit(msg, rt.config);
      if (r.ok) {
        plan = r.plan;
        break;
      }
      reason = r.reason;
    }
    if (!plan) {
      const key = { messageId: msg.messageId, partNumber: 1 };
      const rec = await this.o.store.get(key);
      if (rec?.event) return this.republish(rec.event, 'republish');
      const ev = this.event(context, 1, 1, routed.candidates[0]!.connectorId, 0, undefined, 1, {
        outcome: DispatchOutcome.DISPATCH_OUTCOME_NOT_SENT,
        finalFailure: true,
        detail: reason,
      });
      await this.o.store.markFinal(
        key,
        1,
        'failed',
        1,
        ev.connectorId,
        '',
        0,
        this.o.topics.dispatched.encode(ev),
      );
      await this.o.producer.produce(this.o.topics.dispatched, ev);
      return;
    }
    for (let i = 0; i < plan.parts.length; i++) await this.sendPart(routed, context, plan, i + 1);
  }

  private async republish(bytes: Buffer, action: string): Promise<void> {
    metrics.redeliveries.inc({ action });
    await this.o.producer.produce(this.o.topics.dispatched, this.o.topics.dispatched.decode(bytes));
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
        await this.o.pool.waitHealthChange(Math.min(left, 1000), this.o.signal);
      } catch {
        throw new InterruptedError();
      }
    }
  }

  private async sendPart(
    routed: SmsRouted,
    context: MessageContext,
    plan: SubmitPlan,
    partNumber: number,
  ): Promise<void> {
    const { store, producer, topics } = this.o;
    const total = plan.parts.length;
    const key: PartKey = { messageId: context.messageId, partNumber };
    const rec = await store.get(key);
    const action = onDelivery(rec);
    if (action.action === 'republish') return this.republish(action.event, 'republish');
    if (action.action === 'report_unknown') {
      metrics.redeliveries.inc({ action: 'unknown' });
      const connectorId = rec?.connectorId || routed.candidates[0]!.connectorId;
      const ev = this.event(context, partNumber, total, connectorId, 0, undefined, action.attempt, {
        outcome: DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT,
        finalFailure: false,
        detail:
          'egress stopped between submit_sm and its response; not resent to avoid a duplicate (outcome unknown)',
      });
      await store.markFinal(
        key,
        total,
        'unknown',
        action.attempt,
        connectorId,
        '',
        0,
        topics.dispatched.encode(ev),
      );
      await producer.produce(topics.dispatched, ev);
      this.log.warn(
        { messageId: context.messageId, part: partNumber },
        'part was in flight at a previous stop; reported unknown, not resent',
      );
      return;
    }
    let attempt = action.nextAttempt;
    let from = 0;
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
            out = await picked.rt.submit(fields, this.o.signal, () =>
              store.markSending(key, total, a, connectorId),
            );
          } catch (err) {
            if (this.o.signal.aborted) throw new InterruptedError();
            throw err;
          }
          // Crash/shutdown while the submit was in flight: write nothing more; "sending" stays for the next owner.
          this.check();
          if (!out) continue; // the last bound session went away between pick and submit: pick again
          result = out.result;
        }
      }
      const hasNext = candidateIndex + 1 < routed.candidates.length && from < routed.candidates.length;
      const d = decide(result, retries, hasNext, this.o.retry);
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
        await store.markFinal(
          key,
          total,
          'sent',
          attempt,
          connectorId,
          out.supplierMessageId,
          0,
          topics.dispatched.encode(ev),
        );
        await producer.produce(topics.dispatched, ev);
        return;
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
        await store.markFinal(
          key,
          total,
          'failed',
          attempt,
          connectorId,
          '',
          status,
          topics.dispatched.encode(ev),
        );
        await producer.produce(topics.dispatched, ev);
        return;
      }
      await store.markPending(key, total, attempt, connectorId, status);
      await producer.produce(topics.dispatched, ev);
      attempt++;
      if (d.action === 'retry_same') {
        retries++;
        try {
          await sleep(d.delayMs, this.o.signal);
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
