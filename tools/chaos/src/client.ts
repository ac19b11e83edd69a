// The chaos run's customer: N transceiver binds with a window each, paced to a steady rate, that keep every
// submit_sm's outcome (hub id or error) and count the final receipts per hub id. Unlike a load generator it
// never gives up: a bind that drops (ingress killed) is re-bound every 500 ms for as long as the run lasts,
// including while receipts drain after submitting stopped. Every message has its own text, so a second
// submit_sm of it at the simulator is a duplicate send by the hub.
import {
  SmppClosedError,
  SmppError,
  SmppTimeoutError,
  connectSmpp,
  isFinalStat,
  messageStateToStat,
  parseReceipt,
  silentLogger,
  statusName,
  type Pdu,
  type ReceiptStat,
  type SmppLogger,
  type SmppSession,
} from '@smshub/smpp';
import { chaosText, type SubmitRecord } from './verify.js';

export interface ChaosClientOptions {
  host: string;
  /** SMPP ports of the ingress replicas: bind i starts on ports[i % n] and moves to the next one each time
   * it has to bind again (as a load balancer in front of the replicas would). */
  ports: number[];
  systemId: string;
  password: string;
  binds: number;
  window: number;
  /** submit_sm per second over all binds. */
  rate: number;
  /** Destination numbers: prefix + a counter modulo 10 000. */
  destinationPrefix: string;
  /** Put in every text so that two runs never send equal messages. */
  runTag: string;
  responseTimeoutMs?: number;
  logger?: SmppLogger;
}

export interface ClientCounters {
  submitted: number;
  accepted: number;
  refused: number;
  finalReceipts: number;
  intermediateReceipts: number;
  /** Receipts for an id this client never got in a submit_sm_resp (e.g. a submit it timed out on). */
  unmatchedReceipts: number;
  /** Binds made after the first ones. */
  rebinds: number;
  /** Refused submit_sm by outcome: status name, 'timeout' or 'closed'. */
  errors: Record<string, number>;
  /** Final receipts by stat (DELIVRD, UNDELIV, REJECTD, ...). */
  receiptStats: Record<string, number>;
}

const STATUS_TIMEOUT = -1;
const STATUS_CLOSED = -2;
const STATUS_OTHER = -3;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The hub id and stat a receipt deliver_sm carries (TLVs first, else the receipt text). */
export function readReceipt(pdu: Pdu): { id: string; stat: ReceiptStat } | undefined {
  let id = pdu.receipted_message_id?.trim().toLowerCase();
  let stat = pdu.message_state !== undefined ? messageStateToStat(pdu.message_state) : undefined;
  if (!id || !stat) {
    const bytes = pdu.short_message?.length ? pdu.short_message : pdu.message_payload;
    if (bytes) {
      const r = parseReceipt(bytes);
      if (!id && r.id) id = r.id.trim().toLowerCase();
      stat ??= r.stat;
    }
  }
  return id && stat ? { id, stat } : undefined;
}

export class ChaosClient {
  readonly records: SubmitRecord[] = [];
  readonly counters: ClientCounters = {
    submitted: 0,
    accepted: 0,
    refused: 0,
    finalReceipts: 0,
    intermediateReceipts: 0,
    unmatchedReceipts: 0,
    rebinds: 0,
    errors: {},
    receiptStats: {},
  };
  private readonly byId = new Map<string, SubmitRecord>();
  /** Final receipts that arrived before their submit_sm_resp. */
  private readonly early = new Map<string, number>();
  private submitting = false;
  private closed = false;
  private nextAt = 0;
  private seq = 0;
  private readonly sessions = new Set<SmppSession>();
  private readonly binds: Promise<void>[] = [];
  private readonly workers = new Set<Promise<void>>();
  private readonly log: SmppLogger;

  constructor(private readonly opts: ChaosClientOptions) {
    this.log = opts.logger ?? silentLogger;
  }

  /** Binds and starts submitting; resolves once every bind is up the first time. */
  async start(): Promise<void> {
    this.submitting = true;
    const firstBinds: Promise<void>[] = [];
    for (let i = 0; i < this.opts.binds; i++) {
      let bound!: () => void;
      firstBinds.push(new Promise<void>((r) => (bound = r)));
      this.binds.push(this.runBind(i, bound));
    }
    await Promise.all(firstBinds);
  }

  /** Stops submitting and waits for the submit_sm in flight to be answered (or to fail). */
  async stopSubmitting(): Promise<void> {
    this.submitting = false;
    await Promise.all([...this.workers]);
  }

  /** Accepted messages still without a final receipt. */
  awaitingReceipts(): number {
    let n = 0;
    for (const r of this.records) if (r.status === 0 && r.finalReceipts === 0) n++;
    return n;
  }

  /** Unbinds every session and stops re-binding. */
  async close(): Promise<void> {
    this.submitting = false;
    this.closed = true;
    await Promise.all([...this.sessions].map((s) => s.close().catch(() => undefined)));
    await Promise.all(this.binds);
  }

  private connect(port: number): Promise<SmppSession> {
    return connectSmpp({
      host: this.opts.host,
      port,
      systemId: this.opts.systemId,
      password: this.opts.password,
      bindType: 'transceiver',
      window: this.opts.window,
      inboundWindow: 200,
      enquireLinkMs: 5000,
      responseTimeoutMs: this.opts.responseTimeoutMs ?? 10_000,
      connectTimeoutMs: 2000,
      handlers: { deliver_sm: (pdu) => this.onDeliver(pdu) },
      logger: this.log,
    });
  }

  private async runBind(index: number, firstBound: () => void): Promise<void> {
    let first = true;
    let attempt = index;
    while (!this.closed) {
      let session: SmppSession;
      const port = this.opts.ports[attempt++ % this.opts.ports.length] as number;
      try {
        session = await this.connect(port);
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'chaos client bind failed');
        await sleep(500);
        continue;
      }
      if (this.closed) {
        await session.close().catch(() => undefined);
        break;
      }
      if (first) firstBound();
      else this.counters.rebinds++;
      first = false;
      this.sessions.add(session);
      for (let w = 0; w < this.opts.window; w++) {
        const worker = this.worker(session);
        this.workers.add(worker);
        void worker.finally(() => this.workers.delete(worker));
      }
      await session.waitClosed();
      this.sessions.delete(session);
      if (!this.closed) await sleep(500);
    }
  }

  /** Waits for the next slot of the steady rate (shared by every worker of every bind). */
  private async pace(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + 1000 / this.opts.rate;
    if (at > now) await sleep(at - now);
  }

  private async worker(session: SmppSession): Promise<void> {
    for (;;) {
      if (!this.submitting || session.state !== 'BOUND_TRX') return;
      await this.pace();
      if (!this.submitting || session.state !== 'BOUND_TRX') return;
      if (!(await this.submitOne(session))) return;
    }
  }

  /** One submit_sm; false when the link closed under it. */
  private async submitOne(session: SmppSession): Promise<boolean> {
    const n = this.seq++;
    const record: SubmitRecord = { seq: n, submitAt: Date.now(), status: STATUS_OTHER, finalReceipts: 0 };
    this.records.push(record);
    this.counters.submitted++;
    const text = chaosText(this.opts.runTag, n);
    try {
      const resp = await session.submit({
        source_addr_ton: 5, // alphanumeric sender id
        source_addr_npi: 0,
        source_addr: 'Chaos',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: this.opts.destinationPrefix + String(n % 10_000).padStart(4, '0'),
        registered_delivery: 1,
        data_coding: 0,
        short_message: Buffer.from(text, 'latin1'),
      });
      const id = (resp.message_id ?? '').trim().toLowerCase();
      record.status = 0;
      record.hubId = id;
      this.counters.accepted++;
      this.byId.set(id, record);
      const early = this.early.get(id);
      if (early !== undefined) {
        this.early.delete(id);
        record.finalReceipts += early;
      }
      return true;
    } catch (err) {
      this.counters.refused++;
      let outcome = 'other';
      if (err instanceof SmppTimeoutError) {
        record.status = STATUS_TIMEOUT;
        outcome = 'timeout';
      } else if (err instanceof SmppClosedError) {
        record.status = STATUS_CLOSED;
        outcome = 'closed';
      } else if (err instanceof SmppError && err.commandStatus) {
        record.status = err.commandStatus;
        outcome = statusName(err.commandStatus);
      } else this.log.warn({ err: (err as Error).message }, 'chaos client submit failed');
      this.counters.errors[outcome] = (this.counters.errors[outcome] ?? 0) + 1;
      return !(err instanceof SmppClosedError);
    }
  }

  private onDeliver(pdu: Pdu): void {
    if (((pdu.esm_class ?? 0) & 0x3c) === 0) return; // an MO message, not a receipt
    const r = readReceipt(pdu);
    if (!r) {
      this.counters.unmatchedReceipts++;
      return;
    }
    if (!isFinalStat(r.stat)) {
      this.counters.intermediateReceipts++;
      return;
    }
    this.counters.finalReceipts++;
    this.counters.receiptStats[r.stat] = (this.counters.receiptStats[r.stat] ?? 0) + 1;
    const record = this.byId.get(r.id);
    if (record) record.finalReceipts++;
    else this.early.set(r.id, (this.early.get(r.id) ?? 0) + 1);
  }

  /** Final receipts whose id never came back in a submit_sm_resp. */
  unmatched(): number {
    return this.counters.unmatchedReceipts + [...this.early.values()].reduce((a, b) => a + b, 0);
  }
}
