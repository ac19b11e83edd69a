import type { Pool, PoolClient } from 'pg';
import type { Logger } from '@smshub/logging';
import type { SmppSession } from '@smshub/smpp';
import { moSent, receiptsExpired, receiptsFailed, receiptsPending, receiptsSent } from './metrics.js';
import type { ClaimedReceipt, ReceiptStore } from './receipt-store.js';

export interface DispatcherOptions {
  replicaId: string;
  /** How long a claim holds before another replica may take the row. */
  leaseMs: number;
  /** Fallback poll when no notification arrives. */
  pollMs: number;
  /** First retry delay after a failed deliver_sm; doubles per attempt up to maxRetryMs. */
  retryBaseMs: number;
  maxRetryMs: number;
  /** deliver_sm_resp timeout. */
  responseTimeoutMs: number;
  batch: number;
  /**
   * Acknowledged receipts are marked sent together, at most this long after the first of them (or at once
   * when `batch` are waiting): one statement for many acknowledgements under a paced flow. Until then the
   * row stays claimed under its lease, so no replica sends it again.
   */
  markDelayMs: number;
  /** How often expired rows are dropped and the pending gauge refreshed. */
  housekeepingMs: number;
}

/**
 * Sends stored receipts to the customer's receiver/transceiver sessions bound on THIS replica.
 * Rows are claimed with a lease (FOR UPDATE SKIP LOCKED), so two replicas with binds of the same system_id
 * never send the same receipt; a row is marked sent only after deliver_sm_resp OK, and retried with backoff
 * otherwise. Wakes on LISTEN smshub_ingress_receipts, on a local receiver bind, and on a short poll.
 *
 * An acknowledged receipt whose "sent" mark PostgreSQL refuses is not sent again: this replica keeps its id
 * in memory until the mark is written (a row it claims again is not resent), and after each refused mark
 * it renews the lease of those rows (a separate statement, which succeeds when only the mark is refused),
 * so no other replica can claim them while this one is alive and retrying. Remaining window: PostgreSQL
 * refusing every statement for longer than the lease, then on its return another replica claiming the row
 * before this one's next mark retry (at most min(retryBaseMs, leaseMs / 4) later), or this replica dying
 * with marks unwritten: then the receipt is sent again (SMPP receipts are at least once).
 */
export class ReceiptDispatcher {
  private readonly receivers = new Map<string, SmppSession[]>();
  private readonly rr = new Map<string, number>();
  private running = false;
  private wake: (() => void) | null = null;
  private kicked = false;
  private loop: Promise<void> | null = null;
  private housekeeping: NodeJS.Timeout | null = null;
  private listener: PoolClient | null = null;
  private readonly inflight = new Set<Promise<void>>();
  /** Receipts claimed in their insert (`sendClaimed`) whose deliver_sm is not answered yet. */
  private direct = 0;
  /** Acknowledged receipts waiting to be marked sent, with one statement for all of them. */
  private acks: Ack[] = [];
  /** Acknowledged receipts (message id/status) whose "sent" mark is not written yet: never sent again. */
  private readonly unmarked = new Set<string>();
  private markTimer: NodeJS.Timeout | null = null;
  private marking: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly store: ReceiptStore,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
  ) {}

  /** A session that can take deliver_sm was bound here. */
  addReceiver(systemId: string, session: SmppSession): void {
    const list = this.receivers.get(systemId) ?? [];
    list.push(session);
    this.receivers.set(systemId, list);
    session.once('close', () => this.removeReceiver(systemId, session));
    session.once('unbound', () => this.removeReceiver(systemId, session));
    this.kick();
  }

  private removeReceiver(systemId: string, session: SmppSession): void {
    const list = (this.receivers.get(systemId) ?? []).filter((s) => s !== session);
    if (list.length) this.receivers.set(systemId, list);
    else this.receivers.delete(systemId);
  }

  /**
   * How many more receipts this replica takes claimed in their insert (`ReceiptStore.insertMany` with
   * `claim`) and sends at once, without a claim statement: at most `batch` of them wait for their
   * deliver_sm_resp at a time, as a claim round's would; the rest are stored unclaimed for the claim loop.
   */
  directRoom(): number {
    return this.running ? Math.max(0, this.opts.batch - this.direct) : 0;
  }

  /** Whether a receiver or transceiver of `systemId` is bound on this replica. */
  canSend(systemId: string): boolean {
    return (this.receivers.get(systemId) ?? []).some(
      (s) => s.state === 'BOUND_RX' || s.state === 'BOUND_TRX',
    );
  }

  /**
   * Sends receipts this replica claimed in their insert (attempt 1, under its lease), as a claim round
   * would send them; not waited for. A dispatcher stopping meanwhile frees them for the next claimer.
   */
  sendClaimed(rows: readonly ClaimedReceipt[]): void {
    for (const r of rows) {
      if (!this.running) {
        void this.store
          .release(r.messageId, r.status, this.opts.replicaId)
          .catch((err: unknown) => this.log.warn({ err }, 'cannot free a claimed receipt; its lease will'));
        continue;
      }
      this.direct++;
      void this.track(
        this.send(r)
          .catch((err: unknown) => this.log.warn({ err }, 'receipt dispatch failed; its lease will end'))
          .finally(() => this.direct--),
      );
    }
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async start(): Promise<void> {
    this.running = true;
    try {
      this.listener = await this.pool.connect();
      this.listener.on('notification', (n) => {
        if (n.payload && this.receivers.has(n.payload)) this.kick();
      });
      this.listener.on('error', (err) => this.log.warn({ err }, 'receipt LISTEN connection failed; polling'));
      await this.listener.query('LISTEN smshub_ingress_receipts');
    } catch (err) {
      this.log.warn({ err }, 'cannot LISTEN for receipts; polling only');
    }
    this.loop = this.run();
    const hk = async (): Promise<void> => {
      try {
        const expired = await this.store.expire();
        if (expired) {
          receiptsExpired.inc(expired);
          this.log.info({ expired }, 'receipts dropped at the end of their validity');
        }
        receiptsPending.set(await this.store.pendingCount());
      } catch (err) {
        this.log.warn({ err }, 'receipt housekeeping failed');
      }
    };
    void hk();
    this.housekeeping = setInterval(() => void hk(), this.opts.housekeepingMs);
    this.housekeeping.unref();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.kicked = false;
      let more = false;
      try {
        more = await this.tick();
      } catch (err) {
        this.log.warn({ err }, 'receipt dispatch failed; retrying');
      }
      if (!this.running) break;
      if (more || this.kicked) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.pollMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** One claim-and-send round. Returns true when a full batch was claimed (more may be due). */
  private async tick(): Promise<boolean> {
    const systemIds = [...this.receivers.keys()];
    if (!systemIds.length) return false;
    const rows = await this.store.claim(systemIds, this.opts.replicaId, this.opts.leaseMs, this.opts.batch);
    await Promise.all(rows.map((r) => this.track(this.send(r))));
    return rows.length === this.opts.batch;
  }

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  private pickSession(systemId: string): SmppSession | undefined {
    const list = (this.receivers.get(systemId) ?? []).filter(
      (s) => s.state === 'BOUND_RX' || s.state === 'BOUND_TRX',
    );
    if (!list.length) return undefined;
    const i = (this.rr.get(systemId) ?? 0) % list.length;
    this.rr.set(systemId, i + 1);
    return list[i];
  }

  private async send(r: ClaimedReceipt): Promise<void> {
    // Acknowledged already, its mark still queued (PostgreSQL refused it past the lease): claiming it again
    // renewed the lease; the queued mark will end it.
    if (this.unmarked.has(ackKey(r))) {
      this.log.debug({ messageId: r.messageId }, 'receipt acknowledged already; its mark is pending');
      return;
    }
    const session = this.pickSession(r.systemId);
    if (!session) {
      await this.store.release(r.messageId, r.status, this.opts.replicaId);
      return;
    }
    try {
      await session.deliver(deliverFields(r), { timeoutMs: this.opts.responseTimeoutMs });
    } catch (err) {
      receiptsFailed.inc();
      const delay = Math.min(this.opts.maxRetryMs, this.opts.retryBaseMs * 2 ** Math.max(0, r.attempts - 1));
      this.log.warn(
        {
          messageId: r.messageId,
          systemId: r.systemId,
          err: (err as Error).message,
          attempts: r.attempts,
          retryInMs: delay,
        },
        'receipt not acknowledged',
      );
      await this.store.retryLater(r.messageId, r.status, this.opts.replicaId, delay, (err as Error).message);
      return;
    }
    const inbound = (r.esmClass ?? 0x04) !== 0x04;
    if (inbound) moSent.inc();
    else receiptsSent.inc();
    this.markSent({ messageId: r.messageId, status: r.status, inbound });
    this.log.debug({ messageId: r.messageId, systemId: r.systemId }, 'receipt delivered');
  }

  /**
   * Queues an acknowledged receipt to be marked sent; the queue is written with one statement `markDelayMs`
   * after its first entry, or at once when it holds a batch. The sender does not wait for it: the row is
   * claimed by this replica until its lease ends, which is what keeps it from being sent twice.
   */
  private markSent(ack: Ack): void {
    this.acks.push(ack);
    this.unmarked.add(ackKey(ack));
    if (this.acks.length >= this.opts.batch) this.flushMarks();
    else this.markTimer ??= setTimeout(() => this.flushMarks(), this.opts.markDelayMs);
  }

  /** Writes the queued acknowledgements (after the previous write); a failed write keeps them queued. */
  private flushMarks(): Promise<void> {
    if (this.markTimer) clearTimeout(this.markTimer);
    this.markTimer = null;
    const acks = this.acks;
    this.acks = [];
    if (acks.length === 0) return this.marking;
    this.marking = this.marking.then(async () => {
      try {
        await this.store.deliveredMany(acks, this.opts.replicaId);
        for (const a of acks) this.unmarked.delete(ackKey(a));
      } catch (err) {
        this.log.warn({ err, receipts: acks.length }, 'cannot mark acknowledged receipts sent; retrying');
        this.acks.unshift(...acks);
        // Keep the rows ours while the mark fails: another replica would send them again.
        try {
          const pending = this.acks.slice();
          const renewed = await this.store.renewMany(pending, this.opts.replicaId, this.opts.leaseMs);
          this.log.info({ receipts: pending.length, renewed }, 'leases of acknowledged receipts renewed');
        } catch (renewErr) {
          this.log.warn({ err: renewErr }, 'cannot renew the leases of acknowledged receipts either');
        }
        // A retry well inside the lease, so that the lease is renewed before it ends.
        const retryMs = Math.min(this.opts.retryBaseMs, this.opts.leaseMs / 4);
        if (this.running) this.markTimer ??= setTimeout(() => this.flushMarks(), retryMs);
      }
    });
    return this.marking;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    if (this.housekeeping) clearInterval(this.housekeeping);
    await this.loop;
    await Promise.allSettled([...this.inflight]);
    // What was acknowledged is marked now (once more if the first write fails), not left to the lease.
    await this.flushMarks();
    if (this.acks.length) await this.flushMarks();
    if (this.markTimer) clearTimeout(this.markTimer);
    if (this.listener) {
      try {
        await this.listener.query('UNLISTEN *');
      } catch {
        // the connection is being dropped anyway
      }
      this.listener.release(true);
      this.listener = null;
    }
  }
}

/** An acknowledged row: a receipt (deleted) or an inbound message (`inbound`, kept marked sent). */
type Ack = { messageId: string; status: number; inbound: boolean };

function ackKey(a: { messageId: string; status: number }): string {
  return `${a.messageId}/${a.status}`;
}

/**
 * The deliver_sm of a stored row: a delivery receipt (esm_class 0x04, receipted_message_id and message_state
 * TLVs), or an inbound message (esm_class 0 or 0x40 with UDH, no receipt TLVs; user data longer than 254
 * octets goes in message_payload, as SMPP 3.4 section 5.3.2.32 allows).
 */
export function deliverFields(r: ClaimedReceipt) {
  // One object literal of one shape per kind: spreads of an address object and of a conditional part made
  // objects that were slow to build and slow for the encoder to read (~4 µs per receipt, a tenth of the
  // receipt path's CPU at 720/s); an absent TLV is an undefined property, which the encoder skips.
  const esmClass = r.esmClass ?? 0x04;
  if (esmClass !== 0x04) {
    const long = r.shortMessage.length > 254;
    return {
      source_addr_ton: r.sourceTon,
      source_addr_npi: r.sourceNpi,
      source_addr: r.source,
      dest_addr_ton: r.destTon,
      dest_addr_npi: r.destNpi,
      destination_addr: r.dest,
      data_coding: r.dataCoding,
      esm_class: esmClass,
      short_message: long ? Buffer.alloc(0) : r.shortMessage,
      message_payload: long ? r.shortMessage : undefined,
    };
  }
  return {
    source_addr_ton: r.sourceTon,
    source_addr_npi: r.sourceNpi,
    source_addr: r.source,
    dest_addr_ton: r.destTon,
    dest_addr_npi: r.destNpi,
    destination_addr: r.dest,
    data_coding: r.dataCoding,
    esm_class: 0x04,
    short_message: r.shortMessage,
    receipted_message_id: r.customerMessageId,
    message_state: r.messageState,
    network_error_code: r.networkErrorCode,
  };
}
