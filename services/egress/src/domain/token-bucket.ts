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
 * The share of a connector's TPS one egress replica may use. Decision: a static split by the replica
 * count from config (EGRESS_REPLICAS): every replica paces at tps / replicas. The sum can never exceed
 * the supplier's limit and it needs no coordination; the cost is unused capacity when replicas are
 * fewer than configured or their load is uneven (one replica holding most of a connector's traffic
 * gets only its share). A Postgres lease per connector would use the whole limit but adds a database
 * round trip to the send path or a lease protocol with its own failure modes.
 */
export function replicaShare(tps: number, replicas: number): number {
  if (!(tps > 0)) throw new RangeError('tps must be > 0');
  return tps / Math.max(1, Math.floor(replicas));
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
