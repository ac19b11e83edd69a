// Portability / HLR lookups: the interface, an in-memory implementation from a ported-numbers list, and a
// TTL cache wrapper. The Postgres-backed and external-provider lookups implement the same interface.
//
// Results: `{ mccMnc, ported }` when the source knows the number, `null` when it does not (the engine then
// uses the static prefix table). A rejected promise means "source unavailable": the engine also falls back
// to the prefix table, and the cache does not remember the failure.

import type { Clock } from './types.js';

export interface NumberInfo {
  /** "MCC-MNC" of the network currently serving the number. */
  mccMnc: string;
  ported: boolean;
}

export interface NumberLookup {
  lookup(e164: string): Promise<NumberInfo | null>;
  /**
   * Optional: many numbers in one call (one query instead of one per number). Numbers the source does not
   * know are absent from the map (or map to null).
   */
  lookupMany?(e164s: readonly string[]): Promise<ReadonlyMap<string, NumberInfo | null>>;
}

/**
 * A lookup that can sometimes answer without waiting. `peek` returns the answer when it has one
 * (including `null` = "known not to be in the source") and `undefined` when it would have to ask.
 * The engine uses it to keep the hot path synchronous on cache hits.
 */
export interface PeekableNumberLookup extends NumberLookup {
  peek(e164: string): NumberInfo | null | undefined;
}

export function isPeekable(l: NumberLookup): l is PeekableNumberLookup {
  return typeof (l as Partial<PeekableNumberLookup>).peek === 'function';
}

/** A lookup that can be warmed with many numbers at once, ahead of the decisions that need them. */
export interface PrefetchingNumberLookup extends NumberLookup {
  prefetch(e164s: readonly string[]): Promise<void>;
}

export function isPrefetching(l: NumberLookup): l is PrefetchingNumberLookup {
  return typeof (l as Partial<PrefetchingNumberLookup>).prefetch === 'function';
}

/** Ported numbers held in memory: e164 -> the network that now serves it. Unknown numbers give null. */
export class InMemoryPortedLookup implements PeekableNumberLookup {
  private readonly ported: ReadonlyMap<string, string>;

  constructor(entries: Iterable<{ e164: string; mccMnc: string }>) {
    const m = new Map<string, string>();
    for (const e of entries) m.set(e.e164.startsWith('+') ? e.e164 : `+${e.e164}`, e.mccMnc);
    this.ported = m;
  }

  peek(e164: string): NumberInfo | null {
    const mccMnc = this.ported.get(e164);
    return mccMnc === undefined ? null : { mccMnc, ported: true };
  }

  lookup(e164: string): Promise<NumberInfo | null> {
    return Promise.resolve(this.peek(e164));
  }
}

export interface CachedNumberLookupOptions {
  /** How long a found answer stays fresh. */
  ttlMs: number;
  /** How long a "not known" (null) answer stays fresh; defaults to ttlMs. */
  negativeTtlMs?: number;
  /** Upper bound on cached numbers; the least recently used entry is dropped first. */
  maxEntries: number;
  clock: Clock;
}

interface CacheEntry {
  value: NumberInfo | null;
  expiresAt: number;
}

/**
 * TTL cache in front of a slower NumberLookup. Bounded: a Map kept in recency order (a hit moves the
 * entry to the end), the oldest entry is evicted when full. Concurrent misses for the same number share one
 * inner call. Failures are passed on and not cached.
 */
export class CachedNumberLookup implements PeekableNumberLookup, PrefetchingNumberLookup {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<NumberInfo | null>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Clock;
  hits = 0;
  misses = 0;

  constructor(
    private readonly inner: NumberLookup,
    options: CachedNumberLookupOptions,
  ) {
    if (options.maxEntries < 1) throw new RangeError('maxEntries must be >= 1');
    this.ttlMs = options.ttlMs;
    this.negativeTtlMs = options.negativeTtlMs ?? options.ttlMs;
    this.maxEntries = options.maxEntries;
    this.clock = options.clock;
  }

  get size(): number {
    return this.entries.size;
  }

  peek(e164: string): NumberInfo | null | undefined {
    const e = this.entries.get(e164);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    if (e.expiresAt <= this.clock()) {
      this.entries.delete(e164);
      this.misses++;
      return undefined;
    }
    // Refresh recency.
    this.entries.delete(e164);
    this.entries.set(e164, e);
    this.hits++;
    return e.value;
  }

  lookup(e164: string): Promise<NumberInfo | null> {
    const cached = this.peek(e164);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.inflight.get(e164);
    if (pending) return pending;
    const p = this.inner.lookup(e164).then(
      (value) => {
        this.inflight.delete(e164);
        this.store(e164, value);
        return value;
      },
      (err: unknown) => {
        this.inflight.delete(e164);
        throw err;
      },
    );
    this.inflight.set(e164, p);
    return p;
  }

  /**
   * Fills the cache for the numbers it has no fresh answer for, with one inner `lookupMany` call (when the
   * inner lookup has one), so a batch of messages costs one query instead of one per new number. Numbers
   * the source does not know are cached as "not known". A failure is not cached: each number is then
   * looked up on its own when its message is decided. Does not count hits or misses.
   */
  async prefetch(e164s: readonly string[]): Promise<void> {
    const many = this.inner.lookupMany?.bind(this.inner);
    if (!many) return;
    const now = this.clock();
    const wanted = new Set<string>();
    for (const n of e164s) {
      const e = this.entries.get(n);
      if ((e === undefined || e.expiresAt <= now) && !this.inflight.has(n)) wanted.add(n);
    }
    if (wanted.size === 0) return;
    const numbers = [...wanted];
    const all = many(numbers);
    // Lookups of these numbers made meanwhile wait for this call instead of asking on their own.
    for (const n of numbers) {
      const one = all.then((found) => found.get(n) ?? null);
      one.catch(() => undefined);
      this.inflight.set(n, one);
    }
    try {
      const found = await all;
      for (const n of numbers) this.store(n, found.get(n) ?? null);
    } catch {
      // Source unavailable: nothing cached; each message's own lookup tries again (and falls back).
    } finally {
      for (const n of numbers) this.inflight.delete(n);
    }
  }

  /** Drops the cached answer for one number (e.g. its portability record changed). */
  forget(e164: string): void {
    this.entries.delete(e164);
  }

  /** Drops every cached answer (e.g. a bulk import of ported numbers). */
  clear(): void {
    this.entries.clear();
  }

  private store(e164: string, value: NumberInfo | null): void {
    const ttl = value === null ? this.negativeTtlMs : this.ttlMs;
    if (ttl <= 0) return;
    this.entries.delete(e164);
    this.entries.set(e164, { value, expiresAt: this.clock() + ttl });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
