import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import {
  SmppClosedError,
  SmppError,
  SmppTimeoutError,
  connectSmpp,
  isFinalStat,
  messageStateToStat,
  normalizeMessageId,
  parseReceipt,
  partFields,
  segmentText,
  silentLogger,
  statusName,
  type MessageIdFormat,
  type Pdu,
  type PduFields,
  type ReceiptStat,
  type SmppLogger,
  type SmppSession,
} from '@smshub/smpp';

/**
 * SMPP load generator core: N transceiver binds with a window each, an optional overall rate (token
 * bucket released by one ticker, not a timer per message), a GSM7/UCS2/long mix, and per-submit_sm records
 * (submit time, resp time/status/message id, receipt time/stat) from which it computes throughput and
 * latency percentiles.
 */
export interface LoadOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  tls?: boolean | tls.ConnectionOptions;
  /** SMPP binds (transceiver, so receipts come back on them). Default 1. */
  binds?: number;
  /** Window per bind: submit_sm awaiting their resp. Default 10. */
  window?: number;
  /** Overall target rate in messages per second; 0 = as fast as the windows allow (default). */
  rate?: number;
  /** Stop after this many messages (a long message counts once and sends several submit_sm). */
  count?: number;
  /** Stop submitting after this long. With neither count nor durationMs: 1000 messages. */
  durationMs?: number;
  /** Percentages (weights) of message kinds. Default { gsm7: 100 }. */
  mix?: { gsm7?: number; ucs2?: number; long?: number };
  /** registered_delivery of every submit_sm. Default 1 (receipt on final outcome). */
  registeredDelivery?: number;
  sourceAddr?: string;
  /** Destinations: prefix + a counter over `destinations` numbers. Default '44771200' (valid UK mobile numbers 447712000000 on) and 10 000. */
  destinationPrefix?: string;
  destinations?: number;
  /** After the last resp, wait up to this long for outstanding receipts. Default 10 000 ms. */
  receiptWaitMs?: number;
  /** How ids in the receipt TEXT are written ('dec' when the SMSC writes decimal there). The TLV is preferred when present. Default 'as-is'. */
  receiptIdFormat?: MessageIdFormat;
  /** submit_sm response timeout. Default 30 000 ms. */
  responseTimeoutMs?: number;
  interfaceVersion?: number;
  /** Reconnect a bind that drops while messages remain. Default true. */
  reconnect?: boolean;
  /** Keep the per-submit records in the result. Default false (only summaries). */
  keepRecords?: boolean;
  /** Called about once a second with the running totals. */
  onProgress?: (p: LoadProgress) => void;
  /** Stop early (submitting stops; receipts are awaited as usual). */
  signal?: AbortSignal;
  logger?: SmppLogger;
}

export interface LoadProgress {
  elapsedMs: number;
  submitted: number;
  accepted: number;
  failed: number;
  receipts: number;
}

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** One submit_sm. Times are ms since the run started; -1 when it did not happen. */
export interface SubmitRecord {
  message: number;
  kind: 'gsm7' | 'ucs2' | 'long';
  submitAt: number;
  respAt: number;
  /** command_status, or -1 timeout, -2 connection closed, -3 other local error. */
  status: number;
  messageId?: string;
  receiptAt: number;
  stat?: ReceiptStat;
}

export interface LoadResult {
  options: Omit<LoadOptions, 'password' | 'onProgress' | 'signal' | 'logger' | 'tls'>;
  messages: number;
  submitted: number;
  accepted: number;
  /** Non-OK submit_sm outcomes by status name ('ESME_RTHROTTLED', 'timeout', 'closed', ...). */
  errors: Record<string, number>;
  /** From the first submit_sm to the last submit_sm_resp. */
  submitPhaseMs: number;
  /** Accepted submit_sm per second over the submit phase. */
  acceptedPerSecond: number;
  /** Final receipts matched to an accepted submit_sm. */
  receipts: number;
  /** Intermediate receipts (ENROUTE, ACCEPTD, UNKNOWN) matched. */
  intermediateReceipts: number;
  /** Receipts whose id matched nothing sent in this run. */
  unmatchedReceipts: number;
  /** Final receipts per second, from the first submit to the last receipt. */
  receiptsPerSecond: number;
  receiptStats: Partial<Record<ReceiptStat, number>>;
  /** Receipts expected (registered_delivery set) but not received within receiptWaitMs. */
  missingReceipts: number;
  respLatencyMs: Percentiles;
  /** submit_sm sent -> final receipt received. */
  receiptLatencyMs: Percentiles;
  binds: number;
  reconnects: number;
  /** CPU time this process used during the run (user + system), and per accepted submit_sm. */
  cpuMs: number;
  cpuMicrosPerSubmit: number;
  records?: SubmitRecord[];
}

type Kind = SubmitRecord['kind'];
const KINDS: readonly Kind[] = ['gsm7', 'ucs2', 'long'];

/** message_state -> stat, as a table (messageStateToStat scans an object per call). */
const STATE_TO_STAT: ReadonlyArray<ReceiptStat | undefined> = Array.from({ length: 16 }, (_, i) =>
  messageStateToStat(i),
);

const STATUS_TIMEOUT = -1;
const STATUS_CLOSED = -2;
const STATUS_LOCAL = -3;

/** Percentiles of a sample (nearest rank). Sorts `values` in place. */
export function percentiles(values: Float64Array): Percentiles {
  const n = values.length;
  if (n === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  values.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  const at = (p: number): number => values[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    count: n,
    mean: r(sum / n),
    p50: r(at(0.5)),
    p95: r(at(0.95)),
    p99: r(at(0.99)),
    max: r(values[n - 1] as number),
  };
}

/** Parses "gsm7=70,ucs2=20,long=10". */
export function parseMix(s: string): NonNullable<LoadOptions['mix']> {
  const mix: Record<string, number> = {};
  for (const item of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [k, v] = item.split('=');
    if (!k || !(KINDS as readonly string[]).includes(k) || v === undefined || !/^\d+(\.\d+)?$/.test(v))
      throw new Error(`bad mix item "${item}" (expected gsm7=N, ucs2=N or long=N)`);
    mix[k] = Number(v);
  }
  return mix;
}

/**
 * Releases permits at `rate` per second from one ticker (every 5 ms), in bursts of what accrued, to the
 * waiters in FIFO order. At rate 0 there is no pacing at all.
 */
class Pacer {
  private readonly waiters: Array<() => void> = [];
  private credit = 0;
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly rate: number) {}
  get unlimited(): boolean {
    return this.rate <= 0;
  }
  acquire(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      if (!this.timer) this.timer = setInterval(() => this.tick(), 5);
    });
  }
  private tick(): void {
    const now = performance.now();
    // Up to 100 ms of credit carries over: a late timer on a busy machine does not lose rate, and a pause
    // (no waiters) does not turn into a burst larger than a tenth of a second's worth.
    this.credit = Math.min(this.credit + ((now - this.last) * this.rate) / 1000, Math.max(1, this.rate / 10));
    this.last = now;
    while (this.credit >= 1 && this.waiters.length > 0) {
      this.credit -= 1;
      (this.waiters.shift() as () => void)();
    }
    if (this.waiters.length === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.last = performance.now();
    }
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const w of this.waiters.splice(0)) w();
  }
}

const FILLER =
  'The quick brown fox jumps over the lazy dog while the load generator measures the SMS hub throughput and latency. ';

function pickKind(mix: Required<NonNullable<LoadOptions['mix']>>, total: number, i: number): Kind {
  // Deterministic low-discrepancy draw (golden-ratio sequence): the shares hold from the first messages on.
  const u = ((i * 0.6180339887498949) % 1) * total;
  if (u < mix.gsm7) return 'gsm7';
  if (u < mix.gsm7 + mix.ucs2) return 'ucs2';
  return 'long';
}

/** The submit_sm fields of message `i` (several for a long message). */
function buildMessage(kind: Kind, i: number, source: string, destination: string, rd: number): PduFields[] {
  // An alphanumeric sender is TON 5 (NPI 0); a numeric one and the handset are international E.164 (1/1).
  const numeric = /^\+?\d+$/.test(source);
  const base = {
    source_addr_ton: numeric ? 1 : 5,
    source_addr_npi: numeric ? 1 : 0,
    source_addr: source,
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: destination,
    registered_delivery: rd,
  };
  if (kind === 'gsm7') {
    // Letters, digits, spaces and full stops are the same bytes in GSM 03.38 (unpacked) and ASCII.
    return [
      {
        ...base,
        data_coding: 0,
        short_message: Buffer.from(`Load test ${i}. Hello from smshub loadgen.`, 'latin1'),
      },
    ];
  }
  if (kind === 'ucs2') {
    const b = Buffer.from(`Нагрузочный тест ${i} 你好`, 'utf16le');
    b.swap16();
    return [{ ...base, data_coding: 8, short_message: b }];
  }
  const long = segmentText(`Long message ${i}. ${FILLER}${FILLER}${FILLER}`.slice(0, 400), {
    method: 'udh8',
    reference: i & 0xff,
  });
  return long.parts.map((p) => ({ ...base, ...partFields(long, p) }));
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const log = opts.logger ?? silentLogger;
  const binds = Math.max(1, opts.binds ?? 1);
  const window = Math.max(1, opts.window ?? 10);
  const rd = opts.registeredDelivery ?? 1;
  const source = opts.sourceAddr ?? 'LoadGen';
  const prefix = opts.destinationPrefix ?? '44771200';
  const nDest = Math.max(1, opts.destinations ?? 10_000);
  const destWidth = String(nDest - 1).length;
  const count = opts.count ?? (opts.durationMs === undefined ? 1000 : Infinity);
  const deadline = opts.durationMs === undefined ? Infinity : performance.now() + opts.durationMs;
  const mixIn = opts.mix ?? { gsm7: 100 };
  const mix = { gsm7: mixIn.gsm7 ?? 0, ucs2: mixIn.ucs2 ?? 0, long: mixIn.long ?? 0 };
  const mixTotal = mix.gsm7 + mix.ucs2 + mix.long;
  if (!(mixTotal > 0)) throw new Error('mix needs at least one positive share');
  const textIdFormat = opts.receiptIdFormat ?? 'as-is';
  const respIdFormat: MessageIdFormat = textIdFormat === 'dec' ? 'hex' : textIdFormat;
  const pacer = new Pacer(opts.rate ?? 0);

  // Per-submit_sm columns (records are built from them at the end only when asked for).
  const recMessage: number[] = [];
  const recKind: Kind[] = [];
  const recSubmit: number[] = [];
  const recResp: number[] = [];
  const recStatus: number[] = [];
  const recId: (string | undefined)[] = [];
  const recReceipt: number[] = [];
  const recStat: (ReceiptStat | undefined)[] = [];
  const byId = new Map<string, number>();
  const early = new Map<string, { at: number; stat: ReceiptStat }>();

  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const now = (): number => performance.now() - t0;
  let nextMessage = 0;
  let submitted = 0;
  let accepted = 0;
  let failed = 0;
  let finalReceipts = 0;
  let intermediate = 0;
  let unmatched = 0;
  let lastResp = 0;
  let lastReceipt = 0;
  let reconnects = 0;
  let stopping = false;
  const errors: Record<string, number> = {};
  const receiptStats: Partial<Record<ReceiptStat, number>> = {};
  let receiptWaiter: (() => void) | undefined;
  const expectsReceipt = (rd & 0x03) === 1;

  const applyReceipt = (idx: number, at: number, stat: ReceiptStat): void => {
    if (!isFinalStat(stat)) {
      intermediate++;
      return;
    }
    if (recReceipt[idx] !== -1) return; // a repeated final receipt
    recReceipt[idx] = at;
    recStat[idx] = stat;
    finalReceipts++;
    lastReceipt = at;
    receiptStats[stat] = (receiptStats[stat] ?? 0) + 1;
    if (receiptWaiter && finalReceipts >= accepted) receiptWaiter();
  };

  const onDeliver = (pdu: Pdu): void => {
    const at = now();
    if (((pdu.esm_class ?? 0) & 0x3c) === 0) return; // an MO message, not a receipt
    let id: string | undefined;
    let stat: ReceiptStat | undefined;
    if (pdu.receipted_message_id) id = normalizeMessageId(pdu.receipted_message_id, respIdFormat);
    if (pdu.message_state !== undefined) stat = STATE_TO_STAT[pdu.message_state];
    if (id === undefined || stat === undefined) {
      const bytes =
        pdu.short_message && pdu.short_message.length > 0 ? pdu.short_message : pdu.message_payload;
      if (bytes) {
        const r = parseReceipt(bytes);
        if (id === undefined && r.id) id = normalizeMessageId(r.id, textIdFormat);
        stat ??= r.stat;
      }
    }
    if (id === undefined || stat === undefined) {
      unmatched++;
      return;
    }
    const idx = byId.get(id);
    if (idx === undefined) {
      // Receipts can overtake their submit_sm_resp; keep it until the resp arrives.
      if (early.size < 100_000) early.set(id, { at, stat });
      else unmatched++;
      return;
    }
    applyReceipt(idx, at, stat);
  };

  const takeMessage = (): number => {
    if (stopping || nextMessage >= count || performance.now() >= deadline || opts.signal?.aborted) return -1;
    return nextMessage++;
  };

  const submitOne = async (
    session: SmppSession,
    m: number,
    kind: Kind,
    fields: PduFields,
  ): Promise<boolean> => {
    const idx = recSubmit.length;
    recMessage.push(m);
    recKind.push(kind);
    recSubmit.push(now());
    recResp.push(-1);
    recStatus.push(STATUS_LOCAL);
    recId.push(undefined);
    recReceipt.push(-1);
    recStat.push(undefined);
    submitted++;
    try {
      const resp = await session.submit(fields);
      const at = now();
      recResp[idx] = at;
      lastResp = at;
      recStatus[idx] = 0;
      accepted++;
      const id = normalizeMessageId(resp.message_id ?? '', respIdFormat);
      recId[idx] = resp.message_id;
      byId.set(id, idx);
      const e = early.get(id);
      if (e) {
        early.delete(id);
        applyReceipt(idx, e.at, e.stat);
      }
      return true;
    } catch (err) {
      const at = now();
      recResp[idx] = at;
      lastResp = at;
      failed++;
      let name: string;
      if (err instanceof SmppTimeoutError) {
        recStatus[idx] = STATUS_TIMEOUT;
        name = 'timeout';
      } else if (err instanceof SmppClosedError) {
        recStatus[idx] = STATUS_CLOSED;
        name = 'closed';
      } else if (err instanceof SmppError && err.commandStatus) {
        recStatus[idx] = err.commandStatus;
        name = statusLabel(err.commandStatus);
      } else {
        name = 'error';
        log.warn({ err: (err as Error).message }, 'loadgen submit failed');
      }
      errors[name] = (errors[name] ?? 0) + 1;
      return !(err instanceof SmppClosedError);
    }
  };

  const worker = async (session: SmppSession): Promise<void> => {
    for (;;) {
      if (!pacer.unlimited) await pacer.acquire();
      const m = takeMessage();
      if (m < 0) return;
      const kind = pickKind(mix, mixTotal, m);
      const dest = prefix + String(m % nDest).padStart(destWidth, '0');
      const parts = buildMessage(kind, m, source, dest, rd);
      for (const f of parts) {
        if (!(await submitOne(session, m, kind, f))) return; // the session closed
      }
    }
  };

  const connect = (): Promise<SmppSession> =>
    connectSmpp({
      host: opts.host,
      port: opts.port,
      ...(opts.tls !== undefined && { tls: opts.tls }),
      systemId: opts.systemId,
      password: opts.password,
      bindType: 'transceiver',
      window,
      inboundWindow: Math.max(100, window * 2),
      enquireLinkMs: 30_000,
      responseTimeoutMs: opts.responseTimeoutMs ?? 30_000,
      interfaceVersion: opts.interfaceVersion ?? 0x34,
      handlers: { deliver_sm: (pdu) => onDeliver(pdu) },
      logger: log,
    });

  const sessions = await Promise.all(Array.from({ length: binds }, connect));
  const live = new Set(sessions);

  const progressTimer = opts.onProgress
    ? setInterval(
        () =>
          opts.onProgress?.({
            elapsedMs: Math.round(now()),
            submitted,
            accepted,
            failed,
            receipts: finalReceipts,
          }),
        1000,
      )
    : undefined;

  const runBind = async (first: SmppSession): Promise<void> => {
    let session = first;
    for (;;) {
      await Promise.all(Array.from({ length: window }, () => worker(session)));
      const more = !stopping && nextMessage < count && performance.now() < deadline && !opts.signal?.aborted;
      if (!more || session.state !== 'CLOSED' || opts.reconnect === false) return;
      live.delete(session);
      for (let attempt = 0; ; attempt++) {
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
        if (stopping) return;
        try {
          session = await connect();
          live.add(session);
          reconnects++;
          break;
        } catch (e) {
          log.warn({ err: (e as Error).message }, 'loadgen reconnect failed');
          if (attempt >= 10) return;
        }
      }
    }
  };

  try {
    await Promise.all(sessions.map(runBind));
    // Wait for the outstanding final receipts.
    if (expectsReceipt && finalReceipts < accepted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.receiptWaitMs ?? 10_000);
        receiptWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    stopping = true;
    pacer.stop();
    if (progressTimer) clearInterval(progressTimer);
    await Promise.all([...live].map((s) => s.close()));
  }

  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const firstSubmit = recSubmit.length > 0 ? (recSubmit[0] as number) : 0;
  const respLat = new Float64Array(recSubmit.length);
  let nResp = 0;
  const rcptLat = new Float64Array(recSubmit.length);
  let nRcpt = 0;
  for (let i = 0; i < recSubmit.length; i++) {
    if (recStatus[i] === 0) respLat[nResp++] = (recResp[i] as number) - (recSubmit[i] as number);
    if ((recReceipt[i] as number) >= 0)
      rcptLat[nRcpt++] = (recReceipt[i] as number) - (recSubmit[i] as number);
  }
  const submitPhaseMs = Math.max(0, lastResp - firstSubmit);
  const receiptPhaseMs = Math.max(0, lastReceipt - firstSubmit);
  const { password: _pw, onProgress: _p, signal: _s, logger: _l, tls: _t, ...shown } = opts;
  const result: LoadResult = {
    options: shown,
    messages: nextMessage,
    submitted,
    accepted,
    errors,
    submitPhaseMs: Math.round(submitPhaseMs),
    acceptedPerSecond: submitPhaseMs > 0 ? Math.round((accepted / submitPhaseMs) * 1000) : 0,
    receipts: finalReceipts,
    intermediateReceipts: intermediate,
    unmatchedReceipts: unmatched + early.size,
    receiptsPerSecond: receiptPhaseMs > 0 ? Math.round((finalReceipts / receiptPhaseMs) * 1000) : 0,
    receiptStats,
    missingReceipts: expectsReceipt ? accepted - finalReceipts : 0,
    respLatencyMs: percentiles(respLat.subarray(0, nResp)),
    receiptLatencyMs: percentiles(rcptLat.subarray(0, nRcpt)),
    binds,
    reconnects,
    cpuMs: Math.round(cpuMs),
    cpuMicrosPerSubmit: accepted > 0 ? Math.round((cpuMs * 1000) / accepted) : 0,
  };
  if (opts.keepRecords) {
    result.records = recSubmit.map((submitAt, i) => {
      const r: SubmitRecord = {
        message: recMessage[i] as number,
        kind: recKind[i] as Kind,
        submitAt: round3(submitAt),
        respAt: round3(recResp[i] as number),
        status: recStatus[i] as number,
        receiptAt: round3(recReceipt[i] as number),
      };
      if (recId[i] !== undefined) r.messageId = recId[i];
      if (recStat[i] !== undefined) r.stat = recStat[i];
      return r;
    });
  }
  return result;
}

function round3(x: number): number {
  return x < 0 ? x : Math.round(x * 1000) / 1000;
}

function statusLabel(status: number): string {
  return statusName(status);
}
