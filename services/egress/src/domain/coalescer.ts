/**
 * Group commit: callers push one item each and are answered when the statement that carried it has
 * finished. While a flush is in flight, new items queue up and go together in the next one, so under
 * load one statement carries as many items as arrived during the previous statement. When no flush is in
 * flight, a flush starts at the end of the current event-loop turn (setImmediate, no linger timer): the
 * items pushed in the same turn (the parts of a batch starting together) share it instead of the first
 * going alone. Egress uses it for its dedupe rows: each part still waits for its own row to be durable
 * (the "sending" row before its submit_sm is written), but hundreds of parts share a statement.
 */
export interface CoalescerOptions<T> {
  /** At most this many items in one flush. */
  maxBatch: number;
  /** Flushes running at the same time (default 1). */
  maxInFlight?: number;
  /**
   * Items with the same key never go in the same flush (a multi-row upsert cannot touch one row twice);
   * the later one waits for the next flush, keeping their order.
   */
  keyOf?: (item: T) => string;
  /** Once aborted, queued items are rejected with the signal's reason and nothing more is flushed. */
  signal?: AbortSignal;
}

interface Queued<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Coalescer<T> {
  private queue: Queued<T>[] = [];
  private running = 0;
  private scheduled = false;
  private readonly maxInFlight: number;

  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly opts: CoalescerOptions<T>,
  ) {
    if (opts.maxBatch < 1) throw new RangeError('maxBatch must be at least 1');
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    opts.signal?.addEventListener('abort', () => this.rejectQueued(), { once: true });
  }

  /** Resolves when the flush carrying `item` succeeded; rejects with its error (or the abort reason). */
  push(item: T): Promise<void> {
    const signal = this.opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting for a flush (not counting the ones in flight). */
  get queued(): number {
    return this.queue.length;
  }

  private rejectQueued(): void {
    const q = this.queue;
    this.queue = [];
    for (const e of q) e.reject(this.opts.signal?.reason);
  }

  private take(): Queued<T>[] {
    const { keyOf, maxBatch } = this.opts;
    if (!keyOf) return this.queue.splice(0, maxBatch);
    const keys = new Set<string>();
    const batch: Queued<T>[] = [];
    const rest: Queued<T>[] = [];
    for (const e of this.queue) {
      const k = keyOf(e.item);
      if (batch.length >= maxBatch || keys.has(k)) {
        rest.push(e);
        // A later item of a held-back key must not overtake it.
        keys.add(k);
        continue;
      }
      keys.add(k);
      batch.push(e);
    }
    this.queue = rest;
    return batch;
  }

  /** Flushes at the end of this turn, so that the items pushed during it go together. */
  private schedule(): void {
    if (this.scheduled || this.running >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.maxInFlight && this.queue.length > 0) {
      if (this.opts.signal?.aborted) return this.rejectQueued();
      const batch = this.take();
      this.running++;
      let run: Promise<void>;
      try {
        run = this.flush(batch.map((e) => e.item));
      } catch (err) {
        run = Promise.reject(err);
      }
      void run
        .then(
          () => {
            for (const e of batch) e.resolve();
          },
          (err: unknown) => {
            for (const e of batch) e.reject(err);
          },
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }
}
