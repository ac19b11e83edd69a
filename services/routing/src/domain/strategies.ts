// Route selection strategies: from a rule's connector list to an ordered candidate list.
//
// Connector availability (applies to every strategy, after ordering):
//   - unknown to the tables or `enabled: false`: removed (an operator switched it off; never try it);
//   - unhealthy (the injected health view says so): kept, but moved after every healthy candidate, in the
//     same relative order, with "unhealthy" in its reason, so egress still has a last resort when every
//     supplier is flapping. A weighted split chooses among healthy connectors only.
//
// Strategies:
//   priority      the listed order (failover).
//   weighted      one connector chosen by weight from hash(hubMessageId), so a redelivered message gets the
//                 same choice and N messages split in proportion; the others follow by weight descending.
//   least_cost    buy rate per segment converted to the strategy currency, cheapest first (ties: list
//                 order). A connector with no buy rate for the destination is removed (it does not serve
//                 it); one whose rate cannot be converted (no FX pair) goes last.
//   best_quality  effective delivery ratio descending, then p50 latency ascending, then list order.
//   score         weighted sum of quality, cost and latency (formula below), highest first.
//   adaptive      learnt from final receipts: delivered per unit of cost under the rule's service level,
//                 bounded Thompson-sampling exploration (adaptive.ts).
//
// Quality with few samples: a connector with fewer than `minSamples` (default 100) samples for the
// destination is "cold" and gets the neutral prior: the mean delivery ratio and mean p50 latency of the
// warm connectors in the same decision, or `prior` (default ratio 0.9, latency 5000 ms) when none are warm.
//
// Score formula (weights are normalised to sum to 1; every term is in [0, 1], higher is better):
//   score = wq * q + wc * (minCost / cost) + wl * (minLatency / latency)
//   q = effective delivery ratio; minCost / minLatency = the best among the candidates; a cost or latency of
//   0 counts as 1 (best); a connector with no comparable cost scores 0 on the cost term.

import { runAdaptive, type AdaptiveLookup, type AdaptiveStrategy } from './adaptive.js';
import type { FxTable } from './money.js';
import { unitInterval } from './hash.js';
import type { Money, RouteCandidate, StrategyKind, TrafficType } from './types.js';

export type Strategy =
  | { kind: 'priority'; connectors: string[] }
  | { kind: 'weighted'; split: Array<{ connectorId: string; weight: number }> }
  | { kind: 'least_cost'; connectors: string[]; currency: string }
  | { kind: 'best_quality'; connectors: string[]; minSamples?: number; prior?: QualityPrior }
  | {
      kind: 'score';
      connectors: string[];
      currency: string;
      weights: { quality: number; cost: number; latency?: number };
      minSamples?: number;
      prior?: QualityPrior;
    }
  | AdaptiveStrategy;

export interface QualityPrior {
  deliveryRatio: number;
  p50LatencyMs: number;
}

export interface QualityStats {
  /** 0..1 */
  deliveryRatio: number;
  p50LatencyMs: number;
  samples: number;
}

/**
 * Buy price per segment for sending to `e164` through `connectorId` at `at`, or null when none. `country` is
 * the destination country routing resolved for the number (what rating prices by), for country-level rates.
 */
export type BuyRateLookup = (
  connectorId: string,
  e164: string,
  mccMnc: string | undefined,
  at: Date,
  country?: string,
) => Money | null;

/** Delivery statistics of a connector for a destination key ("MCC-MNC", or the country when unknown). */
export type QualityLookup = (connectorId: string, destinationKey: string) => QualityStats | null;

export interface ConnectorInfo {
  id: string;
  enabled: boolean;
}

export interface ConnectorHealth {
  isHealthy(connectorId: string): boolean;
}

/** Health view over a set of unhealthy connector ids (the set may be replaced or mutated by its owner). */
export function healthFromUnhealthySet(unhealthy: ReadonlySet<string>): ConnectorHealth {
  return { isHealthy: (id) => !unhealthy.has(id) };
}

export interface StrategyContext {
  hubMessageId: string;
  e164: string;
  mccMnc: string | undefined;
  /** The destination country (ISO 3166-1 alpha-2, '001' non-geographic), when known. */
  country?: string;
  destinationKey: string;
  at: Date;
  connectors: ReadonlyMap<string, ConnectorInfo>;
  health: ConnectorHealth;
  buyRate: BuyRateLookup;
  fx: FxTable;
  quality: QualityLookup;
  /** The message's traffic type (adaptive learns and sets service levels per type); UNSPECIFIED if unset. */
  trafficType?: TrafficType;
  /** Learnt estimates for the adaptive strategy; none known when unset. */
  adaptive?: AdaptiveLookup;
}

export const DEFAULT_MIN_SAMPLES = 100;
export const DEFAULT_PRIOR: QualityPrior = Object.freeze({ deliveryRatio: 0.9, p50LatencyMs: 5000 });

const SALT_WEIGHTED = 0x5eed;

export function strategyConnectors(s: Strategy): string[] {
  return s.kind === 'weighted' ? s.split.map((x) => x.connectorId) : s.connectors;
}

/** Ordered candidates (possibly empty when every connector is removed). */
export function runStrategy(s: Strategy, ctx: StrategyContext): RouteCandidate[] {
  const usable = strategyConnectors(s).filter(
    (id, i, all) => ctx.connectors.get(id)?.enabled === true && all.indexOf(id) === i,
  );
  let ordered: RouteCandidate[];
  switch (s.kind) {
    case 'priority':
      ordered = usable.map((id, i) => withCost({ connectorId: id, reason: `priority ${i + 1}` }, ctx));
      break;
    case 'weighted':
      ordered = weighted(s, usable, ctx);
      break;
    case 'least_cost':
      ordered = leastCost(usable, s.currency, ctx);
      break;
    case 'best_quality':
      ordered = bestQuality(usable, s.minSamples ?? DEFAULT_MIN_SAMPLES, s.prior ?? DEFAULT_PRIOR, ctx);
      break;
    case 'score':
      ordered = scored(s, usable, ctx);
      break;
    case 'adaptive':
      ordered = runAdaptive(s, usable, {
        ...ctx,
        trafficType: ctx.trafficType ?? 'UNSPECIFIED',
        adaptive: ctx.adaptive ?? (() => null),
      });
      break;
  }
  return demoteUnhealthy(ordered, ctx.health);
}

export function strategyKind(s: Strategy): StrategyKind {
  return s.kind;
}

function withCost(c: RouteCandidate, ctx: StrategyContext): RouteCandidate {
  const cost = ctx.buyRate(c.connectorId, ctx.e164, ctx.mccMnc, ctx.at, ctx.country);
  if (cost) c.expectedCost = cost;
  return c;
}

function demoteUnhealthy(list: RouteCandidate[], health: ConnectorHealth): RouteCandidate[] {
  const healthy: RouteCandidate[] = [];
  const sick: RouteCandidate[] = [];
  for (const c of list) {
    if (health.isHealthy(c.connectorId)) healthy.push(c);
    else {
      c.reason = `${c.reason}; unhealthy, last resort`;
      sick.push(c);
    }
  }
  return sick.length === 0 ? healthy : healthy.concat(sick);
}

function weighted(
  s: Extract<Strategy, { kind: 'weighted' }>,
  usable: string[],
  ctx: StrategyContext,
): RouteCandidate[] {
  const weightOf = new Map(s.split.map((x) => [x.connectorId, x.weight]));
  const entries = usable.map((id, i) => ({ id, weight: weightOf.get(id) ?? 0, i }));
  const pool = entries.filter((e) => e.weight > 0 && ctx.health.isHealthy(e.id));
  const choosable = pool.length > 0 ? pool : entries.filter((e) => e.weight > 0);
  const total = choosable.reduce((sum, e) => sum + e.weight, 0);
  let chosen: (typeof entries)[number] | undefined;
  if (total > 0) {
    let point = unitInterval(ctx.hubMessageId, SALT_WEIGHTED) * total;
    for (const e of choosable) {
      if (point < e.weight) {
        chosen = e;
        break;
      }
      point -= e.weight;
    }
    chosen ??= choosable[choosable.length - 1];
  }
  const pct = (w: number) => (total > 0 ? `${((100 * w) / total).toFixed(1)}%` : '0%');
  const rest = entries.filter((e) => e !== chosen).sort((a, b) => b.weight - a.weight || a.i - b.i);
  const out: RouteCandidate[] = [];
  if (chosen)
    out.push(
      withCost({ connectorId: chosen.id, reason: `weighted pick (share ${pct(chosen.weight)})` }, ctx),
    );
  for (const e of rest)
    out.push(withCost({ connectorId: e.id, reason: `weighted failover (weight ${e.weight})` }, ctx));
  return out;
}

interface Priced {
  id: string;
  i: number;
  native: Money | null;
  converted: Money | null;
}

function price(usable: string[], currency: string, ctx: StrategyContext): Priced[] {
  return usable.map((id, i) => {
    const native = ctx.buyRate(id, ctx.e164, ctx.mccMnc, ctx.at, ctx.country);
    return { id, i, native, converted: native ? ctx.fx.convert(native, currency) : null };
  });
}

function leastCost(usable: string[], currency: string, ctx: StrategyContext): RouteCandidate[] {
  const priced = price(usable, currency, ctx).filter((p) => p.native !== null);
  priced.sort((a, b) => {
    if (a.converted && b.converted) {
      const d = a.converted.amountMinor - b.converted.amountMinor;
      return d < 0n ? -1 : d > 0n ? 1 : a.i - b.i;
    }
    if (a.converted) return -1;
    if (b.converted) return 1;
    return a.i - b.i;
  });
  return priced.map((p, rank) => {
    const c: RouteCandidate = p.converted
      ? {
          connectorId: p.id,
          reason: `least cost #${rank + 1}: ${p.converted.amountMinor} ${p.converted.currency} micro-units/segment`,
          expectedCost: p.converted,
        }
      : { connectorId: p.id, reason: `no ${p.native?.currency}->${currency} rate, cost not comparable` };
    if (!p.converted && p.native) c.expectedCost = p.native;
    return c;
  });
}

interface Effective {
  ratio: number;
  latency: number;
  cold: boolean;
  samples: number;
}

function effectiveQuality(
  usable: string[],
  minSamples: number,
  prior: QualityPrior,
  ctx: StrategyContext,
): Effective[] {
  const raw = usable.map((id) => ctx.quality(id, ctx.destinationKey));
  const warm = raw.filter((q): q is QualityStats => q !== null && q.samples >= minSamples);
  const neutral: QualityPrior =
    warm.length > 0
      ? {
          deliveryRatio: warm.reduce((s, q) => s + q.deliveryRatio, 0) / warm.length,
          p50LatencyMs: warm.reduce((s, q) => s + q.p50LatencyMs, 0) / warm.length,
        }
      : prior;
  return raw.map((q) =>
    q !== null && q.samples >= minSamples
      ? { ratio: q.deliveryRatio, latency: q.p50LatencyMs, cold: false, samples: q.samples }
      : { ratio: neutral.deliveryRatio, latency: neutral.p50LatencyMs, cold: true, samples: q?.samples ?? 0 },
  );
}

function bestQuality(
  usable: string[],
  minSamples: number,
  prior: QualityPrior,
  ctx: StrategyContext,
): RouteCandidate[] {
  const q = effectiveQuality(usable, minSamples, prior, ctx);
  const order = usable.map((id, i) => ({ id, i, q: q[i] as Effective }));
  order.sort((a, b) => b.q.ratio - a.q.ratio || a.q.latency - b.q.latency || a.i - b.i);
  return order.map((o) =>
    withCost(
      {
        connectorId: o.id,
        reason: `${o.q.cold ? `cold (${o.q.samples} samples), neutral prior` : 'delivery'} ${(o.q.ratio * 100).toFixed(1)}%, p50 ${Math.round(o.q.latency)} ms`,
        score: o.q.ratio,
      },
      ctx,
    ),
  );
}

function scored(
  s: Extract<Strategy, { kind: 'score' }>,
  usable: string[],
  ctx: StrategyContext,
): RouteCandidate[] {
  const wSum = s.weights.quality + s.weights.cost + (s.weights.latency ?? 0);
  const wq = s.weights.quality / wSum;
  const wc = s.weights.cost / wSum;
  const wl = (s.weights.latency ?? 0) / wSum;
  const q = effectiveQuality(usable, s.minSamples ?? DEFAULT_MIN_SAMPLES, s.prior ?? DEFAULT_PRIOR, ctx);
  const priced = price(usable, s.currency, ctx);
  let minCost: bigint | undefined;
  for (const p of priced)
    if (p.converted && (minCost === undefined || p.converted.amountMinor < minCost))
      minCost = p.converted.amountMinor;
  const minLatency = Math.min(...q.map((x) => x.latency));
  const rows = usable.map((id, i) => {
    const eq = q[i] as Effective;
    const p = priced[i] as Priced;
    let costTerm = 0;
    if (p.converted && minCost !== undefined) {
      costTerm =
        p.converted.amountMinor <= 0n
          ? 1
          : Number(minCost <= 0n ? 1n : minCost) / Number(p.converted.amountMinor);
      if (minCost <= 0n && p.converted.amountMinor > 0n) costTerm = 0;
    }
    const latencyTerm = eq.latency <= 0 ? 1 : Math.max(minLatency, 1) / Math.max(eq.latency, 1);
    const score = wq * eq.ratio + wc * costTerm + wl * latencyTerm;
    return { id, i, score, p, eq, costTerm };
  });
  rows.sort((a, b) => b.score - a.score || a.i - b.i);
  return rows.map((r) => {
    const c: RouteCandidate = {
      connectorId: r.id,
      reason: `score ${r.score.toFixed(3)} (quality ${r.eq.ratio.toFixed(3)}${r.eq.cold ? ' prior' : ''}, cost ${r.costTerm.toFixed(3)}, latency ${Math.round(r.eq.latency)} ms)`,
      score: r.score,
    };
    const cost = r.p.converted ?? r.p.native;
    if (cost) c.expectedCost = cost;
    return c;
  });
}
