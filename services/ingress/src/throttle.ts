/**
 * Token bucket: `rate` tokens per second, holding at most `burst` (default one second's worth). One bucket
 * per account on this replica is shared by every bind of the account, so a customer cannot multiply its
 * rate by opening more binds. Pure: the clock is passed in.
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

/** One bucket per key (account id), created on first use. */
export class Throttles {
  private readonly buckets = new Map<string, TokenBucket>();

  tryTake(key: string, rate: number, now: number = Date.now()): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      b = new TokenBucket(rate, rate, now);
      this.buckets.set(key, b);
    } else {
      b.configure(rate);
    }
    return b.tryTake(now);
  }
}
