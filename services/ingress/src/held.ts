import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  HeldState,
  SchedulerServiceClient,
  type HeldMessage,
  type ReplaceHeldRequest,
} from '@smshub/contracts';
import {
  CommandStatus as S,
  formatSmppTime,
  MessageState,
  parseScheduleDeliveryTime,
  parseValidityPeriod,
  validateQuerySm,
  type Pdu,
  type ResponseSpec,
} from '@smshub/smpp';

/**
 * SMPP operations on messages the hub holds (services/scheduler, reached over gRPC):
 *   - query_sm: a held message is SCHEDULED (SMPP 5.0 message_state 0) on a 5.0 bind; 3.4 has no such
 *     state (5.2.28 lists 1-8), so a 3.4 bind hears ENROUTE, as 3.4 SMSCs report a scheduled message.
 *     Cancelled: DELETED (final, final_date = cancel time). Expired while held: EXPIRED. Released: the
 *     message's state as ingress knows it (ENROUTE until dlr says more).
 *   - cancel_sm (3.4 section 4.9): by message_id, or every held message of the account to
 *     destination_addr (from source_addr, of service_type when given). Nothing held: ESME_RCANCELFAIL
 *     (already released or sent, cancelled, expired, unknown, or another account's).
 *   - replace_sm (4.10): text (short_message), schedule_delivery_time, validity_period,
 *     registered_delivery of a held message; a schedule in the past releases it at once. Not held:
 *     ESME_RREPLACEFAIL.
 * A cancelled message gets no delivery receipt: the customer asked for the outcome and cancel_sm_resp is
 * it (SMPP 3.4 defines no receipt for a cancelled message; DELETED is what query_sm then reports).
 */
export interface HeldMessages {
  get(systemId: string, id: string): Promise<HeldMessage | undefined>;
  cancel(req: {
    systemId: string;
    messageId: string;
    source: string;
    destination: string;
    serviceType: string;
  }): Promise<string[]>;
  /** The message after the change; undefined when it is not held. */
  replace(req: ReplaceHeldRequest): Promise<HeldMessage | undefined>;
}

/** The query_sm answer for a message the scheduler knows; undefined = ask ingress's own state. */
export function heldQueryResponse(
  id: string,
  held: HeldMessage | undefined,
  interfaceVersion: number,
): ResponseSpec | undefined {
  if (!held) return undefined;
  const done = held.doneAt ? formatSmppTime(held.doneAt) : '';
  switch (held.state) {
    case HeldState.HELD_STATE_HELD:
      return {
        fields: {
          message_id: id,
          final_date: '',
          message_state: interfaceVersion >= 0x50 ? MessageState.SCHEDULED : MessageState.ENROUTE,
          error_code: 0,
        },
      };
    case HeldState.HELD_STATE_CANCELLED:
      return {
        fields: { message_id: id, final_date: done, message_state: MessageState.DELETED, error_code: 0 },
      };
    case HeldState.HELD_STATE_EXPIRED:
      return {
        fields: { message_id: id, final_date: done, message_state: MessageState.EXPIRED, error_code: 0 },
      };
    default:
      return undefined;
  }
}

/** cancel_sm's field checks: the request, or the refusal status. */
export function cancelRequest(pdu: Pdu, systemId: string): number | Parameters<HeldMessages['cancel']>[0] {
  const v = validateQuerySm(pdu);
  if (v) return v;
  const messageId = pdu.message_id ?? '';
  const destination = pdu.destination_addr ?? '';
  // 4.9.1: without message_id, source and destination name the messages (service_type narrows them).
  if (!messageId && !destination) return S.ESME_RINVDSTADR;
  if (destination.length > 20) return S.ESME_RINVDSTADR;
  return {
    systemId,
    messageId,
    source: pdu.source_addr ?? '',
    destination: destination.startsWith('+') ? destination.slice(1) : destination,
    serviceType: messageId ? '' : (pdu.service_type ?? ''),
  };
}

/** replace_sm's field checks: the request, or the refusal status. */
export function replaceRequest(pdu: Pdu, systemId: string, now: Date): number | ReplaceHeldRequest {
  const v = validateQuerySm(pdu);
  if (v) return v;
  if (!pdu.message_id) return S.ESME_RINVMSGID;
  const sched = parseScheduleDeliveryTime(pdu.schedule_delivery_time, now);
  if (!sched.ok) return sched.status;
  const validity = parseValidityPeriod(pdu.validity_period, now);
  if (!validity.ok) return validity.status;
  if (validity.date && validity.date.getTime() <= now.getTime()) return S.ESME_RINVEXPIRY;
  if (sched.date && validity.date && sched.date.getTime() >= validity.date.getTime()) return S.ESME_RINVSCHED;
  const rd = pdu.registered_delivery ?? 0;
  if (rd > 2) return S.ESME_RINVREGDLVFLG;
  const sm = pdu.short_message;
  if (sm && sm.length > 254) return S.ESME_RINVMSGLEN;
  return {
    systemId,
    messageId: pdu.message_id,
    source: pdu.source_addr ?? '',
    // An empty short_message leaves the text as it is (sm_length 0: nothing to replace it with).
    ...(sm && sm.length > 0 ? { shortMessage: Buffer.from(sm) } : {}),
    ...(sched.date ? { dueAt: sched.date.getTime() < now.getTime() ? now : sched.date } : {}),
    ...(validity.date ? { validityUntil: validity.date } : {}),
    registeredDelivery: rd,
  };
}

/** HeldMessages over SchedulerService (gRPC), authenticated with `token` (the bootstrap admin credential). */
export class SchedulerClient implements HeldMessages {
  private readonly client: SchedulerServiceClient;

  constructor(
    address: string,
    private readonly token: string,
    tls = false,
    private readonly timeoutMs = 5_000,
  ) {
    this.client = new SchedulerServiceClient(
      address,
      tls ? credentials.createSsl() : credentials.createInsecure(),
    );
  }

  private meta(): Metadata {
    const m = new Metadata();
    if (this.token) m.set('authorization', `Bearer ${this.token}`);
    return m;
  }

  private opts() {
    return { deadline: Date.now() + this.timeoutMs };
  }

  get(systemId: string, id: string): Promise<HeldMessage | undefined> {
    return new Promise((resolve, reject) => {
      this.client.getHeld(
        { systemId, messageId: id },
        this.meta(),
        this.opts(),
        (err: ServiceError | null, res) => {
          if (err) return err.code === grpcStatus.NOT_FOUND ? resolve(undefined) : reject(err);
          resolve(res?.message);
        },
      );
    });
  }

  cancel(req: Parameters<HeldMessages['cancel']>[0]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.client.cancelHeld(req, this.meta(), this.opts(), (err: ServiceError | null, res) => {
        if (err) return reject(err);
        resolve(res?.messageIds ?? []);
      });
    });
  }

  replace(req: ReplaceHeldRequest): Promise<HeldMessage | undefined> {
    return new Promise((resolve, reject) => {
      this.client.replaceHeld(req, this.meta(), this.opts(), (err: ServiceError | null, res) => {
        if (err) return err.code === grpcStatus.NOT_FOUND ? resolve(undefined) : reject(err);
        resolve(res?.message);
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Held messages this replica accepted in the last few seconds: the scheduler stores a held message only once
 * it has read it from sms.scheduled.v1 (its consumer lag, milliseconds to a second or two), so a cancel_sm
 * or replace_sm right after the submit_sm_resp would otherwise find nothing and answer ESME_RCANCELFAIL for
 * a message that is in fact held. For these ids the answer waits (polling) until the scheduler knows the
 * message or the window ends. Bounded: entries expire after `windowMs` and the map keeps at most `max`.
 * Another replica's recent submits are not known here (a customer cancels on its own session, as a rule).
 */
export class RecentlyHeld {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly windowMs = 3_000,
    private readonly max = 100_000,
  ) {}

  add(systemId: string, customerMessageId: string, now = Date.now()): void {
    if (this.until.size >= this.max) {
      for (const [k, t] of this.until) {
        if (t > now && this.until.size < this.max) break;
        this.until.delete(k);
      }
    }
    this.until.set(`${systemId}\u0000${customerMessageId}`, now + this.windowMs);
  }

  /** Until when (epoch ms) a lookup of this id may still be waiting for the scheduler; 0 = not recent. */
  deadline(systemId: string, customerMessageId: string, now = Date.now()): number {
    const k = `${systemId}\u0000${customerMessageId}`;
    const t = this.until.get(k) ?? 0;
    if (t && t <= now) this.until.delete(k);
    return t > now ? t : 0;
  }

  /**
   * Runs `attempt` until it gives a definite "found" (`found(result)`), or the id is not recent, or its
   * window ends; returns the last result.
   */
  async retry<T>(
    systemId: string,
    customerMessageId: string,
    attempt: () => Promise<T>,
    found: (r: T) => boolean,
    intervalMs = 100,
  ): Promise<T> {
    for (;;) {
      const r = await attempt();
      if (found(r) || !customerMessageId) return r;
      const end = this.deadline(systemId, customerMessageId);
      if (!end || Date.now() + intervalMs > end) return r;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
