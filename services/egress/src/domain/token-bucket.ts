/**
 * A token bucket that paces grants: `ratePerSecond` tokens per second, at most `burst` stored.
 *
 * One bucket per connector is shared by all of its binds, so the connector's TPS holds whatever the
 * number of sessions. With `burst` 1 (the default) consecutive grants are at least 1/rate apart, so
 * any 1-second window holds at most `rate` grants: what a supplier measuring per second sees. The
 * clock is injected so the pacing is unit-tested without timers.
 *
 * Written here rather than taken from npm: the candidates (limiter, bottleneck) either count per
 * calendar interval (2x bursts across a boundary) or own the queueing/concurrency, which the
 * connector pool already does with its windows.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

export class TokenBucket {
  private tokens: number;
  private last: number;
  private rate: number;
  private burst: number;

  constructor(
    ratePerSecond: number,
    burst = 1,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    if (!(burst >= 1)) throw new RangeError('burst must be >= 1');
    this.rate = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
    this.last = clock.now();
  }

  get ratePerSecond(): number {
    return this.rate;
  }

  /** Changes the rate (config reload) keeping the tokens already earned. */
  setRate(ratePerSecond: number): void {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    this.refill();
    this.rate = ratePerSecond;
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
  }

  /** Changes rate and burst together (see strictBucket), keeping earned tokens up to the new burst. */
  reconfigure(ratePerSecond: number, burst: number): void {
    if (!(burst >= 1)) throw new RangeError('burst must be >= 1');
    this.setRate(ratePerSecond);
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes a token if one is there; else returns the milliseconds until one will be. */
  tryTake(): { ok: true } | { ok: false; waitMs: number } {
    this.refill();
    if (this.tokens >= 1 - 1e-9) {
      this.tokens = Math.max(0, this.tokens - 1);
      return { ok: true };
    }
    return { ok: false, waitMs: Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate)) };
  }
}

/**
 * Serialises waiters on a TokenBucket (first come, first served), sleeping with timers. `take` rejects
 * with the signal's reason when aborted (session closed, shutdown).
 */
export class PacedBucket {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly bucket: TokenBucket) {}

  take(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(() => this.waitForToken(signal));
    // The next waiter queues behind this one whether it succeeds or is aborted.
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async waitForToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const r = this.bucket.tryTake();
      if (r.ok) return;
      await sleep(r.waitMs, signal);
    }
  }
}

/** setTimeout as a promise, rejecting with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The share of a connector's TPS one egress replica may use. Decision: an even split over the live egress
 * replicas (heartbeats in PostgreSQL, replica-registry.ts): every replica paces at tps / live replicas, so
 * the sum never exceeds the supplier's limit, and when replicas come or go (autoscaler, crash) the others'
 * shares follow within one heartbeat plus the staleness (8 s). Even, because sms.routed.v1 spreads a
 * connector's messages evenly over partitions and the group spreads partitions evenly over members; the
 * cost is unused capacity when a replica holds more partitions than another (e.g. 6 partitions over 4
 * replicas) or none at all (more replicas than partitions). No per-message coordination: a lease or token
 * service per connector would use the whole limit under uneven load, at a round trip per grant.
 */
export function replicaShare(tps: number, replicas: number): number {
  if (!(tps > 0)) throw new RangeError('tps must be > 0');
  return tps / Math.max(1, Math.floor(replicas));
}

/** How many egress replicas are live, and this one's rank among them (0-based, by replica id). */
export interface Membership {
  count: number;
  rank: number;
}

/** The membership seen from `self` given the live replica ids (self included or not). */
export function membershipOf(liveIds: Iterable<string>, self: string): Membership {
  const ids = [...new Set([...liveIds, self])].sort();
  return { count: ids.length, rank: ids.indexOf(self) };
}

/**
 * Sessions (binds of each kind) this replica opens to a connector configured with `sessions`: the
 * connector's sessions dealt out by rank, so the replicas together open exactly `sessions` (the supplier's
 * contracted bind count) as long as there are no more replicas than sessions. Beyond that every replica
 * still opens one (it must be able to send what its partitions carry): the supplier then sees one bind per
 * replica, which replica-registry logs.
 */
export function sessionsShare(sessions: number, m: Membership): number {
  const n = Math.max(1, m.count);
  const base = Math.floor(sessions / n) + (m.rank < sessions % n ? 1 : 0);
  return Math.max(1, base);
}

/**
 * A bucket that never lets more than `ratePerSecond` grants into any 1-second window, yet does not sleep
 * per grant at high rates: up to 10 ms worth of tokens may be taken at once (burst b = rate/100), and the
 * refill rate is lowered by b so that b + refill <= rate. Below 200/s the burst is 1 and grants are simply
 * spaced 1/rate apart (at most `rate` in any half-open 1-second window).
 */
export function strictBucket(ratePerSecond: number, clock: Clock = systemClock): TokenBucket {
  const { rate, burst } = strictLimits(ratePerSecond);
  return new TokenBucket(rate, burst, clock);
}

/** Refill rate and burst of strictBucket for a limit. */
export function strictLimits(ratePerSecond: number): { rate: number; burst: number } {
  const burst = Math.max(1, Math.floor(ratePerSecond / 100));
  return { rate: burst > 1 ? ratePerSecond - burst : ratePerSecond, burst };
}
