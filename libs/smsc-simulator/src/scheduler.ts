/**
 * Runs jobs at a later millisecond with ONE timer for all of them: jobs due in the same millisecond share a
 * bucket, bucket times sit in a min-heap, and the timer is armed for the earliest. At tens of thousands of
 * messages per second this replaces tens of thousands of setTimeout calls with at most one per millisecond.
 */
export class Scheduler<T> {
  private readonly buckets = new Map<number, T[]>();
  private readonly heap: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private stopped = false;
  private size_ = 0;

  constructor(
    private readonly run: (job: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.size_;
  }

  /** Run `job` after `delayMs` (0: on the next timer tick, batched with the others due). */
  schedule(delayMs: number, job: T): void {
    if (this.stopped) return;
    const due = Math.ceil(this.now() + delayMs);
    let bucket = this.buckets.get(due);
    if (!bucket) {
      bucket = [];
      this.buckets.set(due, bucket);
      this.push(due);
    }
    bucket.push(job);
    this.size_++;
    if (due < this.armedFor) this.arm(due);
  }

  /** Drop every job and the timer. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.buckets.clear();
    this.heap.length = 0;
    this.size_ = 0;
  }

  private arm(due: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = due;
    this.timer = setTimeout(() => this.tick(), Math.max(0, due - this.now()));
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    while (this.heap.length > 0 && (this.heap[0] as number) <= now) {
      const due = this.pop();
      const bucket = this.buckets.get(due);
      this.buckets.delete(due);
      if (!bucket) continue;
      this.size_ -= bucket.length;
      for (const job of bucket) {
        try {
          this.run(job);
        } catch {
          // run() owns its errors; one bad job must not stop the others
        }
      }
      if (this.stopped) return;
    }
    if (this.heap.length > 0) this.arm(this.heap[0] as number);
  }

  private push(v: number): void {
    const h = this.heap;
    h.push(v);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as number) <= v) break;
      h[i] = h[p] as number;
      i = p;
    }
    h[i] = v;
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0] as number;
    const last = h.pop() as number;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && (h[r] as number) < (h[l] as number) ? r : l;
        if ((h[c] as number) >= last) break;
        h[i] = h[c] as number;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
