// Bounded, clock-injected window structures for the stateful firewall checks. Each one has a read-only
// check and a separate record, so the firewall can check every rule first and record only messages it
// admits. Memory: keys that fell out of their window are evicted as new work arrives (a few per call), and
// `maxKeys` caps the total by evicting the least recently updated key (which forgets its history: the
// limit fails open for that key, never closed).

/**
 * Sliding-window counter over `buckets` sub-buckets of windowMs / buckets each. The count covers the
 * current sub-bucket plus the `buckets` before it, i.e. between windowMs and windowMs + windowMs/buckets
 * of history: it never lets more than `limit` through in any window of windowMs.
 */
export class SlidingWindowCounter {
  private readonly bucketMs: number;
  private readonly ring: number;
  private readonly entries = new Map<string, { slots: Float64Array; counts: Uint32Array; last: number }>();

  constructor(
    readonly windowMs: number,
    private readonly maxKeys = 100_000,
    buckets = 10,
  ) {
    if (!(windowMs > 0) || !(buckets >= 1)) throw new RangeError('windowMs and buckets must be positive');
    this.bucketMs = windowMs / buckets;
    this.ring = buckets + 1;
  }

  get size(): number {
    return this.entries.size;
  }

  count(key: string, nowMs: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    const slot = Math.floor(nowMs / this.bucketMs);
    let n = 0;
    for (let i = 0; i < this.ring; i++) {
      const s = e.slots[i] as number;
      if (s > slot - this.ring && s <= slot) n += e.counts[i] as number;
    }
    return n;
  }

  add(key: string, nowMs: number): void {
    const slot = Math.floor(nowMs / this.bucketMs);
    let e = this.entries.get(key);
    if (e) this.entries.delete(key);
    else
      e = {
        slots: new Float64Array(this.ring).fill(-Infinity),
        counts: new Uint32Array(this.ring),
        last: slot,
      };
    const pos = ((slot % this.ring) + this.ring) % this.ring;
    if (e.slots[pos] !== slot) {
      e.slots[pos] = slot;
      e.counts[pos] = 0;
    }
    e.counts[pos] = (e.counts[pos] as number) + 1;
    e.last = slot;
    this.entries.set(key, e);
    this.evict(slot);
  }

  private evict(slot: number): void {
    let budget = 4;
    for (const [k, v] of this.entries) {
      if (this.entries.size > this.maxKeys || (budget-- > 0 && v.last <= slot - this.ring))
        this.entries.delete(k);
      else break;
    }
  }
}

/**
 * Distinct numbers per "block" (a number without its last k digits) within a window: detects enumeration
 * of sequential numbers. Keeps at most `threshold` numbers per block.
 */
export class SequentialBurstDetector {
  private readonly blocks = new Map<string, { numbers: Map<string, number>; last: number }>();

  constructor(
    readonly threshold: number,
    readonly windowMs: number,
    readonly varyingDigits: number,
    private readonly maxKeys = 100_000,
  ) {
    if (threshold < 2 || varyingDigits < 1 || !(windowMs > 0))
      throw new RangeError('bad sequential burst settings');
  }

  get size(): number {
    return this.blocks.size;
  }

  blockOf(scope: string, e164: string): string {
    return `${scope}|${e164.slice(0, Math.max(1, e164.length - this.varyingDigits))}`;
  }

  /** How many distinct numbers of the block (including `e164`) were seen within the window. */
  distinctWith(scope: string, e164: string, nowMs: number): number {
    const b = this.blocks.get(this.blockOf(scope, e164));
    if (!b) return 1;
    let n = 0;
    for (const [num, at] of b.numbers) if (num !== e164 && at > nowMs - this.windowMs) n++;
    return n + 1;
  }

  record(scope: string, e164: string, nowMs: number): void {
    const key = this.blockOf(scope, e164);
    let b = this.blocks.get(key);
    if (b) this.blocks.delete(key);
    else b = { numbers: new Map(), last: nowMs };
    for (const [num, at] of b.numbers) if (at <= nowMs - this.windowMs) b.numbers.delete(num);
    b.numbers.delete(e164);
    b.numbers.set(e164, nowMs);
    while (b.numbers.size > this.threshold) {
      const oldest = b.numbers.keys().next();
      if (oldest.done) break;
      b.numbers.delete(oldest.value);
    }
    b.last = nowMs;
    this.blocks.set(key, b);
    let budget = 4;
    for (const [k, v] of this.blocks) {
      if (this.blocks.size > this.maxKeys || (budget-- > 0 && v.last <= nowMs - this.windowMs))
        this.blocks.delete(k);
      else break;
    }
  }
}

/** Remembers keys for windowMs from when they were recorded (first admission wins; not extended). */
export class ExpiringKeySet<V> {
  private readonly entries = new Map<string, { at: number; value: V }>();

  constructor(
    readonly windowMs: number,
    private readonly maxKeys = 1_000_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, nowMs: number): V | undefined {
    this.sweep(nowMs);
    const e = this.entries.get(key);
    return e && e.at > nowMs - this.windowMs ? e.value : undefined;
  }

  set(key: string, value: V, nowMs: number): void {
    const e = this.entries.get(key);
    if (e && e.at > nowMs - this.windowMs) return;
    if (e) this.entries.delete(key);
    this.entries.set(key, { at: nowMs, value });
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.sweep(nowMs);
  }

  /** Entries are in insertion order, and insertion times only grow (with a monotonic clock). */
  private sweep(nowMs: number): void {
    for (const [k, v] of this.entries) {
      if (v.at <= nowMs - this.windowMs) this.entries.delete(k);
      else break;
    }
  }
}
