/**
 * A bounded pool of async tasks that is fair between sources: at most `concurrency` tasks run at once, and
 * when a slot frees up the next task is taken from the waiting source served least recently (round-robin,
 * with a source that has not been served yet going first). One source submitting a thousand tasks therefore
 * waits behind itself, not in front of everyone else: a task of a newly arriving source is the next to start.
 *
 * Each source may have at most `maxPerSource` tasks waiting or running, and the queue as a whole at most
 * `maxQueued` waiting; beyond either, `run` rejects at once with QueueFullError (nothing is queued).
 *
 * Made for password verification (argon2 runs on libuv's threadpool, 4 threads by default: an unbounded
 * number of verifications in parallel only makes each one slower), but nothing in it is specific to that.
 */
export interface FairQueueOptions {
  concurrency: number;
  maxPerSource: number;
  maxQueued: number;
}

export class QueueFullError extends Error {
  readonly retriable = true;
  constructor(readonly scope: 'source' | 'queue') {
    super(scope === 'source' ? 'too many tasks of this source' : 'queue full');
    this.name = 'QueueFullError';
  }
}

interface Waiting {
  start(): void;
}

export class FairQueue {
  private running = 0;
  private queued = 0;
  /** Waiting tasks per source. */
  private readonly waiting = new Map<string, Waiting[]>();
  /** Tasks waiting or running, per source, and when the source was last served (a sequence number). */
  private readonly perSource = new Map<string, { load: number; served: number }>();
  private seq = 0;

  constructor(readonly opts: FairQueueOptions) {
    if (opts.concurrency < 1) throw new RangeError('concurrency must be at least 1');
  }

  /** Tasks of `source` waiting or running. */
  load(source: string): number {
    return this.perSource.get(source)?.load ?? 0;
  }

  get stats(): { running: number; queued: number; sources: number } {
    return { running: this.running, queued: this.queued, sources: this.perSource.size };
  }

  /** Runs `task` when a slot is free and it is `source`'s turn; rejects with QueueFullError when over a bound. */
  run<T>(source: string, task: () => Promise<T>): Promise<T> {
    const load = this.load(source);
    if (load >= this.opts.maxPerSource) return Promise.reject(new QueueFullError('source'));
    if (this.running >= this.opts.concurrency && this.queued >= this.opts.maxQueued)
      return Promise.reject(new QueueFullError('queue'));
    const entry = this.perSource.get(source) ?? { load: 0, served: 0 };
    entry.load++;
    this.perSource.set(source, entry);
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        entry.served = ++this.seq;
        let p: Promise<T>;
        try {
          p = task();
        } catch (e) {
          p = Promise.reject(e as Error);
        }
        p.then(resolve, reject).finally(() => {
          this.running--;
          if (--entry.load === 0) this.perSource.delete(source);
          this.next();
        });
      };
      if (this.running < this.opts.concurrency && this.queued === 0) return start();
      const q = this.waiting.get(source);
      if (q) q.push({ start });
      else this.waiting.set(source, [{ start }]);
      this.queued++;
    });
  }

  private next(): void {
    while (this.running < this.opts.concurrency && this.queued > 0) {
      // The waiting source served least recently (O(waiting sources), at most maxQueued).
      let pick: string | undefined;
      let oldest = Infinity;
      for (const source of this.waiting.keys()) {
        const served = this.perSource.get(source)?.served ?? 0;
        if (served < oldest) {
          oldest = served;
          pick = source;
        }
      }
      const q = this.waiting.get(pick!)!;
      const w = q.shift()!;
      if (q.length === 0) this.waiting.delete(pick!);
      this.queued--;
      w.start();
    }
  }
}
