// Velocity and duplicate windows shared by every routing replica (and kept over restarts), decided one
// consumed batch at a time. The store (services/routing/src/firewall-store.ts, PostgreSQL) locks the
// batch's keys, reads what the other replicas counted, and writes back what this function admits; this
// file is the decision in between, without I/O.
//
// Rules stated once:
// - A velocity window is 10 buckets of windowMs / 10 plus the current one (as the in-memory
//   SlidingWindowCounter): a count covers between windowMs and windowMs + windowMs / 10 of history, so
//   never more than `limit` messages pass in any window of windowMs. Every message of a batch falls in the
//   bucket of the batch's clock.
// - First come, first served in batch order: a message is checked against what the store already holds
//   plus what this batch admitted before it; only admitted messages count, so rejected ones do not use up
//   a limit (as in one process).
// - Duplicate: the first admitted message of (account, destination, text) holds the key for windowMs; a
//   later one with another id is rejected, the same id (a redelivery) is not.
// - Idempotence: a message the store remembers as admitted (a redelivery, after a crash or a rebalance, on
//   any replica) skips both checks and is not counted again.

import { reject } from './customer-error.js';
import type { Destination, RejectedDecision } from './types.js';

/** Buckets per velocity window (the window's precision is windowMs / VELOCITY_BUCKETS). */
export const VELOCITY_BUCKETS = 10;

export interface VelocityNeed {
  ruleId: string;
  /** Rule id and window: a rule whose window changed starts new counters. */
  ruleKey: string;
  /** Destination prefix or account id. */
  key: string;
  limit: number;
  windowMs: number;
  /** Operator reason when this need rejects. */
  reason: string;
}

export interface DuplicateNeed {
  ruleId: string;
  ruleKey: string;
  /** Digest of account, destination and text. */
  key: string;
  windowMs: number;
  /** Operator reason given the first message's id. */
  reason: (firstId: string) => string;
}

/** The stateful checks one admitted-so-far message needs (steps 4 and 5 of the firewall). */
export interface StatefulCheck {
  hubMessageId: string;
  destination: Destination;
  duplicates: DuplicateNeed[];
  velocity: VelocityNeed[];
}

/** What the store holds for a batch's keys before the batch. */
export interface WindowsView {
  /** Ids of messages already admitted (and counted). */
  admitted: ReadonlySet<string>;
  /** Messages in the window per `windowKey(ruleKey, key)`. */
  totals: ReadonlyMap<string, number>;
  /** First message id per duplicate `windowKey`, for keys whose window is still open. */
  firsts: ReadonlyMap<string, string>;
}

export interface BatchKeys {
  /** Velocity keys with the batch's bucket and when that bucket stops counting. */
  velocity: Array<{ ruleKey: string; key: string; bucket: number; expiresAtMs: number }>;
  /** Duplicate keys with when the key frees up if a message of this batch takes it. */
  duplicates: Array<{ ruleKey: string; key: string; expiresAtMs: number }>;
  ids: string[];
}

export interface StatefulOutcome {
  /** Per check, in order: the rejection, or null when admitted. */
  verdicts: Array<RejectedDecision | null>;
  /** Admitted messages per velocity key, in the batch's bucket. */
  increments: Array<{ ruleKey: string; key: string; bucket: number; n: number }>;
  /** New first messages of duplicate keys. */
  firsts: Array<{ ruleKey: string; key: string; hubMessageId: string; expiresAtMs: number }>;
  /** Ids admitted by this batch (and not already remembered). */
  admitted: string[];
}

export const windowKey = (ruleKey: string, key: string): string => `${ruleKey}\u0000${key}`;

export function bucketOf(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / (windowMs / VELOCITY_BUCKETS));
}

const byKey = (a: { ruleKey: string; key: string }, b: { ruleKey: string; key: string }): number =>
  a.ruleKey < b.ruleKey ? -1 : a.ruleKey > b.ruleKey ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/**
 * The distinct keys of a batch, sorted (every replica locks them in the same order: no deadlock between
 * two batches).
 */
export function batchKeys(checks: readonly StatefulCheck[], nowMs: number): BatchKeys {
  const velocity = new Map<string, BatchKeys['velocity'][number]>();
  const duplicates = new Map<string, BatchKeys['duplicates'][number]>();
  const ids = new Set<string>();
  for (const c of checks) {
    ids.add(c.hubMessageId);
    for (const v of c.velocity) {
      const k = windowKey(v.ruleKey, v.key);
      if (velocity.has(k)) continue;
      const bucket = bucketOf(nowMs, v.windowMs);
      const bucketMs = v.windowMs / VELOCITY_BUCKETS;
      velocity.set(k, {
        ruleKey: v.ruleKey,
        key: v.key,
        bucket,
        expiresAtMs: Math.ceil((bucket + VELOCITY_BUCKETS + 1) * bucketMs),
      });
    }
    for (const d of c.duplicates) {
      const k = windowKey(d.ruleKey, d.key);
      if (!duplicates.has(k))
        duplicates.set(k, { ruleKey: d.ruleKey, key: d.key, expiresAtMs: nowMs + d.windowMs });
    }
  }
  return {
    velocity: [...velocity.values()].sort(byKey),
    duplicates: [...duplicates.values()].sort(byKey),
    ids: [...ids].sort(),
  };
}

/** Decides a batch's stateful checks against the store's view, in order. */
export function decideStateful(
  checks: readonly StatefulCheck[],
  view: WindowsView,
  nowMs: number,
): StatefulOutcome {
  const verdicts: Array<RejectedDecision | null> = [];
  const added = new Map<string, { ruleKey: string; key: string; bucket: number; n: number }>();
  const firsts = new Map<string, StatefulOutcome['firsts'][number]>();
  const admitted: string[] = [];
  const admittedNow = new Set<string>();
  next: for (const c of checks) {
    const id = c.hubMessageId;
    if (view.admitted.has(id) || admittedNow.has(id)) {
      verdicts.push(null);
      continue;
    }
    for (const d of c.duplicates) {
      const k = windowKey(d.ruleKey, d.key);
      const first = firsts.get(k)?.hubMessageId ?? view.firsts.get(k);
      if (first !== undefined && first !== id) {
        verdicts.push(reject('duplicate', d.ruleId, d.reason(first), c.destination));
        continue next;
      }
    }
    for (const v of c.velocity) {
      const k = windowKey(v.ruleKey, v.key);
      if ((view.totals.get(k) ?? 0) + (added.get(k)?.n ?? 0) >= v.limit) {
        verdicts.push(reject('velocity', v.ruleId, v.reason, c.destination));
        continue next;
      }
    }
    for (const d of c.duplicates) {
      const k = windowKey(d.ruleKey, d.key);
      if (!firsts.has(k) && !view.firsts.has(k))
        firsts.set(k, { ruleKey: d.ruleKey, key: d.key, hubMessageId: id, expiresAtMs: nowMs + d.windowMs });
    }
    for (const v of c.velocity) {
      const k = windowKey(v.ruleKey, v.key);
      const a = added.get(k);
      if (a) a.n++;
      else added.set(k, { ruleKey: v.ruleKey, key: v.key, bucket: bucketOf(nowMs, v.windowMs), n: 1 });
    }
    admittedNow.add(id);
    admitted.push(id);
    verdicts.push(null);
  }
  return { verdicts, increments: [...added.values()], firsts: [...firsts.values()], admitted };
}

/** Decides and records a batch's stateful checks where every replica sees them. */
export interface SharedFirewallWindows {
  decide(checks: readonly StatefulCheck[], nowMs: number): Promise<Array<RejectedDecision | null>>;
}

/**
 * The shared windows in one process's memory (tests and benchmarks; a single replica that may forget its
 * windows on restart). Expired entries are dropped as batches arrive.
 */
export class InMemorySharedWindows implements SharedFirewallWindows {
  private readonly counters = new Map<string, { bucket: number; n: number; expiresAtMs: number }[]>();
  private readonly firsts = new Map<string, { id: string; expiresAtMs: number }>();
  private readonly admitted = new Map<string, number>();

  constructor(private readonly rememberMs = 600_000) {}

  decide(checks: readonly StatefulCheck[], nowMs: number): Promise<Array<RejectedDecision | null>> {
    const keys = batchKeys(checks, nowMs);
    const totals = new Map<string, number>();
    for (const v of keys.velocity) {
      const k = windowKey(v.ruleKey, v.key);
      const list = (this.counters.get(k) ?? []).filter((b) => b.expiresAtMs > nowMs);
      this.counters.set(k, list);
      totals.set(
        k,
        list.reduce(
          (s, b) => (b.bucket > v.bucket - VELOCITY_BUCKETS - 1 && b.bucket <= v.bucket ? s + b.n : s),
          0,
        ),
      );
    }
    const firsts = new Map<string, string>();
    for (const d of keys.duplicates) {
      const k = windowKey(d.ruleKey, d.key);
      const f = this.firsts.get(k);
      if (f && f.expiresAtMs > nowMs) firsts.set(k, f.id);
    }
    const admitted = new Set(keys.ids.filter((id) => (this.admitted.get(id) ?? 0) > nowMs));
    const out = decideStateful(checks, { admitted, totals, firsts }, nowMs);
    for (const inc of out.increments) {
      const k = windowKey(inc.ruleKey, inc.key);
      const list = this.counters.get(k) ?? [];
      const v = keys.velocity.find((x) => x.ruleKey === inc.ruleKey && x.key === inc.key);
      const b = list.find((x) => x.bucket === inc.bucket);
      if (b) b.n += inc.n;
      else list.push({ bucket: inc.bucket, n: inc.n, expiresAtMs: v?.expiresAtMs ?? nowMs });
      this.counters.set(k, list);
    }
    for (const f of out.firsts)
      this.firsts.set(windowKey(f.ruleKey, f.key), { id: f.hubMessageId, expiresAtMs: f.expiresAtMs });
    for (const id of out.admitted) this.admitted.set(id, nowMs + this.rememberMs);
    return Promise.resolve(out.verdicts);
  }
}
