import { EventEmitter } from 'node:events';
import {
  CommandStatus,
  SmppClosedError,
  SmppError,
  isRetriableStatus,
  SmppTimeoutError,
  createSmppServer,
  decodeText,
  messageContent,
  silentLogger,
  validateSubmitSm,
  type Pdu,
  type PduFields,
  type ResponseSpec,
  type SmppSession,
} from '@smshub/smpp';
import {
  compilePlan,
  findToken,
  isHandset,
  selects,
  pickError,
  pickStat,
  sampleRange,
  TokenBucket,
  wantsReceipt,
  type Plan,
} from './behaviour.js';
import { DuplicateDetector, submitKey } from './duplicates.js';
import { createRng, randomSeed, type Rng } from './prng.js';
import { formatIds, receiptFields, type ReceiptJob } from './receipts.js';
import { Scheduler } from './scheduler.js';
import type {
  ReceivedSubmit,
  Simulator,
  SimulatorCounters,
  SimulatorEvents,
  SimulatorOptions,
} from './types.js';

/** Pause between a receiver's bind and the first receipt sent on it. */
const BIND_SETTLE_MS = 20;
/** Retries of a receipt the ESME answered with a transient error (or RINVBNDSTS), and the wait between them. */
const RECEIPT_ATTEMPTS = 5;
const RECEIPT_RETRY_MS = 500;

/** Attempts of a handset confirmation (an MO) when no receiver is bound or the hub refuses it, and the wait. */
const CONFIRM_ATTEMPTS = 10;
const CONFIRM_RETRY_MS = 1000;

/** A message on its way to a handset number, then its confirmation. */
interface HandsetJob {
  number: string;
  numberTon: number;
  to: string;
  toTon: number;
  toNpi: number;
  systemId: string;
  messageId: string;
  token: string | undefined;
  submitTime: number;
  late: boolean;
  /** Set once delivered: only the confirmation is left (a retry). */
  confirmAttempts?: number;
}

const THROTTLED: ResponseSpec = Object.freeze({ status: CommandStatus.ESME_RTHROTTLED });

interface DelayedResponse {
  resolve: (spec: ResponseSpec) => void;
  spec: ResponseSpec;
}

/** Whether a session can take deliver_sm now: bound as a receiver or transceiver. */
const canDeliver = (s: SmppSession): boolean => s.state === 'BOUND_RX' || s.state === 'BOUND_TRX';

/** Receipts of one system_id: its bound receiver/transceiver sessions and what waits for them. */
interface ReceiptRoute {
  sessions: SmppSession[];
  next: number;
  /** FIFO with a head index (no Array#shift on a long array). */
  queue: ReceiptJob[];
  head: number;
  inflight: number;
}

/** Hub-side state of a session. */
interface SessionInfo {
  systemId: string;
  receives: boolean;
}

const sessionInfo = new WeakMap<SmppSession, SessionInfo>();

export function createSimulator(initial: SimulatorOptions = {}): Simulator {
  return new SmscSimulator(initial);
}

class SmscSimulator extends EventEmitter<SimulatorEvents> implements Simulator {
  private opts: SimulatorOptions;
  private plan: Plan;
  private rng: Rng;
  private readonly bucket: TokenBucket;
  private readonly dups: DuplicateDetector;
  private readonly log;
  private readonly window: number;
  private readonly keepReceived: number;
  private readonly queueLimit: number;
  private readonly ring: ReceivedSubmit[] = [];
  private ringHead = 0;
  private nextId: number;
  private closed = false;
  private readonly routes = new Map<string, ReceiptRoute>();
  private readonly bound = new Set<SmppSession>();
  private readonly responses: Scheduler<DelayedResponse>;
  private readonly receiptTimer: Scheduler<ReceiptJob>;
  private readonly handsetTimer: Scheduler<HandsetJob>;
  private readonly server;

  readonly counters: SimulatorCounters = {
    binds: 0,
    submits: 0,
    accepted: 0,
    rejectedByStatus: {},
    throttled: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsDropped: 0,
    receiptsNacked: 0,
    duplicates: 0,
    disconnects: 0,
    fakeReceipts: 0,
    lateDeliveries: 0,
    handsetDeliveries: 0,
    handsetConfirmations: 0,
    handsetConfirmationsFailed: 0,
  };

  constructor(options: SimulatorOptions) {
    super();
    this.opts = { ...options };
    this.plan = compilePlan(this.opts);
    this.rng = createRng(options.seed ?? randomSeed());
    // Ids start at a seed-dependent point so two simulators rarely hand out the same ones.
    this.nextId = 0x10000000 + Math.floor(this.rng() * 0x10000000);
    this.bucket = new TokenBucket(this.plan.tpsCap, Date.now());
    this.dups = new DuplicateDetector(options.duplicateWindowMs ?? 60_000);
    this.log = options.logger ?? silentLogger;
    this.window = Math.max(1, options.window ?? 100);
    this.keepReceived = Math.max(0, options.keepReceived ?? 10_000);
    this.queueLimit = Math.max(1, options.receiptQueueLimit ?? 100_000);
    this.responses = new Scheduler((d) => d.resolve(d.spec));
    this.receiptTimer = new Scheduler((job) => {
      this.route(job.systemId).queue.push(job);
      this.pump(job.systemId);
    });
    this.handsetTimer = new Scheduler((job) => this.handsetReceives(job));
    this.server = createSmppServer({
      ...(options.tls && { tls: options.tls }),
      systemId: options.smscSystemId ?? 'smsc-sim',
      window: this.window,
      inboundWindow: this.window,
      overWindowStatus: CommandStatus.ESME_RTHROTTLED,
      logger: this.log,
      onBind: (_session, pdu) => {
        if (this.opts.systemId !== undefined && pdu.system_id !== this.opts.systemId)
          return { status: CommandStatus.ESME_RINVSYSID };
        if (this.opts.password !== undefined && pdu.password !== this.opts.password)
          return { status: CommandStatus.ESME_RINVPASWD };
        return { status: CommandStatus.ESME_ROK, systemId: this.opts.smscSystemId ?? 'smsc-sim' };
      },
      onSession: (session) => this.onSession(session),
      handlers: { submit_sm: (pdu, session) => this.onSubmit(pdu, session) },
    });
  }

  // ------------------------------------------------------------------ public

  async listen(port = 0, host = '127.0.0.1'): Promise<{ port: number }> {
    const addr = await this.server.listen(port, host);
    return { port: addr.port };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.responses.stop();
    this.receiptTimer.stop();
    this.handsetTimer.stop();
    this.routes.clear();
    await this.server.close({ graceMs: 1000 });
  }

  setBehaviour(patch: Partial<SimulatorOptions>): void {
    const next = { ...this.opts, ...patch };
    // undefined (or null from JSON) turns an optional behaviour off.
    for (const k of Object.keys(next) as Array<keyof SimulatorOptions>)
      if (next[k] === undefined || (next[k] as unknown) === null) delete next[k];
    this.plan = compilePlan(next); // throws before anything changes
    this.opts = next;
    this.bucket.setRate(this.plan.tpsCap);
    if (patch.seed !== undefined) this.rng = createRng(patch.seed);
  }

  get options(): Readonly<SimulatorOptions> {
    const { logger: _logger, tls: _tls, ...rest } = this.opts;
    return rest;
  }

  received(): ReadonlyArray<ReceivedSubmit> {
    if (this.ring.length < this.keepReceived || this.ringHead === 0) return this.ring.slice();
    return [...this.ring.slice(this.ringHead), ...this.ring.slice(0, this.ringHead)];
  }

  get pendingReceipts(): number {
    let n = this.receiptTimer.size;
    for (const r of this.routes.values()) n += r.queue.length - r.head;
    return n;
  }

  get boundSessions(): number {
    return this.bound.size;
  }

  deliver(fields: PduFields, systemId?: string): Promise<Pdu> {
    const candidates =
      systemId !== undefined
        ? (this.routes.get(systemId)?.sessions ?? [])
        : [...this.routes.values()].flatMap((r) => r.sessions);
    const s = candidates[0];
    if (!s)
      return Promise.reject(
        new Error(`no receiver or transceiver bound${systemId ? ` for ${systemId}` : ''}`),
      );
    return s.deliver(fields);
  }

  // ------------------------------------------------------------------ sessions

  private onSession(session: SmppSession): void {
    session.on('bound', (bindType) => {
      const systemId = session.peerSystemId ?? '';
      const receives = bindType !== 'transmitter';
      sessionInfo.set(session, { systemId, receives });
      this.counters.binds++;
      this.bound.add(session);
      this.emit('bind', { sessionId: session.id, systemId, bindType });
      if (receives) {
        // A short pause before the first deliver_sm: an ESME that reads bind_resp and a deliver_sm in one
        // chunk may not have switched to bound yet when it handles the deliver_sm (and answers RINVBNDSTS).
        const t = setTimeout(() => {
          if (!canDeliver(session) || this.closed) return;
          this.route(systemId).sessions.push(session);
          this.pump(systemId);
        }, BIND_SETTLE_MS);
        t.unref();
      }
    });
    session.once('close', () => {
      this.bound.delete(session);
      const info = sessionInfo.get(session);
      if (!info?.receives) return;
      const r = this.routes.get(info.systemId);
      if (r) r.sessions = r.sessions.filter((s) => s !== session);
    });
  }

  private route(systemId: string): ReceiptRoute {
    let r = this.routes.get(systemId);
    if (!r) {
      r = { sessions: [], next: 0, queue: [], head: 0, inflight: 0 };
      this.routes.set(systemId, r);
    }
    return r;
  }

  private dropRandomSession(): void {
    if (this.bound.size === 0) return;
    const i = Math.floor(this.rng() * this.bound.size);
    let k = 0;
    for (const s of this.bound) {
      if (k++ === i) {
        this.counters.disconnects++;
        this.log.info({ session: s.id }, 'simulator dropping session (disconnectEvery)');
        s.destroy();
        return;
      }
    }
  }

  // ------------------------------------------------------------------ submit_sm

  private onSubmit(pdu: Pdu, session: SmppSession): ResponseSpec | Promise<ResponseSpec> {
    const c = this.counters;
    const plan = this.plan;
    c.submits++;
    const now = Date.now();
    let spec: ResponseSpec;
    if (!this.bucket.take(now)) {
      c.throttled++;
      spec = THROTTLED;
    } else {
      let status = validateSubmitSm(pdu, { interfaceVersion: session.peerInterfaceVersion ?? 0x34 });
      if (status === 0) status = pickError(plan, this.rng);
      if (status !== 0) {
        c.rejectedByStatus[status] = (c.rejectedByStatus[status] ?? 0) + 1;
        spec = { status };
      } else {
        spec = this.accept(pdu, session, now, plan);
      }
    }
    if (plan.disconnectEvery > 0 && c.submits % plan.disconnectEvery === 0)
      setImmediate(() => this.dropRandomSession());
    if (!plan.hasLatency) return spec;
    const delay = sampleRange(plan.latency, this.rng);
    return new Promise<ResponseSpec>((resolve) => this.responses.schedule(delay, { resolve, spec }));
  }

  private accept(pdu: Pdu, session: SmppSession, now: number, plan: Plan): ResponseSpec {
    const c = this.counters;
    c.accepted++;
    const { messageId, receiptId } = formatIds(this.nextId++, plan.idStyle, plan.pad);
    const duplicate = this.dups.check(submitKey(pdu), now);
    if (duplicate) c.duplicates++;
    const systemId = sessionInfo.get(session)?.systemId ?? session.peerSystemId ?? '';
    let stat = pickStat(plan, this.rng);
    const destination = pdu.destination_addr ?? '';
    // A fake-DLR route reports DELIVRD and delivers nothing; a late one delivers after its delay.
    const fake = plan.fake !== null && selects(plan.fake, destination, this.rng);
    if (fake) {
      stat = 'DELIVRD';
      c.fakeReceipts++;
    }
    const late =
      !fake && stat === 'DELIVRD' && plan.late !== null && selects(plan.late, destination, this.rng);
    if (late) c.lateDeliveries++;
    const toHandset = !fake && stat === 'DELIVRD' && isHandset(plan, destination);
    const rd = pdu.registered_delivery ?? 0;
    const record = this.keepReceived > 0 || this.listenerCount('submit') > 0;
    const receipt = wantsReceipt(rd, stat);
    const needText = receipt && plan.carrier !== 'tlv' && plan.textVariant !== 'noText';
    const content = record || needText || toHandset ? messageContent(pdu) : undefined;

    if (record) {
      const sub: ReceivedSubmit = {
        sessionId: session.id,
        systemId,
        time: now,
        serviceType: pdu.service_type ?? '',
        sourceAddr: pdu.source_addr ?? '',
        sourceAddrTon: pdu.source_addr_ton ?? 0,
        sourceAddrNpi: pdu.source_addr_npi ?? 0,
        destinationAddr: pdu.destination_addr ?? '',
        destAddrTon: pdu.dest_addr_ton ?? 0,
        destAddrNpi: pdu.dest_addr_npi ?? 0,
        esmClass: pdu.esm_class ?? 0,
        registeredDelivery: rd,
        dataCoding: pdu.data_coding ?? 0,
        shortMessage: pdu.short_message ?? Buffer.alloc(0),
        messageId,
        receiptId,
        duplicate,
        pdu,
      };
      if (pdu.message_payload !== undefined) sub.messagePayload = pdu.message_payload;
      if (content?.ok && content.concat) {
        const k = content.concat;
        sub.concat = { ref: k.ref, total: k.total, seq: k.seq, refBits: k.refBits, via: k.via };
      }
      if (this.keepReceived > 0) {
        if (this.ring.length < this.keepReceived) this.ring.push(sub);
        else {
          this.ring[this.ringHead] = sub;
          this.ringHead = (this.ringHead + 1) % this.keepReceived;
        }
      }
      this.emit('submit', sub);
    }

    let receiptDelay: number | undefined;
    if (receipt) {
      let text = '';
      if (needText && content?.ok) {
        try {
          text = decodeText(content.bytes.subarray(0, 40), content.dataCoding).slice(0, 20);
        } catch {
          text = '';
        }
      }
      const job: ReceiptJob = {
        messageId,
        receiptId,
        systemId,
        sourceAddr: pdu.source_addr ?? '',
        sourceAddrTon: pdu.source_addr_ton ?? 0,
        sourceAddrNpi: pdu.source_addr_npi ?? 0,
        destinationAddr: pdu.destination_addr ?? '',
        destAddrTon: pdu.dest_addr_ton ?? 0,
        destAddrNpi: pdu.dest_addr_npi ?? 0,
        submitTime: now,
        stat,
        text,
      };
      receiptDelay = sampleRange(plan.receiptDelay, this.rng);
      const delay = receiptDelay;
      if (plan.intermediate && ((rd & 0x03) === 1 || (rd & 0x10) !== 0))
        this.receiptTimer.schedule(delay / 2, { ...job, stat: 'ENROUTE' });
      // Scheduled after the response is written (same tick), so a 0 ms receipt never overtakes its resp.
      this.receiptTimer.schedule(delay, job);
    }
    if (toHandset) {
      // The handset gets the message when the receipt says it was delivered (or the lateDelivery delay later).
      let token: string | undefined;
      if (content?.ok) {
        try {
          token = findToken(plan, decodeText(content.bytes, content.dataCoding));
        } catch {
          token = undefined;
        }
      }
      const base = receiptDelay ?? sampleRange(plan.receiptDelay, this.rng);
      const extra = late && plan.late ? sampleRange(plan.late.delay, this.rng) : 0;
      this.handsetTimer.schedule(base + extra, {
        number: destination.replace(/^\+/, ''),
        numberTon: pdu.dest_addr_ton ?? 1,
        to: pdu.source_addr ?? '',
        toTon: pdu.source_addr_ton ?? 0,
        toNpi: pdu.source_addr_npi ?? 0,
        systemId,
        messageId,
        token,
        submitTime: now,
        late,
      });
    }
    return { fields: { message_id: messageId } };
  }

  // ------------------------------------------------------------------ handsets

  /** A message reaches a handset number: count it, tell listeners, send its confirmation. */
  private handsetReceives(job: HandsetJob): void {
    if (this.closed) return;
    if (job.confirmAttempts === undefined) {
      this.counters.handsetDeliveries++;
      if (this.listenerCount('handset') > 0)
        this.emit('handset', {
          number: job.number,
          to: job.to,
          messageId: job.messageId,
          token: job.token,
          submitTime: job.submitTime,
          deliveredAt: Date.now(),
          late: job.late,
        });
    }
    if (job.token === undefined) return;
    const plan = this.plan;
    const text = (plan.handsets?.reply ?? 'ACK {token}').replace('{token}', job.token);
    const fields: PduFields = {
      source_addr_ton: job.numberTon === 0 ? 0 : 1,
      source_addr_npi: 1,
      source_addr: job.number,
      dest_addr_ton: job.toTon,
      dest_addr_npi: job.toNpi,
      destination_addr: job.to,
      esm_class: 0,
      data_coding: 0,
      short_message: Buffer.from(text, 'latin1'),
    };
    // The session the message came from when it is a receiver, else any receiver bound to this simulator.
    const own = this.routes.get(job.systemId)?.sessions.length ? job.systemId : undefined;
    this.deliver(fields, own).then(
      () => {
        this.counters.handsetConfirmations++;
      },
      (err: unknown) => {
        const attempts = (job.confirmAttempts ?? 0) + 1;
        if (attempts < CONFIRM_ATTEMPTS && !this.closed) {
          this.handsetTimer.schedule(CONFIRM_RETRY_MS, { ...job, confirmAttempts: attempts });
          return;
        }
        this.counters.handsetConfirmationsFailed++;
        this.log.warn(
          { messageId: job.messageId, err: (err as Error).message },
          'simulator handset confirmation not delivered; given up',
        );
      },
    );
  }

  // ------------------------------------------------------------------ receipts

  /** Send what the window allows for this system_id; the rest waits in its bounded queue. */
  private pump(systemId: string): boolean {
    const r = this.routes.get(systemId);
    if (!r || this.closed) return false;
    // Bound the queue: drop the oldest beyond the limit.
    const waiting = r.queue.length - r.head;
    if (waiting > this.queueLimit) {
      const drop = waiting - this.queueLimit;
      r.head += drop;
      this.counters.receiptsDropped += drop;
    }
    // A session that is unbinding (or closed, its 'close' event not yet emitted) takes no deliver_sm: it
    // refuses them at once, and sending the receipt there again would loop in microtasks for ever.
    if (r.sessions.some((s) => !canDeliver(s))) r.sessions = r.sessions.filter(canDeliver);
    while (r.head < r.queue.length && r.sessions.length > 0 && r.inflight < this.window * r.sessions.length) {
      const job = r.queue[r.head] as ReceiptJob;
      r.queue[r.head] = undefined as unknown as ReceiptJob;
      r.head++;
      const session = r.sessions[r.next++ % r.sessions.length] as SmppSession;
      this.send(r, session, job);
    }
    if (r.head === r.queue.length) {
      r.queue.length = 0;
      r.head = 0;
    } else if (r.head > 4096 && r.head * 2 > r.queue.length) {
      r.queue = r.queue.slice(r.head);
      r.head = 0;
    }
    return true;
  }

  private send(r: ReceiptRoute, session: SmppSession, job: ReceiptJob): void {
    const fields = receiptFields(job, Date.now(), this.plan);
    r.inflight++;
    this.counters.receiptsSent++;
    if (this.listenerCount('receipt') > 0)
      this.emit('receipt', {
        messageId: job.messageId,
        stat: job.stat,
        sessionId: session.id,
        systemId: job.systemId,
        fields,
      });
    session.deliver(fields).then(
      () => {
        r.inflight--;
        this.counters.receiptsAcked++;
        this.pump(job.systemId);
      },
      (err: unknown) => {
        r.inflight--;
        if (err instanceof SmppClosedError || err instanceof SmppTimeoutError) {
          // The link went away (or hung) before the ESME answered: send it again on another bind.
          if (r.head > 0) r.queue[--r.head] = job;
          else r.queue.unshift(job);
        } else if (
          err instanceof SmppError &&
          (isRetriableStatus(err.commandStatus) || err.commandStatus === CommandStatus.ESME_RINVBNDSTS) &&
          (job.attempts ?? 1) < RECEIPT_ATTEMPTS
        ) {
          this.receiptTimer.schedule(RECEIPT_RETRY_MS, { ...job, attempts: (job.attempts ?? 1) + 1 });
        } else {
          this.counters.receiptsNacked++;
          this.log.warn(
            { messageId: job.messageId, err: (err as Error).message },
            'simulator receipt refused by the ESME; dropped',
          );
        }
        this.pump(job.systemId);
      },
    );
  }
}
