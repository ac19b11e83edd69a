/**
 * Token bucket: `rate` tokens per second, holding at most `burst` (default one second's worth). One bucket
 * per account on this replica is shared by every bind of the account, so a customer cannot multiply its
 * rate by opening more binds. Across replicas the rate is this replica's share of the account's limit
 * (shares.ts), so the buckets of all replicas add up to the limit. Pure: the clock is passed in.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    private burst: number = rate,
    now: number = Date.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Changes the rate (e.g. after an account update) without resetting what was used. */
  configure(rate: number, burst: number = rate): void {
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes one token if there is one. */
  tryTake(now: number = Date.now()): boolean {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * One bucket per key (account id), created on first use. The burst is one second of the rate but at least
 * one token: a replica's share of a small limit (1 msg/s over 3 replicas) must still let messages through.
 */
export class Throttles {
  private readonly buckets = new Map<string, TokenBucket>();

  tryTake(key: string, rate: number, now: number = Date.now()): boolean {
    const burst = Math.max(1, rate);
    let b = this.buckets.get(key);
    if (!b) {
      b = new TokenBucket(rate, burst, now);
      this.buckets.set(key, b);
    } else {
      b.configure(rate, burst);
    }
    return b.tryTake(now);
  }
}
