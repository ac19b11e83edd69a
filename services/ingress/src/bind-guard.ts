/**
 * Failed-bind guard: decides, before a bind's password is verified, whether the attempt may be verified at
 * all and how long to hold it first. Pure decisions over counters kept in a GuardStore (PostgreSQL, shared
 * by the replicas; or memory); the clock is passed in.
 *
 * Three counters, each forgotten after `windowMs` without a failure:
 * - per (system_id, source IP) "pair": from the `slowAfter`-th attempt on, the attempt is held
 *   `baseDelayMs` doubling per further attempt (at most `maxDelayMs`); the `blockAfter`-th attempt starts a
 *   lock of the pair (`blockMs`, doubling with each further lock up to `maxBlockMs`; the lock count is kept
 *   `lockMemoryMs`). A locked pair's binds are refused without verifying, even with the right password.
 * - per source IP, across system_ids (one address trying many accounts): locked at `ipBlockAfter`.
 * - per system_id, across addresses (a guesser spread over many addresses): never locks, only holds
 *   attempts from `sidSlowAfter` on (doubling, at most `sidMaxDelayMs`).
 * An attempt is counted when it arrives, before its verification, so parallel attempts cannot all pass
 * before the first failure is counted; a success takes its own count back and clears its pair.
 *
 * Known addresses: an address on the account's allow list (allowed_cidrs), or one this system_id bound from
 * successfully within `knownForMs`, is not held (neither by its pair's nor the per-system_id counter) and
 * not refused by the per-IP lock; its pair is still locked at `blockAfter`. Failures from elsewhere therefore never lock a customer out of its own addresses; only failures
 * from the same address lock that address, for that system_id.
 */
export interface BindGuardOptions {
  windowMs: number;
  slowAfter: number;
  blockAfter: number;
  baseDelayMs: number;
  maxDelayMs: number;
  blockMs: number;
  maxBlockMs: number;
  lockMemoryMs: number;
  ipBlockAfter: number;
  sidSlowAfter: number;
  sidMaxDelayMs: number;
  knownForMs: number;
  /** Memory store: keys kept at most (the least recently written are dropped first). */
  maxKeys: number;
}

export const DEFAULT_BIND_GUARD: BindGuardOptions = {
  windowMs: 10 * 60_000,
  slowAfter: 3,
  blockAfter: 10,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
  blockMs: 60_000,
  maxBlockMs: 24 * 3600_000,
  lockMemoryMs: 24 * 3600_000,
  ipBlockAfter: 50,
  sidSlowAfter: 20,
  sidMaxDelayMs: 10_000,
  knownForMs: 30 * 24 * 3600_000,
  maxKeys: 100_000,
};

/** One counter; times in epoch milliseconds, 0 = never. */
export interface GuardEntry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
  /** Locks so far (the next one lasts blockMs * 2^locks). */
  locks: number;
  lastSuccess: number;
}

export type GuardKeys = { pair: string; ip: string; sid: string };

export function guardKeys(ip: string, systemId: string): GuardKeys {
  return { pair: `pair:${systemId}|${ip}`, ip: `ip:${ip}`, sid: `sid:${systemId}` };
}

/** Stored counters, read and written together under a lock (one transaction in PostgreSQL). */
export interface GuardStore {
  update<T>(
    keys: readonly string[],
    fn: (entries: ReadonlyMap<string, GuardEntry>) => { write: Map<string, GuardEntry>; result: T },
  ): Promise<T>;
}

export type AttemptVerdict =
  | { admitted: true; delayMs: number; known: boolean; lockedNow: boolean }
  | { admitted: false; lockedBy: 'pair' | 'ip'; retryAfterMs: number };

const EMPTY: GuardEntry = { failures: 0, lastFailure: 0, blockedUntil: 0, locks: 0, lastSuccess: 0 };

/** When an entry can be deleted: nothing in it matters any more after this time. */
export function expiresAt(e: GuardEntry, o: BindGuardOptions): number {
  return Math.max(
    e.failures > 0 ? e.lastFailure + o.windowMs : 0,
    e.blockedUntil,
    e.locks > 0 ? Math.max(e.lastFailure, e.blockedUntil) + o.lockMemoryMs : 0,
    e.lastSuccess > 0 ? e.lastSuccess + o.knownForMs : 0,
  );
}

/** The entry as of `now`: failures forgotten after a quiet window, locks after lockMemoryMs. */
function current(e: GuardEntry | undefined, o: BindGuardOptions, now: number): GuardEntry {
  if (!e) return { ...EMPTY };
  const out = { ...e };
  const quiet = now - Math.max(e.lastFailure, e.blockedUntil);
  if (out.blockedUntil <= now && now - out.lastFailure > o.windowMs) out.failures = 0;
  if (out.blockedUntil <= now && quiet > o.lockMemoryMs) out.locks = 0;
  return out;
}

function lock(e: GuardEntry, o: BindGuardOptions, now: number): void {
  e.blockedUntil = now + Math.min(o.maxBlockMs, o.blockMs * 2 ** e.locks);
  e.locks++;
  e.failures = 0;
}

const backoff = (over: number, base: number, max: number): number =>
  over < 0 ? 0 : Math.min(max, base * 2 ** over);

export class BindGuard {
  readonly opts: BindGuardOptions;

  constructor(
    private readonly store: GuardStore,
    opts: Partial<BindGuardOptions> = {},
  ) {
    this.opts = { ...DEFAULT_BIND_GUARD, ...opts };
  }

  /**
   * A bind arrives from `ip` for `systemId`; `allowListed` = the address is on the account's allow list.
   * Counts it (before any verification) and says whether to verify it, after how long.
   */
  attempt(
    ip: string,
    systemId: string,
    allowListed: boolean,
    now: number = Date.now(),
  ): Promise<AttemptVerdict> {
    const k = guardKeys(ip, systemId);
    return this.store.update([k.pair, k.ip, k.sid], (stored) =>
      decideAttempt(
        { pair: stored.get(k.pair), ip: stored.get(k.ip), sid: stored.get(k.sid) },
        k,
        allowListed,
        this.opts,
        now,
      ),
    );
  }

  /** The password was right: the pair starts again and is known from now on; the IP and system_id take their count back. */
  succeed(ip: string, systemId: string, now: number = Date.now()): Promise<void> {
    const k = guardKeys(ip, systemId);
    return this.store.update([k.pair, k.ip, k.sid], (stored) => {
      const write = new Map<string, GuardEntry>();
      write.set(k.pair, { ...EMPTY, lastSuccess: now });
      for (const key of [k.ip, k.sid]) {
        const e = current(stored.get(key), this.opts, now);
        write.set(key, { ...e, failures: Math.max(0, e.failures - 1) });
      }
      return { write, result: undefined };
    });
  }
}

/** The decision for one attempt and the counters to store (pure). */
export function decideAttempt(
  stored: { pair: GuardEntry | undefined; ip: GuardEntry | undefined; sid: GuardEntry | undefined },
  k: GuardKeys,
  allowListed: boolean,
  o: BindGuardOptions,
  now: number,
): { write: Map<string, GuardEntry>; result: AttemptVerdict } {
  const pair = current(stored.pair, o, now);
  const ip = current(stored.ip, o, now);
  const sid = current(stored.sid, o, now);
  const known = allowListed || (pair.lastSuccess > 0 && now - pair.lastSuccess < o.knownForMs);
  const write = new Map<string, GuardEntry>();
  if (pair.blockedUntil > now)
    return { write, result: { admitted: false, lockedBy: 'pair', retryAfterMs: pair.blockedUntil - now } };
  if (!known && ip.blockedUntil > now)
    return { write, result: { admitted: false, lockedBy: 'ip', retryAfterMs: ip.blockedUntil - now } };
  for (const e of [pair, ip, sid]) {
    e.failures++;
    e.lastFailure = now;
  }
  // Known addresses are not held (a customer opening ten binds at once after a restart counts ten attempts
  // before the first success takes its count back); they are still locked at blockAfter.
  const pairDelay = known ? 0 : backoff(pair.failures - o.slowAfter, o.baseDelayMs, o.maxDelayMs);
  const sidDelay = known ? 0 : backoff(sid.failures - o.sidSlowAfter, o.baseDelayMs, o.sidMaxDelayMs);
  let lockedNow = false;
  if (pair.failures >= o.blockAfter) {
    lock(pair, o, now);
    lockedNow = true;
  }
  if (ip.failures >= o.ipBlockAfter && ip.blockedUntil <= now) {
    lock(ip, o, now);
    lockedNow = true;
  }
  write.set(k.pair, pair);
  write.set(k.ip, ip);
  write.set(k.sid, sid);
  return { write, result: { admitted: true, delayMs: Math.max(pairDelay, sidDelay), known, lockedNow } };
}

/** Counters in this process only (tests; and the fallback while PostgreSQL does not answer). */
export class MemoryGuardStore implements GuardStore {
  private readonly entries = new Map<string, GuardEntry>();

  constructor(
    private readonly opts: Pick<BindGuardOptions, 'maxKeys'> & Partial<BindGuardOptions> = DEFAULT_BIND_GUARD,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  update<T>(
    keys: readonly string[],
    fn: (entries: ReadonlyMap<string, GuardEntry>) => { write: Map<string, GuardEntry>; result: T },
  ): Promise<T> {
    const read = new Map<string, GuardEntry>();
    for (const k of keys) {
      const e = this.entries.get(k);
      if (e) read.set(k, e);
    }
    const { write, result } = fn(read);
    for (const [k, e] of write) {
      // Re-inserted at the end: Map order approximates "least recently written first" for eviction.
      this.entries.delete(k);
      this.entries.set(k, e);
    }
    while (this.entries.size > this.opts.maxKeys) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return Promise.resolve(result);
  }
}
