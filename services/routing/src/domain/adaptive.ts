// The adaptive strategy: routing that learns from final receipts.
//
// What is learnt, per (connector, destination key, traffic type) — the destination key is the network
// ("MCC-MNC") or, when unknown, the country, as for best_quality:
//   - successes and failures as exponentially decayed counters (half-life H: an observation `age` ms old
//     weighs 2^(-age/H)), giving a Beta(a0 + s, b0 + f) posterior of the delivery probability;
//   - a decayed histogram of submit -> delivered latency (fixed buckets), whose 95th percentile is the
//     latency estimate.
// Every counter is a pure function of the set of observations and their event times (the order they
// arrive in does not matter), so replicas that read the same receipts hold the same estimates.
//
// The choice, per message, among the rule's enabled connectors that have a buy price (others removed, as
// least_cost does):
//   1. a manual pin (strategy option `pin`) that is eligible overrides learning;
//   2. with probability `exploration` (default 0.05, capped at 0.2; drawn from hash(hubMessageId), so a
//      redelivered message gets the same choice) the message is an exploration: one Thompson draw per
//      connector from its posterior, and the best sampled value per unit of cost among the draws meeting the
//      service level (else the highest draw) is chosen;
//   3. otherwise exploitation: among the connectors whose estimate is trusted (decayed samples >= minSamples)
//      and meets the service level (posterior mean >= minRatio and, when set, p95 <= maxP95Ms), the highest
//      P(deliver) / price; if none, among the untrusted (their prior mean stands in for the estimate);
//      if none either, the highest posterior mean (quality first when nothing meets the level).
// The rest follow as failover in the exploitation order. Unhealthy connectors are demoted after this by the
// common rule in strategies.ts.
//
// Service level defaults per traffic type (a rule's `sla` option overrides them):
//   OTP 95 % and p95 <= 10 s; TRANSACTIONAL 90 % and p95 <= 30 s; MARKETING and UNSPECIFIED 85 %.

import { hash32, unitInterval } from './hash.js';
import type { FxTable } from './money.js';
import type { Money, RouteCandidate, TrafficType } from './types.js';

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is open. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  250, 500, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000, 900_000,
];

export const DEFAULT_HALF_LIFE_MS = 300_000;
export const DEFAULT_EXPLORATION = 0.05;
export const MAX_EXPLORATION = 0.2;
export const DEFAULT_ADAPTIVE_MIN_SAMPLES = 30;
/** Beta prior: mean 0.9 with the weight of 10 observations. */
export const DEFAULT_ADAPTIVE_PRIOR: AdaptivePrior = Object.freeze({ deliveryRatio: 0.9, strength: 10 });

export interface AdaptivePrior {
  /** Prior mean delivery probability, 0..1 (exclusive). */
  deliveryRatio: number;
  /** Weight of the prior in observations (a0 + b0). */
  strength: number;
}

export interface ServiceLevel {
  /** Minimum delivery ratio 0..1. */
  minRatio: number;
  /** Maximum 95th percentile submit -> delivered latency, ms; unset = no latency bound. */
  maxP95Ms?: number;
}

export const DEFAULT_SERVICE_LEVELS: Readonly<Record<TrafficType, ServiceLevel>> = Object.freeze({
  OTP: { minRatio: 0.95, maxP95Ms: 10_000 },
  TRANSACTIONAL: { minRatio: 0.9, maxP95Ms: 30_000 },
  MARKETING: { minRatio: 0.85 },
  UNSPECIFIED: { minRatio: 0.85 },
});

// ---------------------------------------------------------------------------------------------------------
// Decayed counters

/** A set of counters sharing one reference time: value(now) = v * 2^(-(now - t) / H). */
export interface DecayedCounters {
  t: number;
  v: number[];
}

export function newCounters(n: number): DecayedCounters {
  return { t: Number.NEGATIVE_INFINITY, v: new Array<number>(n).fill(0) };
}

/** Adds `w` (default 1) to counter `i` for an observation at `at`; order-independent. */
export function decayAdd(c: DecayedCounters, i: number, at: number, halfLifeMs: number, w = 1): void {
  if (at > c.t) {
    if (Number.isFinite(c.t)) {
      const f = Math.pow(2, -(at - c.t) / halfLifeMs);
      for (let k = 0; k < c.v.length; k++) c.v[k] = (c.v[k] as number) * f;
    }
    c.t = at;
    c.v[i] = (c.v[i] as number) + w;
  } else {
    c.v[i] = (c.v[i] as number) + w * Math.pow(2, -(c.t - at) / halfLifeMs);
  }
}

/** Counter values as of `now` (observations after `now` count as of their own time, undecayed). */
export function decayedValues(c: DecayedCounters, now: number, halfLifeMs: number): number[] {
  if (!Number.isFinite(c.t)) return c.v.slice();
  const f = now > c.t ? Math.pow(2, -(now - c.t) / halfLifeMs) : 1;
  return c.v.map((x) => x * f);
}

/** The q-quantile (0..1) of a histogram over LATENCY_BOUNDS_MS; the upper bound of its bucket; null if empty. */
export function histogramQuantile(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return null;
  const target = q * total;
  let cum = 0;
  for (let i = 0; i < buckets.length; i++) {
    cum += buckets[i] as number;
    if (cum >= target - 1e-9) return LATENCY_BOUNDS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

export function latencyBucket(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= (LATENCY_BOUNDS_MS[i] as number)) return i;
  return LATENCY_BOUNDS_MS.length;
}

// ---------------------------------------------------------------------------------------------------------
// The book of estimates

export interface Observation {
  connectorId: string;
  destinationKey: string;
  trafficType: TrafficType;
  delivered: boolean;
  /** Submit -> final receipt, ms (delivered messages feed the latency histogram). */
  latencyMs?: number;
  /** Event time of the final status, ms since the epoch. */
  at: number;
}

export interface AdaptiveEstimate {
  /** Decayed delivered count. */
  successes: number;
  /** Decayed not-delivered count. */
  failures: number;
  /** 95th percentile latency of delivered messages (bucket upper bound), ms; null when none. */
  p95LatencyMs: number | null;
  /** Event time of the latest observation. */
  lastAt: number;
}

/** Learnt estimates of a (connector, destination key, traffic type), or null when nothing was observed. */
export type AdaptiveLookup = (
  connectorId: string,
  destinationKey: string,
  trafficType: TrafficType,
  now: number,
) => AdaptiveEstimate | null;

// Counter layout: [successes, failures, latency buckets...]
const S = 0;
const F = 1;
const H0 = 2;
const WIDTH = H0 + LATENCY_BOUNDS_MS.length + 1;

export class AdaptiveBook {
  private readonly counters = new Map<string, DecayedCounters>();

  constructor(readonly halfLifeMs: number = DEFAULT_HALF_LIFE_MS) {
    if (!(halfLifeMs > 0)) throw new Error('the half-life must be > 0');
  }

  get size(): number {
    return this.counters.size;
  }

  static key(connectorId: string, destinationKey: string, trafficType: TrafficType): string {
    return `${connectorId}|${destinationKey}|${trafficType}`;
  }

  record(o: Observation): void {
    const k = AdaptiveBook.key(o.connectorId, o.destinationKey, o.trafficType);
    let c = this.counters.get(k);
    if (!c) this.counters.set(k, (c = newCounters(WIDTH)));
    decayAdd(c, o.delivered ? S : F, o.at, this.halfLifeMs);
    if (o.delivered && o.latencyMs !== undefined && o.latencyMs >= 0)
      decayAdd(c, H0 + latencyBucket(o.latencyMs), o.at, this.halfLifeMs);
  }

  /** Drops entries whose weight decayed below `epsilon` (default 1e-3) as of `now`; returns how many. */
  prune(now: number, epsilon = 1e-3): number {
    let n = 0;
    for (const [k, c] of this.counters) {
      const v = decayedValues(c, now, this.halfLifeMs);
      if ((v[S] as number) + (v[F] as number) < epsilon) {
        this.counters.delete(k);
        n++;
      }
    }
    return n;
  }

  /** Every entry as of `now` (for the estimates RPC). */
  *entries(now: number): IterableIterator<{
    connectorId: string;
    destinationKey: string;
    trafficType: TrafficType;
    estimate: AdaptiveEstimate;
  }> {
    for (const k of this.counters.keys()) {
      const [connectorId, destinationKey, trafficType] = k.split('|') as [string, string, TrafficType];
      const estimate = this.lookup(connectorId, destinationKey, trafficType, now);
      if (estimate) yield { connectorId, destinationKey, trafficType, estimate };
    }
  }

  readonly lookup: AdaptiveLookup = (connectorId, destinationKey, trafficType, now) => {
    const c = this.counters.get(AdaptiveBook.key(connectorId, destinationKey, trafficType));
    if (!c) return null;
    const v = decayedValues(c, now, this.halfLifeMs);
    return {
      successes: v[S] as number,
      failures: v[F] as number,
      p95LatencyMs: histogramQuantile(v.slice(H0), 0.95),
      lastAt: c.t,
    };
  };
}

// ---------------------------------------------------------------------------------------------------------
// Sampling (seeded, deterministic per message)

/** mulberry32: a small seeded PRNG with values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia and Tsang (shape < 1 boosted). */
export function sampleGamma(shape: number, rand: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, rand) * Math.pow(Math.max(rand(), 1e-12), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function sampleBeta(a: number, b: number, rand: () => number): number {
  const x = sampleGamma(a, rand);
  const y = sampleGamma(b, rand);
  return x + y > 0 ? x / (x + y) : a / (a + b);
}

// ---------------------------------------------------------------------------------------------------------
// The strategy

export interface AdaptiveStrategy {
  kind: 'adaptive';
  connectors: string[];
  currency: string;
  minSamples?: number;
  prior?: AdaptivePrior;
  /** Share of the rule's traffic that explores, 0..MAX_EXPLORATION. */
  exploration?: number;
  /** Service level per traffic type (merged over the defaults) or one for every type. */
  sla?: Partial<Record<TrafficType, ServiceLevel>> | ServiceLevel;
  /** A connector that overrides learning while it is eligible. */
  pin?: string;
}

export interface AdaptiveContext {
  hubMessageId: string;
  e164: string;
  mccMnc: string | undefined;
  country?: string;
  destinationKey: string;
  trafficType: TrafficType;
  at: Date;
  buyRate: (
    connectorId: string,
    e164: string,
    mccMnc: string | undefined,
    at: Date,
    country?: string,
  ) => Money | null;
  fx: FxTable;
  adaptive: AdaptiveLookup;
}

export function serviceLevelFor(s: AdaptiveStrategy, t: TrafficType): ServiceLevel {
  const sla = s.sla;
  if (sla && 'minRatio' in sla && typeof sla.minRatio === 'number') return sla as ServiceLevel;
  const perType = sla as Partial<Record<TrafficType, ServiceLevel>> | undefined;
  return perType?.[t] ?? DEFAULT_SERVICE_LEVELS[t];
}

/** Salt of the per-message exploration draw (exported for the dry run, which avoids exploring ids). */
export const SALT_EXPLORE = 0xe7910e;
const SALT_THOMPSON = 0x7a0b5a;

export interface AdaptiveRow {
  connectorId: string;
  /** Price per segment in the strategy currency, micro-units (native when not convertible). */
  price: Money;
  comparable: boolean;
  samples: number;
  trusted: boolean;
  /** Posterior mean of the delivery probability. */
  mean: number;
  p95LatencyMs: number | null;
  meetsLevel: boolean;
  /** mean / price (per micro-unit, scaled by 1e6: deliveries per currency unit). */
  value: number;
  a: number;
  b: number;
}

/** The estimates of each priced connector (pure; exported for tests and the estimates RPC). */
export function adaptiveRows(s: AdaptiveStrategy, usable: string[], ctx: AdaptiveContext): AdaptiveRow[] {
  const prior = s.prior ?? DEFAULT_ADAPTIVE_PRIOR;
  const minSamples = s.minSamples ?? DEFAULT_ADAPTIVE_MIN_SAMPLES;
  const level = serviceLevelFor(s, ctx.trafficType);
  const a0 = prior.deliveryRatio * prior.strength;
  const b0 = (1 - prior.deliveryRatio) * prior.strength;
  const now = ctx.at.getTime();
  const rows: AdaptiveRow[] = [];
  for (const id of usable) {
    const native = ctx.buyRate(id, ctx.e164, ctx.mccMnc, ctx.at, ctx.country);
    if (!native) continue;
    const converted = ctx.fx.convert(native, s.currency);
    const price = converted ?? native;
    const est = ctx.adaptive(id, ctx.destinationKey, ctx.trafficType, now);
    const succ = est?.successes ?? 0;
    const fail = est?.failures ?? 0;
    const samples = succ + fail;
    const trusted = samples >= minSamples;
    const a = a0 + succ;
    const b = b0 + fail;
    const mean = a / (a + b);
    const p95 = est?.p95LatencyMs ?? null;
    const latencyOk = level.maxP95Ms === undefined || (p95 !== null && p95 <= level.maxP95Ms);
    const meetsLevel = trusted && mean >= level.minRatio && latencyOk;
    const micro = Number(price.amountMinor);
    const value = converted ? (mean * 1e6) / Math.max(micro, 1) : 0;
    rows.push({
      connectorId: id,
      price,
      comparable: converted !== null,
      samples,
      trusted,
      mean,
      p95LatencyMs: p95,
      meetsLevel,
      value,
      a,
      b,
    });
  }
  return rows;
}

/** Exploitation order: meeting the level by value, then untrusted by value, then the rest by mean. */
export function exploitOrder(rows: AdaptiveRow[]): AdaptiveRow[] {
  const tier = (r: AdaptiveRow) => (r.meetsLevel ? 0 : r.trusted ? 2 : 1);
  return rows
    .map((r, i) => ({ r, i }))
    .sort((x, y) => {
      const t = tier(x.r) - tier(y.r);
      if (t !== 0) return t;
      if (tier(x.r) === 2) return y.r.mean - x.r.mean || y.r.value - x.r.value || x.i - y.i;
      return y.r.value - x.r.value || y.r.mean - x.r.mean || x.i - y.i;
    })
    .map((x) => x.r);
}

function describe(r: AdaptiveRow): string {
  const p95 = r.p95LatencyMs === null ? 'p95 n/a' : `p95 <= ${r.p95LatencyMs} ms`;
  return `P(deliver) ${(r.mean * 100).toFixed(1)}% (${r.samples.toFixed(1)} samples${r.trusted ? '' : ', untrusted: prior'}), ${p95}, price ${r.price.amountMinor} ${r.price.currency} micro, ${r.value.toFixed(1)} delivered/${r.price.currency}`;
}

export function runAdaptive(s: AdaptiveStrategy, usable: string[], ctx: AdaptiveContext): RouteCandidate[] {
  const rows = adaptiveRows(s, usable, ctx);
  if (rows.length === 0) return [];
  const level = serviceLevelFor(s, ctx.trafficType);
  const levelText = `level ${(level.minRatio * 100).toFixed(0)}%${level.maxP95Ms === undefined ? '' : `/p95 ${level.maxP95Ms} ms`}`;
  const order = exploitOrder(rows);
  const best = order[0] as AdaptiveRow;
  let chosen = best;
  let why: string;
  const pinned = s.pin ? rows.find((r) => r.connectorId === s.pin) : undefined;
  const eps = Math.min(Math.max(s.exploration ?? DEFAULT_EXPLORATION, 0), MAX_EXPLORATION);
  if (pinned) {
    chosen = pinned;
    why = 'pinned on the rule';
  } else if (rows.length > 1 && unitInterval(ctx.hubMessageId, SALT_EXPLORE) < eps) {
    const rand = seededRandom(hash32(ctx.hubMessageId, SALT_THOMPSON));
    const draws = rows.map((r) => {
      const p = sampleBeta(r.a, r.b, rand);
      const micro = Number(r.price.amountMinor);
      return { r, p, v: r.comparable ? p / Math.max(micro, 1) : 0 };
    });
    const meeting = draws.filter((d) => d.p >= level.minRatio);
    const pick = (meeting.length > 0 ? meeting : draws).reduce((x, y) =>
      meeting.length > 0 ? (y.v > x.v ? y : x) : y.p > x.p ? y : x,
    );
    chosen = pick.r;
    why = `exploration (Thompson draw ${(pick.p * 100).toFixed(1)}%${chosen === best ? ', same as exploitation' : `, exploitation would pick ${best.connectorId}`})`;
  } else if (best.meetsLevel) {
    why = `exploitation: most delivered per ${best.price.currency} meeting the ${levelText}`;
  } else if (!best.trusted) {
    why = `exploitation: no trusted connector meets the ${levelText}; prior, most delivered per ${best.price.currency}`;
  } else {
    why = `exploitation: none meets the ${levelText}; best delivery ratio`;
  }
  const out: RouteCandidate[] = [];
  const push = (r: AdaptiveRow, reason: string) =>
    out.push({ connectorId: r.connectorId, reason, expectedCost: r.price, score: r.mean });
  push(chosen, `adaptive ${why}; ${describe(chosen)}`);
  for (const r of order)
    if (r !== chosen) push(r, `adaptive failover${r.meetsLevel ? '' : ' (below level)'}; ${describe(r)}`);
  return out;
}
