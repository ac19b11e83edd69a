/** Exponential backoff with full jitter bounds: attempt 1 waits ~initial, doubling up to max. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0 = exact doubling; 0.2 = +-20% jitter (spreads reconnects of many binds). */
  jitter?: number;
}

/** Delay before retry number `attempt` (1-based). `random` is injected for tests. */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(n - 1, 30));
  const j = policy.jitter ?? 0;
  if (j <= 0) return base;
  const factor = 1 - j + 2 * j * random();
  return Math.max(0, Math.min(policy.maxMs, Math.round(base * factor)));
}
