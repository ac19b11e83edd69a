import type { Logger } from '@smshub/logging';
import { MessageState } from '@smshub/smpp';
import type { ReceiptStore } from './receipt-store.js';

/**
 * query_sm must know a message from the moment its submit_sm_resp went out, long before the first
 * sms.delivery.v1 event. Every accepted message is recorded in ingress_message_state as ENROUTE (revision 0,
 * so any delivery event overwrites it, and it never overwrites one), written in batches in the background:
 * the submit path never waits for PostgreSQL. Until its batch is written, a message is answered from memory
 * (on the replica that accepted it; another replica sees it at most `flushMs` later).
 */
export interface AcceptedStatesOptions {
  /** Longest a recorded message waits before its batch is written. */
  flushMs: number;
  /** A batch is written at once when it holds this many messages. */
  maxBatch: number;
  /** Messages held in memory while PostgreSQL is unavailable; beyond it the oldest are not recorded. */
  maxPending: number;
  /** How long the state row is kept (ingress_message_state.expires_at). */
  retentionMs: number;
}

export const DEFAULT_ACCEPTED_STATES: AcceptedStatesOptions = {
  flushMs: 50,
  maxBatch: 1000,
  maxPending: 200_000,
  retentionMs: 3 * 24 * 3600_000,
};

export interface AcceptedState {
  systemId: string;
  /** The id the customer got in submit_sm_resp (what query_sm carries). */
  customerMessageId: string;
  /** The hub message id. */
  messageId: string;
  expiresAt: Date;
}

const key = (systemId: string, customerMessageId: string): string => `${systemId}\u0000${customerMessageId}`;

export class AcceptedStates {
  private pending = new Map<string, AcceptedState>();
  private writing = new Map<string, AcceptedState>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private dropped = 0;
  /** The last write failed: the next waits for the retry timer, not for a full batch. */
  private retrying = false;

  constructor(
    private readonly store: Pick<ReceiptStore, 'insertAccepted'>,
    private readonly opts: AcceptedStatesOptions,
    private readonly log: Logger,
  ) {}

  /** An accepted message: the id its submit_sm_resp carried, and the hub id. */
  add(systemId: string, customerMessageId: string, messageId: string, now: number = Date.now()): void {
    this.pending.set(key(systemId, customerMessageId), {
      systemId,
      customerMessageId,
      messageId,
      expiresAt: new Date(now + this.opts.retentionMs),
    });
    if (this.pending.size > this.opts.maxPending) {
      // PostgreSQL has not taken the earlier ones for a while: the oldest are not recorded.
      this.pending.delete(this.pending.keys().next().value as string);
      this.dropped++;
    }
    // A full batch is written at once, unless a write is in progress (its end starts the next one).
    if (this.pending.size >= this.opts.maxBatch && !this.flushing && !this.retrying) void this.flush();
    else this.schedule(this.opts.flushMs);
  }

  private schedule(ms: number): void {
    this.timer ??= setTimeout(() => void this.flush(), ms);
    this.timer.unref?.();
  }

  /** The query_sm answer for a message accepted here whose row may not be written yet. */
  known(systemId: string, customerMessageId: string): { messageState: number } | undefined {
    const k = key(systemId, customerMessageId);
    return this.pending.has(k) || this.writing.has(k) ? { messageState: MessageState.ENROUTE } : undefined;
  }

  /** Writes what is pending (one statement); a failed batch is kept for the next flush, within maxPending. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return Promise.resolve();
    this.writing = this.pending;
    this.pending = new Map();
    this.flushing = (async () => {
      try {
        await this.store.insertAccepted([...this.writing.values()]);
        this.retrying = false;
      } catch (err) {
        this.retrying = true;
        // Kept (oldest first) for the next attempt; query_sm still answers them from memory meanwhile.
        const keep = new Map(this.writing);
        for (const [k, v] of this.pending) keep.set(k, v);
        while (keep.size > this.opts.maxPending) {
          keep.delete(keep.keys().next().value as string);
          this.dropped++;
        }
        this.pending = keep;
        this.log.warn(
          { err: (err as Error).message, pending: keep.size, dropped: this.dropped },
          'accepted message states not written; retrying',
        );
      } finally {
        this.writing = new Map();
        this.flushing = null;
      }
      if (this.retrying) this.schedule(Math.max(1000, this.opts.flushMs));
      else if (this.pending.size >= this.opts.maxBatch) void this.flush();
      else if (this.pending.size > 0) this.schedule(this.opts.flushMs);
    })();
    return this.flushing;
  }

  /** Stops the timer after a last write attempt. */
  async stop(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
