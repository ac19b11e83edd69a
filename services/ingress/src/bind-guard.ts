/**
 * Slows down and then refuses repeated failed binds, per source IP and per system_id (a password guesser
 * moving between IPs, or many accounts tried from one IP). Pure: the clock is passed in.
 *
 * - Failures are counted per key within `windowMs` of the last failure.
 * - From the `slowAfter`-th failure on, the bind_resp of each failure is delayed: `baseDelayMs` doubling per
 *   further failure, at most `maxDelayMs`.
 * - At `blockAfter` failures the key is blocked for `blockMs`: every bind for it is refused with
 *   ESME_RBINDFAIL, even with the right password.
 * - A successful bind clears the system_id's and the IP's counters.
 */
export interface BindGuardOptions {
  windowMs: number;
  slowAfter: number;
  blockAfter: number;
  baseDelayMs: number;
  maxDelayMs: number;
  blockMs: number;
  /** Keys kept at most (oldest dropped first), so a flood of random system_ids cannot exhaust memory. */
  maxKeys: number;
}

export const DEFAULT_BIND_GUARD: BindGuardOptions = {
  windowMs: 10 * 60_000,
  slowAfter: 3,
  blockAfter: 10,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
  blockMs: 15 * 60_000,
  maxKeys: 100_000,
};

interface Entry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

export class BindGuard {
  private readonly entries = new Map<string, Entry>();
  readonly opts: BindGuardOptions;

  constructor(opts: Partial<BindGuardOptions> = {}) {
    this.opts = { ...DEFAULT_BIND_GUARD, ...opts };
  }

  private get(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.blockedUntil <= now && now - e.lastFailure > this.opts.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Is a bind from `ip` for `systemId` refused outright? */
  blocked(ip: string, systemId: string, now: number = Date.now()): boolean {
    return [`ip:${ip}`, `sid:${systemId}`].some((k) => (this.get(k, now)?.blockedUntil ?? 0) > now);
  }

  /** Records a failure; returns how long to delay the bind_resp and whether a block started now. */
  fail(ip: string, systemId: string, now: number = Date.now()): { delayMs: number; blockedNow: boolean } {
    let worst = 0;
    let blockedNow = false;
    for (const key of [`ip:${ip}`, `sid:${systemId}`]) {
      let e = this.get(key, now);
      if (!e) {
        e = { failures: 0, lastFailure: now, blockedUntil: 0 };
        this.entries.set(key, e);
        this.evict();
      }
      e.failures++;
      e.lastFailure = now;
      if (e.failures >= this.opts.blockAfter && e.blockedUntil <= now) {
        e.blockedUntil = now + this.opts.blockMs;
        blockedNow = true;
      }
      worst = Math.max(worst, e.failures);
    }
    const over = worst - this.opts.slowAfter;
    const delayMs = over < 0 ? 0 : Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** over);
    return { delayMs, blockedNow };
  }

  /** A successful bind: the counters of this IP and system_id start again (a block stays until it ends). */
  succeed(ip: string, systemId: string, now: number = Date.now()): void {
    for (const key of [`ip:${ip}`, `sid:${systemId}`]) {
      const e = this.get(key, now);
      if (e && e.blockedUntil <= now) this.entries.delete(key);
    }
  }

  private evict(): void {
    while (this.entries.size > this.opts.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
