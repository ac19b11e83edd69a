// A small SMSC for precise fault injection, on libs/smpp's server over real TCP: scripted answers per
// submit_sm, a record of every submit with its arrival time, receipts and MO pushed on demand, and
// dropping every connection at once.
import {
  CommandStatus,
  createSmppServer,
  type Pdu,
  type PduFields,
  type SmppServer,
  type SmppSession,
} from '@smshub/smpp';

export interface Answer {
  status?: number;
  /** Never answer (the ESME's response timeout fires). */
  silent?: boolean;
  delayMs?: number;
  messageId?: string;
}

export interface Received {
  at: number;
  pdu: Pdu;
  sessionId: string;
  /** destination_addr + the concatenation info, to spot duplicates. */
  key: string;
  answeredWith?: number;
  messageId?: string;
}

export class FakeSmsc {
  readonly server: SmppServer;
  readonly received: Received[] = [];
  /** Whether `received` keeps every submit_sm (tests inspect them); the benchmark only counts them. */
  retainReceived = true;
  /** submit_sm received, retained or not. */
  submits = 0;
  readonly binds: string[] = [];
  readonly deliverResponses: number[] = [];
  /** enquire_link PDUs received from ESMEs. */
  enquireLinks = 0;
  port = 0;
  private nextId = 0x1000;
  /** Decides the answer of each submit_sm; default: accept. */
  answer: (pdu: Pdu, r: Received) => Answer = () => ({});
  acceptLatencyMs = 0;

  constructor(
    readonly systemId = 'hub',
    readonly password = 'secret',
    tls?: { cert: Buffer; key: Buffer },
  ) {
    this.server = createSmppServer({
      ...(tls ? { tls } : {}),
      onSession: (s) =>
        s.on('pdu', (p) => {
          if (p.command === 'enquire_link') this.enquireLinks++;
        }),
      onBind: (_s, pdu) => {
        this.binds.push(pdu.bindType);
        return pdu.system_id === this.systemId && pdu.password === this.password
          ? { status: 0, systemId: 'fakesmsc' }
          : { status: CommandStatus.ESME_RINVPASWD };
      },
      idleTimeoutMs: 0,
      inboundWindow: 1000,
      handlers: {
        submit_sm: async (pdu, session) => {
          const r: Received = { at: Date.now(), pdu, sessionId: session.id, key: FakeSmsc.keyOf(pdu) };
          this.submits++;
          if (this.retainReceived) this.received.push(r);
          const a = this.answer(pdu, r);
          const delay = a.delayMs ?? this.acceptLatencyMs;
          if (a.silent) await new Promise(() => undefined);
          if (delay > 0) await new Promise((res) => setTimeout(res, delay));
          if (a.status) {
            r.answeredWith = a.status;
            return { status: a.status };
          }
          const id = a.messageId ?? (this.nextId++).toString(16).toUpperCase();
          r.answeredWith = 0;
          r.messageId = id;
          return { fields: { message_id: id } };
        },
      },
    });
  }

  static keyOf(pdu: Pdu): string {
    const sm = pdu.short_message ?? Buffer.alloc(0);
    const udh = (pdu.esm_class ?? 0) & 0x40 ? sm.subarray(0, sm[0]! + 1).toString('hex') : '';
    const sar =
      pdu.sar_segment_seqnum !== undefined ? `sar${pdu.sar_msg_ref_num}/${pdu.sar_segment_seqnum}` : '';
    return `${pdu.destination_addr}|${udh}|${sar}`;
  }

  async listen(): Promise<number> {
    this.port = (await this.server.listen(0, '127.0.0.1')).port;
    return this.port;
  }

  boundSessions(): SmppSession[] {
    return [...this.server.sessions].filter((s) => s.state === 'BOUND_TRX' || s.state === 'BOUND_RX');
  }

  /** Sends a deliver_sm on a bound receiving session; resolves with the deliver_sm_resp status. */
  async deliver(fields: PduFields, sessionId?: string): Promise<number> {
    const s = this.boundSessions().find((x) => sessionId === undefined || x.id === sessionId);
    if (!s) throw new Error('no bound receiving session');
    try {
      const resp = await s.deliver(fields);
      this.deliverResponses.push(resp.command_status);
      return resp.command_status;
    } catch (err) {
      const status = (err as { commandStatus?: number }).commandStatus ?? -1;
      this.deliverResponses.push(status);
      return status;
    }
  }

  /** Drops every connection without unbind (a crashed or restarted SMSC). */
  dropAll(): void {
    for (const s of this.server.sessions) s.destroy();
  }

  accepted(): Received[] {
    return this.received.filter((r) => r.answeredWith === 0);
  }

  close(): Promise<void> {
    return this.server.close({ graceMs: 200 });
  }
}

/** Most arrivals within one calendar second. */
export function maxPerSecond(times: number[]): number {
  const buckets = new Map<number, number>();
  for (const t of times) buckets.set(Math.floor(t / 1000), (buckets.get(Math.floor(t / 1000)) ?? 0) + 1);
  return Math.max(0, ...buckets.values());
}

/** Most arrivals within any sliding 1000 ms window. */
export function maxInAnySecond(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
