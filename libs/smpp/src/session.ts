import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  decodePdu,
  encodeHeaderOnly,
  encodePduFields,
  GENERIC_NACK,
  HEADER_LENGTH,
  isResponseId,
  CommandId,
  type Pdu,
  type PduFields,
} from './codec.js';
import { SmppClosedError, SmppError, SmppTimeoutError } from './errors.js';
import { CommandStatus, statusName } from './status.js';
import { validateBind } from './validate.js';

/**
 * One SMPP session over one TCP or TLS socket, for either side (ESME "client" or SMSC "server").
 *
 * Replaces node-smpp's Session, which has no window, no response timeout, no write backpressure, no bind
 * state machine, and whose parser wedges after a decode exception. Framing here reads command_length,
 * waits for the whole PDU and decodes it with the bounded decoder in codec.ts: a malformed PDU is answered
 * (generic_nack or its *_resp with the error status, echoing the sequence number) and reading resumes at the
 * next PDU boundary; only a command_length that is impossible (< 16 or > maxPduLength) makes resynchronising
 * impossible, and then this session alone is closed.
 */

export type BindType = 'transmitter' | 'receiver' | 'transceiver';
export type SessionState = 'OPEN' | 'BOUND_TX' | 'BOUND_RX' | 'BOUND_TRX' | 'UNBINDING' | 'CLOSED';
export type SessionSide = 'client' | 'server';

/** pino-compatible subset. */
export interface SmppLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;
export const silentLogger: SmppLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** What a request handler answers: command_status (default ESME_ROK) and response body fields. */
export interface ResponseSpec {
  status?: number;
  fields?: PduFields;
}

export type RequestHandler = (
  pdu: Pdu,
  session: SmppSession,
) => Promise<ResponseSpec | void> | ResponseSpec | void;

/** Inbound requests an application can handle. alert_notification has no response (the return is ignored). */
export type HandledCommand =
  | 'submit_sm'
  | 'submit_multi'
  | 'data_sm'
  | 'query_sm'
  | 'cancel_sm'
  | 'replace_sm'
  | 'deliver_sm'
  | 'alert_notification';

export type RequestHandlers = Partial<Record<HandledCommand, RequestHandler>>;

/** Result of a server's bind decision. systemId is the SMSC's own id sent in bind_resp. */
export interface BindDecision {
  status: number;
  systemId?: string;
}

export type BindHandler = (
  session: SmppSession,
  pdu: Pdu & { bindType: BindType },
) => Promise<BindDecision> | BindDecision;

export interface SmppSessionOptions {
  side: SessionSide;
  /** Outbound window: at most this many requests awaiting a response (enquire_link/unbind/bind excluded). Default 10. */
  window?: number;
  /** Per-request response timeout. Default 30 000 ms. */
  responseTimeoutMs?: number;
  /** Inbound requests handled concurrently before the rest are answered with overWindowStatus. Default 100. */
  inboundWindow?: number;
  /** Status for inbound requests over inboundWindow. Default ESME_RTHROTTLED (use ESME_RMSGQFUL if preferred). */
  overWindowStatus?: number;
  /** Send enquire_link every N ms while bound (0 = never). A failed enquire_link closes the session. */
  enquireLinkMs?: number;
  /** No inbound PDU for N ms: unbind and close (0 = never). */
  idleTimeoutMs?: number;
  /** Server side: close a connection that has not bound within N ms (0 = never). enquire_link does not count. */
  bindTimeoutMs?: number;
  /** Largest accepted command_length. Default 70 000 (message_payload can hold 64 KiB). */
  maxPduLength?: number;
  /** Pause reading the socket while more than this many bytes wait to be written. Default 1 MiB. */
  maxWriteBufferBytes?: number;
  handlers?: RequestHandlers;
  /** Server side: decides binds. Without one, every bind is refused with ESME_RBINDFAIL. */
  onBind?: BindHandler;
  /** Server side: system_id sent in bind_resp when onBind does not give one. */
  systemId?: string;
  /** Server side: close the connection after refusing a bind. Default true. */
  closeOnBindFailure?: boolean;
  logger?: SmppLogger;
}

export interface RequestOptions {
  /** Overrides the session's response timeout for this request. */
  timeoutMs?: number;
}

interface Pending {
  command: string;
  resolve: (pdu: Pdu) => void;
  reject: (err: Error) => void;
  /** Date.now() after which the request times out (one sweep timer per session watches every deadline). */
  deadline: number;
  timeoutMs: number;
  windowed: boolean;
}

/** Requests sent by the ESME (handled by the server side) and by the SMSC (handled by the client side). */
const ESME_TO_SMSC = new Set([
  'submit_sm',
  'submit_multi',
  'data_sm',
  'query_sm',
  'cancel_sm',
  'replace_sm',
  'broadcast_sm',
  'query_broadcast_sm',
  'cancel_broadcast_sm',
]);
const SMSC_TO_ESME = new Set(['deliver_sm', 'data_sm', 'alert_notification']);
const NO_RESPONSE = new Set(['alert_notification', 'outbind']);
const UNWINDOWED = new Set([
  'enquire_link',
  'unbind',
  'bind_transmitter',
  'bind_receiver',
  'bind_transceiver',
]);

const BIND_COMMANDS: Readonly<Record<string, BindType>> = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};
/** Request command -> bind type, for the bind_resp that binds a client session. */
const BIND_RESPONSE_TYPES = new Map(Object.entries(BIND_COMMANDS));
const BOUND_STATE: Record<BindType, SessionState> = {
  transmitter: 'BOUND_TX',
  receiver: 'BOUND_RX',
  transceiver: 'BOUND_TRX',
};

function canTransmit(state: SessionState): boolean {
  return state === 'BOUND_TX' || state === 'BOUND_TRX';
}
function canReceive(state: SessionState): boolean {
  return state === 'BOUND_RX' || state === 'BOUND_TRX';
}
function isBound(state: SessionState): boolean {
  return state === 'BOUND_TX' || state === 'BOUND_RX' || state === 'BOUND_TRX';
}

const EMPTY = Buffer.alloc(0);
const NO_FIELDS: PduFields = Object.freeze({});
const RESOLVED = Promise.resolve();
/** 'submit_sm' -> 'submit_sm_resp', without building the string for every response. */
const RESPONSE_NAME = new Map(Object.keys(CommandId).map((name) => [name, `${name}_resp`]));

export interface SmppSessionEvents {
  bound: [bindType: BindType];
  /** The peer or this side unbound; the socket is being closed. */
  unbound: [];
  close: [];
  /** A malformed PDU was received and answered; the session goes on unless `fatal`. */
  protocolError: [
    info: { status: number; reason: string; command: string; sequenceNumber: number; fatal: boolean },
  ];
  /** No PDU within idleTimeoutMs. */
  idle: [];
  /** Every inbound PDU that decoded, before it is handled. */
  pdu: [pdu: Pdu];
}

export class SmppSession extends EventEmitter<SmppSessionEvents> {
  readonly side: SessionSide;
  readonly socket: Socket | TLSSocket;
  /** Local id for logs. */
  readonly id: string;
  private _state: SessionState = 'OPEN';
  private _bindType: BindType | undefined;
  /** Client side: the SMSC's system_id from bind_resp. Server side: the ESME's system_id from the bind. */
  peerSystemId: string | undefined;
  /** interface_version the ESME bound with (server side) or that the SMSC reported in sc_interface_version (client side). */
  peerInterfaceVersion: number | undefined;
  /** Free for the application (e.g. account data after a bind). */
  context: Record<string, unknown> = {};

  private readonly opts: Required<Omit<SmppSessionOptions, 'onBind' | 'systemId' | 'handlers' | 'logger'>> &
    Pick<SmppSessionOptions, 'onBind' | 'systemId'>;
  private handlers: RequestHandlers;
  private readonly log: SmppLogger;
  private rx: Buffer = EMPTY;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private windowUsed = 0;
  private readonly windowWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private _inflightInbound = 0;
  private needDrain = false;
  private readonly drainWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private readingPaused = false;
  private corked = false;
  private fatal = false;
  private bindInProgress = false;
  private enquireTimer: NodeJS.Timeout | undefined;
  private enquireInFlight = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** One timer for every pending request's deadline, armed for the earliest one (not one timer per request). */
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Infinity;
  /** Inbound requests waiting for their handler's microtask: handler, pdu, handler, pdu, ... */
  private readonly inbound: Array<RequestHandler | Pdu> = [];
  private readonly closed: Promise<void>;

  private static counter = 0;

  constructor(socket: Socket | TLSSocket, options: SmppSessionOptions) {
    super();
    this.socket = socket;
    this.side = options.side;
    this.id = `${options.side}-${++SmppSession.counter}`;
    this.opts = {
      side: options.side,
      window: Math.max(1, options.window ?? 10),
      responseTimeoutMs: options.responseTimeoutMs ?? 30_000,
      inboundWindow: Math.max(1, options.inboundWindow ?? 100),
      overWindowStatus: options.overWindowStatus ?? CommandStatus.ESME_RTHROTTLED,
      enquireLinkMs: options.enquireLinkMs ?? 0,
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
      bindTimeoutMs: options.bindTimeoutMs ?? 0,
      maxPduLength: options.maxPduLength ?? 70_000,
      maxWriteBufferBytes: options.maxWriteBufferBytes ?? 1024 * 1024,
      closeOnBindFailure: options.closeOnBindFailure ?? true,
      onBind: options.onBind,
      systemId: options.systemId,
    };
    this.handlers = { ...(options.handlers ?? {}) };
    this.log = options.logger ?? silentLogger;
    socket.setNoDelay(true);
    this.closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => this.log.debug({ session: this.id, err: err.message }, 'smpp socket error'));
    socket.on('close', () => this.onClose());
    if (this.opts.bindTimeoutMs > 0 && this.side === 'server') {
      const t = setTimeout(() => {
        if (this._state !== 'OPEN') return;
        this.log.info(
          { session: this.id, bindTimeoutMs: this.opts.bindTimeoutMs },
          'smpp no bind in time; closing',
        );
        this.socket.destroy();
      }, this.opts.bindTimeoutMs);
      t.unref();
      socket.once('close', () => clearTimeout(t));
    }
    if (this.opts.idleTimeoutMs > 0) {
      this.idleTimer = setTimeout(() => this.onIdle(), this.opts.idleTimeoutMs);
      this.idleTimer.unref();
    }
  }

  get state(): SessionState {
    return this._state;
  }
  get bindType(): BindType | undefined {
    return this._bindType;
  }
  /** Outbound requests awaiting a response. */
  get inflightOutbound(): number {
    return this.pending.size;
  }
  /** Inbound requests handed to handlers and not yet answered. */
  get inflightInbound(): number {
    return this._inflightInbound;
  }
  /** Bytes queued in the socket, not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }
  /** False while the socket asked to wait for 'drain'. */
  get writable(): boolean {
    return !this.needDrain && this._state !== 'CLOSED';
  }
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  setHandlers(handlers: RequestHandlers): void {
    this.handlers = { ...handlers };
  }

  /** Resolves when the socket has drained (immediately when it has not asked to wait). Rejects when the session closes. */
  waitForDrain(): Promise<void> {
    if (!this.needDrain) return Promise.resolve();
    if (this._state === 'CLOSED') return Promise.reject(new SmppClosedError());
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  private async waitForDrainUntil(deadline: number, command: string): Promise<void> {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.waitForDrain(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new SmppTimeoutError(`${command} (waiting for the socket to drain)`, 0, left)),
            Math.max(0, left),
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the socket has closed. */
  waitClosed(): Promise<void> {
    return this.closed;
  }

  // ---------------------------------------------------------------- outbound requests

  /**
   * Send a request and resolve with its response. Waits for a window slot and for the socket to drain.
   * Rejects with SmppError (non-zero command_status, `pdu` attached), SmppTimeoutError, or SmppClosedError.
   */
  request(command: string, fields: PduFields = NO_FIELDS, options?: RequestOptions): Promise<Pdu> {
    try {
      this.checkOutbound(command);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const timeoutMs = options?.timeoutMs ?? this.opts.responseTimeoutMs;
    const windowed = !UNWINDOWED.has(command);
    if (this.needDrain || (windowed && this.windowUsed >= this.opts.window))
      return this.requestAfterWaiting(command, fields, timeoutMs, windowed);
    // The common case: a free slot and a socket that takes writes. Sent now, without a microtask hop.
    if (windowed) this.windowUsed++;
    return this.send(command, fields, timeoutMs, windowed);
  }

  private async requestAfterWaiting(
    command: string,
    fields: PduFields,
    timeoutMs: number,
    windowed: boolean,
  ): Promise<Pdu> {
    if (windowed) await this.acquireSlot();
    try {
      // A peer that stops reading must not hang callers forever: waiting for 'drain' counts against the
      // response timeout too (this is also what lets enquire_link detect such a peer).
      const drainDeadline = Date.now() + timeoutMs;
      while (this.needDrain) await this.waitForDrainUntil(drainDeadline, command);
      if (this._state === 'CLOSED') throw new SmppClosedError();
      if (windowed) this.checkOutbound(command); // state may have changed while waiting
    } catch (e) {
      if (windowed) this.releaseSlot();
      throw e;
    }
    return this.send(command, fields, timeoutMs, windowed);
  }

  /** Encode, register and write a request whose window slot (if any) is already held. */
  private send(command: string, fields: PduFields, timeoutMs: number, windowed: boolean): Promise<Pdu> {
    const seq = this.nextSeq();
    let buf: Buffer;
    try {
      buf = encodePduFields(command, 0, seq, fields);
    } catch (e) {
      if (windowed) this.releaseSlot();
      return Promise.reject(e as Error);
    }
    return new Promise<Pdu>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      this.pending.set(seq, { command, resolve, reject, deadline, timeoutMs, windowed });
      if (deadline < this.sweepAt) this.armSweep(deadline);
      this.write(buf);
    });
  }

  private armSweep(deadline: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepAt = deadline;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(0, deadline - Date.now()));
  }

  /** Time out every request past its deadline, then wait for the next deadline. */
  private sweep(): void {
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [seq, p] of this.pending) {
      if (p.deadline > now) {
        if (p.deadline < next) next = p.deadline;
        continue;
      }
      this.pending.delete(seq);
      if (p.windowed) this.releaseSlot();
      this.log.warn(
        { session: this.id, command: p.command, seq, timeoutMs: p.timeoutMs },
        'smpp response timeout',
      );
      p.reject(new SmppTimeoutError(p.command, seq, p.timeoutMs));
    }
    if (next !== Infinity && this._state !== 'CLOSED') this.armSweep(next);
  }

  submit(fields: PduFields, options?: RequestOptions): Promise<Pdu> {
    return this.request('submit_sm', fields, options);
  }
  deliver(fields: PduFields, options?: RequestOptions): Promise<Pdu> {
    return this.request('deliver_sm', fields, options);
  }
  dataSm(fields: PduFields, options?: RequestOptions): Promise<Pdu> {
    return this.request('data_sm', fields, options);
  }
  query(fields: PduFields, options?: RequestOptions): Promise<Pdu> {
    return this.request('query_sm', fields, options);
  }
  enquireLink(options?: RequestOptions): Promise<Pdu> {
    return this.request('enquire_link', {}, options);
  }

  /** Client side: bind. Resolves with bind_resp; the state becomes BOUND_*. */
  async bind(bindType: BindType, fields: PduFields, options?: RequestOptions): Promise<Pdu> {
    if (this.side !== 'client')
      throw new SmppError('only the client side binds', { commandStatus: CommandStatus.ESME_RINVBNDSTS });
    if (this._state !== 'OPEN' || this.bindInProgress) {
      throw new SmppError(`cannot bind in state ${this._state}`, {
        commandStatus: CommandStatus.ESME_RALYBND,
      });
    }
    this.bindInProgress = true;
    try {
      const resp = await this.request(`bind_${bindType}`, fields, options);
      this.markBound(bindType, resp);
      return resp;
    } finally {
      this.bindInProgress = false;
    }
  }

  /** Send unbind, wait for unbind_resp (or the timeout), then close the socket. */
  async unbind(options?: RequestOptions): Promise<void> {
    if (!isBound(this._state)) {
      if (this._state === 'OPEN') this.endSocket();
      return this.closed;
    }
    this._state = 'UNBINDING';
    this.stopEnquireLink();
    this.emit('unbound');
    try {
      await this.request(
        'unbind',
        {},
        { timeoutMs: options?.timeoutMs ?? Math.min(this.opts.responseTimeoutMs, 5000) },
      );
    } catch (e) {
      this.log.debug({ session: this.id, err: (e as Error).message }, 'unbind not answered');
    }
    this.endSocket();
    await this.closed;
  }

  /** Graceful close: unbind when bound, then close. Never rejects. */
  async close(): Promise<void> {
    if (this._state === 'CLOSED') return;
    await this.unbind().catch(() => undefined);
  }

  /** Close the socket at once; pending requests reject with SmppClosedError. */
  destroy(reason?: Error): void {
    if (reason) this.log.debug({ session: this.id, err: reason.message }, 'smpp session destroyed');
    this.socket.destroy();
  }

  /** Half-close, and destroy if the peer has not closed its side within 2 s. */
  private endSocket(): void {
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 2000);
    t.unref();
    this.socket.once('close', () => clearTimeout(t));
  }

  /** Write raw bytes (tests and simulators of misbehaving peers). Respects backpressure bookkeeping. */
  writeRaw(buf: Buffer): boolean {
    return this.write(buf);
  }

  private checkOutbound(command: string): void {
    const s = this._state;
    if (s === 'CLOSED') throw new SmppClosedError();
    if (s === 'UNBINDING' && command !== 'unbind')
      throw new SmppClosedError(`SMPP session is unbinding; ${command} not sent`);
    if (command === 'enquire_link' || command === 'unbind' || command === 'generic_nack') return;
    if (command in BIND_COMMANDS) {
      if (s !== 'OPEN')
        throw new SmppError(`bind in state ${s}`, { commandStatus: CommandStatus.ESME_RALYBND });
      return;
    }
    const allowed =
      this.side === 'client'
        ? ESME_TO_SMSC.has(command) && canTransmit(s)
        : SMSC_TO_ESME.has(command) && canReceive(s);
    if (!allowed) {
      throw new SmppError(`${command} not allowed for ${this.side} in state ${s}`, {
        commandStatus: CommandStatus.ESME_RINVBNDSTS,
        retriable: false,
      });
    }
  }

  private nextSeq(): number {
    do {
      this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    } while (this.pending.has(this.seq));
    return this.seq;
  }

  private acquireSlot(): Promise<void> {
    if (this.windowUsed < this.opts.window) {
      this.windowUsed++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.windowWaiters.push({ resolve, reject }));
  }

  private releaseSlot(): void {
    const next = this.windowWaiters.shift();
    if (next)
      next.resolve(); // the slot passes straight to the next waiter
    else this.windowUsed = Math.max(0, this.windowUsed - 1);
  }

  private write(buf: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    if (!this.corked) {
      // Batch every PDU written in this tick into one writev() instead of one syscall each.
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    const ok = this.socket.write(buf);
    if (!ok) this.needDrain = true;
    if (!this.readingPaused && this.socket.writableLength > this.opts.maxWriteBufferBytes) {
      // The peer is not reading what we send: stop reading its requests until it does.
      this.readingPaused = true;
      this.socket.pause();
    }
    return ok;
  }

  private onDrain(): void {
    this.needDrain = false;
    if (this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    }
    const waiters = this.drainWaiters.splice(0);
    for (const w of waiters) w.resolve();
  }

  // ---------------------------------------------------------------- inbound

  private onData(chunk: Buffer): void {
    if (this.fatal) return;
    this.rx = this.rx.length === 0 ? chunk : Buffer.concat([this.rx, chunk]);
    // Any complete PDU in this chunk counts as activity (once per chunk, not per PDU).
    if (this.idleTimer && this.rx.length >= HEADER_LENGTH && this.rx.length >= this.rx.readUInt32BE(0))
      this.idleTimer.refresh();
    while (this.rx.length >= 4 && !this.fatal) {
      const len = this.rx.readUInt32BE(0);
      if (len < HEADER_LENGTH || len > this.opts.maxPduLength) {
        this.onUnsyncable(len);
        return;
      }
      if (this.rx.length < len) break;
      const frame = this.rx.subarray(0, len);
      this.rx = this.rx.length === len ? EMPTY : this.rx.subarray(len);
      try {
        this.onFrame(frame);
      } catch (e) {
        // A bug in a handler's synchronous part must never take the process down.
        this.log.error({ session: this.id, err: (e as Error).message }, 'smpp frame handling failed');
      }
    }
  }

  /** command_length is impossible: the next PDU boundary cannot be found. Answer and close this session. */
  private onUnsyncable(len: number): void {
    this.fatal = true;
    const seq = this.rx.length >= HEADER_LENGTH ? this.rx.readUInt32BE(12) : 0;
    const cmdId = this.rx.length >= 8 ? this.rx.readUInt32BE(4) : 0;
    this.rx = EMPTY;
    const reason = `command_length ${len} outside ${HEADER_LENGTH}..${this.opts.maxPduLength}`;
    this.log.warn({ session: this.id, reason, seq }, 'smpp stream cannot be resynchronised; closing session');
    if (!isResponseId(cmdId) || cmdId === 0)
      this.write(encodeHeaderOnly(GENERIC_NACK, CommandStatus.ESME_RINVCMDLEN, seq));
    this.emit('protocolError', {
      status: CommandStatus.ESME_RINVCMDLEN,
      reason,
      command: 'unknown',
      sequenceNumber: seq,
      fatal: true,
    });
    this.endSocket();
  }

  private onFrame(frame: Buffer): void {
    const res = decodePdu(frame);
    if (!res.ok) {
      this.log.warn(
        { session: this.id, command: res.command, seq: res.sequence_number, reason: res.reason },
        'smpp malformed PDU',
      );
      this.emit('protocolError', {
        status: res.status,
        reason: res.reason,
        command: res.command,
        sequenceNumber: res.sequence_number,
        fatal: false,
      });
      if (isResponseId(res.command_id)) {
        const p = this.pending.get(res.sequence_number);
        if (p)
          this.settle(
            res.sequence_number,
            p,
            undefined,
            new SmppError(`malformed ${res.command}: ${res.reason}`, { commandStatus: res.status }),
          );
        return;
      }
      if (
        res.command === 'unknown' ||
        res.status === CommandStatus.ESME_RINVCMDLEN ||
        NO_RESPONSE.has(res.command)
      ) {
        if (!NO_RESPONSE.has(res.command))
          this.write(encodeHeaderOnly(GENERIC_NACK, res.status, res.sequence_number));
      } else {
        this.write(encodeHeaderOnly((res.command_id | 0x80000000) >>> 0, res.status, res.sequence_number));
      }
      return;
    }
    const pdu = res.pdu;
    this.emit('pdu', pdu);
    if (isResponseId(pdu.command_id)) this.onResponse(pdu);
    else this.onRequest(pdu);
  }

  private onResponse(pdu: Pdu): void {
    const p = this.pending.get(pdu.sequence_number);
    if (!p) {
      this.log.warn(
        { session: this.id, command: pdu.command, seq: pdu.sequence_number },
        'smpp late or unexpected response dropped',
      );
      return;
    }
    if (pdu.command_status !== 0) {
      this.settle(
        pdu.sequence_number,
        p,
        undefined,
        SmppError.fromStatus(p.command, pdu.command_status, pdu),
      );
    } else if (pdu.command_id === GENERIC_NACK) {
      this.settle(
        pdu.sequence_number,
        p,
        undefined,
        new SmppError(`${p.command} got generic_nack`, { commandStatus: CommandStatus.ESME_RSYSERR, pdu }),
      );
    } else {
      // A successful bind_resp binds the session here, synchronously: an SMSC may send deliver_sm in
      // the same TCP chunk, and it must find the session bound (not one microtask later).
      const bound = BIND_RESPONSE_TYPES.get(p.command);
      if (bound && this.side === 'client') this.markBound(bound, pdu);
      this.settle(pdu.sequence_number, p, pdu);
    }
  }

  /** Client side: the bind succeeded. Idempotent. */
  private markBound(bindType: BindType, resp: Pdu): void {
    if (isBound(this._state)) return;
    this._bindType = bindType;
    this._state = BOUND_STATE[bindType];
    this.peerSystemId = resp.system_id;
    this.peerInterfaceVersion = resp.sc_interface_version;
    this.onBound();
  }

  private settle(seq: number, p: Pending, pdu: Pdu | undefined, err?: Error): void {
    this.pending.delete(seq);
    if (p.windowed) this.releaseSlot();
    if (err) p.reject(err);
    else p.resolve(pdu as Pdu);
  }

  private respond(req: Pdu, status: number, fields: PduFields = NO_FIELDS): void {
    if (NO_RESPONSE.has(req.command)) return;
    const respId = (req.command_id | 0x80000000) >>> 0;
    let buf: Buffer;
    try {
      buf =
        status === 0 || Object.keys(fields).length > 0
          ? encodePduFields(
              RESPONSE_NAME.get(req.command) ?? `${req.command}_resp`,
              status,
              req.sequence_number,
              fields,
            )
          : encodeHeaderOnly(respId, status, req.sequence_number);
    } catch (e) {
      this.log.error(
        { session: this.id, command: req.command, err: (e as Error).message },
        'smpp response could not be encoded',
      );
      buf = encodeHeaderOnly(respId, CommandStatus.ESME_RSYSERR, req.sequence_number);
    }
    this.write(buf);
  }

  private onRequest(pdu: Pdu): void {
    const cmd = pdu.command;
    if (cmd === 'enquire_link') return this.respond(pdu, 0);
    if (cmd === 'unbind') {
      if (this._state === 'UNBINDING') return this.respond(pdu, 0); // both sides unbinding at once
      if (!isBound(this._state)) return this.respond(pdu, CommandStatus.ESME_RINVBNDSTS);
      this.respond(pdu, 0);
      this._state = 'UNBINDING';
      this.stopEnquireLink();
      this.emit('unbound');
      this.endSocket();
      return;
    }
    if (cmd in BIND_COMMANDS) return void this.onBindRequest(pdu, BIND_COMMANDS[cmd] as BindType);
    if (cmd === 'outbind') {
      this.log.info({ session: this.id }, 'smpp outbind ignored');
      return;
    }
    const s = this._state;
    const allowed =
      this.side === 'server'
        ? ESME_TO_SMSC.has(cmd) && canTransmit(s)
        : SMSC_TO_ESME.has(cmd) && canReceive(s);
    if (!allowed) {
      const status =
        ESME_TO_SMSC.has(cmd) || SMSC_TO_ESME.has(cmd)
          ? CommandStatus.ESME_RINVBNDSTS
          : CommandStatus.ESME_RINVCMDID;
      return this.respond(pdu, status);
    }
    const handler = this.handlers[cmd as HandledCommand];
    if (!handler) return this.respond(pdu, CommandStatus.ESME_RINVCMDID);
    if (this._inflightInbound >= this.opts.inboundWindow) {
      this.log.debug(
        { session: this.id, command: cmd, seq: pdu.sequence_number },
        'smpp inbound window full',
      );
      return this.respond(pdu, this.opts.overWindowStatus);
    }
    this._inflightInbound++;
    // Handlers run in a microtask (after the rest of this chunk is framed), as before, but one microtask
    // serves every request of the chunk (queueMicrotask would also cost an AsyncResource per request);
    // a synchronous answer is written at once, a promise is followed with one then() instead of a chain of four.
    this.inbound.push(handler, pdu);
    if (this.inbound.length === 2) void RESOLVED.then(this.runInbound);
  }

  private readonly runInbound = (): void => {
    const queue = this.inbound;
    for (let i = 0; i < queue.length; i += 2) {
      try {
        this.runHandler(queue[i] as RequestHandler, queue[i + 1] as Pdu);
      } catch (e) {
        // Never leave the queue half-run: the next chunk's requests would not be scheduled.
        this.log.error({ session: this.id, err: (e as Error)?.message }, 'smpp request dispatch failed');
      }
    }
    queue.length = 0;
  };

  private runHandler(handler: RequestHandler, pdu: Pdu): void {
    let result: Promise<ResponseSpec | void> | ResponseSpec | void;
    try {
      result = handler(pdu, this);
    } catch (err) {
      this.finishInbound(pdu, undefined, true, err);
      return;
    }
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as Promise<unknown>).then === 'function'
    ) {
      (result as Promise<ResponseSpec | void>).then(
        (spec) => this.finishInbound(pdu, spec, false, undefined),
        (err: unknown) => this.finishInbound(pdu, undefined, true, err),
      );
    } else {
      this.finishInbound(pdu, result as ResponseSpec | void, false, undefined);
    }
  }

  private finishInbound(pdu: Pdu, spec: ResponseSpec | void, failed: boolean, err: unknown): void {
    this._inflightInbound--;
    try {
      if (!failed) {
        this.respond(pdu, spec?.status ?? 0, spec?.fields);
        return;
      }
      const status =
        err instanceof SmppError && err.commandStatus !== 0 ? err.commandStatus : CommandStatus.ESME_RSYSERR;
      if (!(err instanceof SmppError))
        this.log.error(
          { session: this.id, command: pdu.command, err: (err as Error)?.message },
          'smpp handler failed',
        );
      this.respond(pdu, status);
    } catch (e) {
      this.log.error({ session: this.id, err: (e as Error)?.message }, 'smpp respond failed');
    }
  }

  private async onBindRequest(pdu: Pdu, bindType: BindType): Promise<void> {
    if (this.side !== 'server') return this.respond(pdu, CommandStatus.ESME_RINVBNDSTS);
    if (isBound(this._state) || this.bindInProgress) return this.respond(pdu, CommandStatus.ESME_RALYBND);
    if (this._state !== 'OPEN') return this.respond(pdu, CommandStatus.ESME_RINVBNDSTS);
    this.bindInProgress = true;
    let decision: BindDecision;
    const fieldStatus = validateBind(pdu);
    try {
      decision = fieldStatus
        ? { status: fieldStatus }
        : this.opts.onBind
          ? await this.opts.onBind(this, Object.assign(pdu, { bindType }))
          : { status: CommandStatus.ESME_RBINDFAIL };
    } catch (e) {
      this.log.error({ session: this.id, err: (e as Error).message }, 'smpp onBind failed');
      decision = {
        status: e instanceof SmppError && e.commandStatus ? e.commandStatus : CommandStatus.ESME_RBINDFAIL,
      };
    } finally {
      this.bindInProgress = false;
    }
    if (this._state !== 'OPEN') return; // closed meanwhile
    if (decision.status !== 0) {
      this.respond(pdu, decision.status);
      this.log.info(
        { session: this.id, systemId: pdu.system_id, status: statusName(decision.status) },
        'smpp bind refused',
      );
      if (this.opts.closeOnBindFailure) this.endSocket();
      return;
    }
    const iv = pdu.interface_version ?? 0;
    const fields: PduFields = { system_id: decision.systemId ?? this.opts.systemId ?? 'smshub' };
    // sc_interface_version: 0x50 to 5.0 ESMEs, 0x34 to 3.4 ones; none to 3.3 ESMEs, which do not know TLVs.
    if (iv >= 0x50) fields.sc_interface_version = 0x50;
    else if (iv >= 0x34) fields.sc_interface_version = 0x34;
    this._bindType = bindType;
    this._state = BOUND_STATE[bindType];
    this.peerSystemId = pdu.system_id;
    this.peerInterfaceVersion = iv;
    this.respond(pdu, 0, fields);
    this.onBound();
  }

  private onBound(): void {
    this.emit('bound', this._bindType as BindType);
    if (this.opts.enquireLinkMs > 0) {
      this.enquireTimer = setInterval(() => this.sendEnquireLink(), this.opts.enquireLinkMs);
      this.enquireTimer.unref();
    }
  }

  private sendEnquireLink(): void {
    if (this.enquireInFlight || !isBound(this._state)) return;
    this.enquireInFlight = true;
    this.enquireLink()
      .catch((e: unknown) => {
        if (this._state === 'CLOSED') return;
        this.log.warn(
          { session: this.id, err: (e as Error).message },
          'smpp enquire_link failed; closing session',
        );
        this.destroy(e as Error);
      })
      .finally(() => {
        this.enquireInFlight = false;
      });
  }

  private stopEnquireLink(): void {
    if (this.enquireTimer) clearInterval(this.enquireTimer);
    this.enquireTimer = undefined;
  }

  private onIdle(): void {
    if (this._state === 'CLOSED') return;
    this.log.info({ session: this.id, idleTimeoutMs: this.opts.idleTimeoutMs }, 'smpp session idle; closing');
    this.emit('idle');
    if (isBound(this._state))
      void this.unbind({ timeoutMs: Math.min(2000, this.opts.responseTimeoutMs) }).finally(() =>
        this.socket.destroy(),
      );
    else this.socket.destroy();
  }

  private onClose(): void {
    this._state = 'CLOSED';
    this.stopEnquireLink();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const [seq, p] of this.pending) {
      this.pending.delete(seq);
      p.reject(new SmppClosedError(`SMPP session closed while ${p.command} seq=${seq} awaited its response`));
    }
    this.windowUsed = 0;
    for (const w of this.windowWaiters.splice(0)) w.reject(new SmppClosedError());
    for (const w of this.drainWaiters.splice(0)) w.reject(new SmppClosedError());
    this.emit('close');
  }
}

/** command_id by name, re-exported for convenience. */
export { CommandId };
