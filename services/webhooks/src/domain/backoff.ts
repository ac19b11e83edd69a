/**
 * Retry schedule of a webhook delivery: attempt n (1-based) failed, the next one waits
 * base * 2^(n-1), capped at `maxMs`, with +-20 % jitter (many deliveries failing together, e.g. when a
 * receiver comes back, do not all return at the same instant). With the defaults (base 5 s, cap 1 h)
 * the waits are 5 s, 10 s, 20 s ... 42.7 min, then hourly: about 30 attempts over 24 h. No retry is
 * scheduled past `giveUpAt`; the delivery is then failed (and can still be replayed by hand).
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export type NextStep = { kind: 'retry'; at: Date } | { kind: 'give up' };

export function nextAttempt(opts: {
  policy: BackoffPolicy;
  attempts: number;
  now: Date;
  giveUpAt: Date;
  random?: () => number;
}): NextStep {
  const { policy, attempts, now, giveUpAt } = opts;
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  const jitter = 1 + ((opts.random ?? Math.random)() * 0.4 - 0.2);
  const at = new Date(now.getTime() + Math.max(1, Math.round(exp * jitter)));
  if (now.getTime() >= giveUpAt.getTime()) return { kind: 'give up' };
  // The last retry is made at the give-up instant rather than dropped.
  return { kind: 'retry', at: at.getTime() > giveUpAt.getTime() ? giveUpAt : at };
}

/** Whether an HTTP status counts as delivered (2xx); everything else, and no answer, is retried. */
export function isDelivered(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}
