// Delivery statistics per connector and destination key (E.164 prefix or MCC-MNC): delivery ratio and
// receipt latency percentiles over sliding windows, with an injected clock and bounded memory.
//
// Each window is a ring of time buckets (e.g. 5 min = 10 x 30 s; 1 h = 12 x 5 min). A bucket holds
// one counter per final status and a fixed-bucket latency histogram; a window's figures are the merge
// of the buckets whose time slot lies within the window, so the window edge moves in steps of one
// bucket (the window covers between (n-1) and n bucket widths of history).
//
// Latency histogram: bucket upper bounds grow geometrically by 25 % from 100 ms to 3 days (plus an
// overflow bucket), so a reported percentile (the upper bound of the bucket holding that rank) is at
// most 25 % above the true value and never below it.
//
// Memory: buckets are allocated on first use. Per key at most sum(window bucket counts) buckets of
// ~9 + 68 32-bit counters (~22 buckets ~ 7 KB); keys idle for longer than the longest window are
// dropped at snapshot time and at most `maxKeys` keys are kept (least recently updated evicted).

import { isFinal } from './status.js';
import type { DlrOutput } from './timeline.js';
import type { DlrStatus } from './types.js';

export interface WindowSpec {
  name: string;
  bucketMs: number;
  buckets: number;
}

export interface StatsConfig {
  windows: WindowSpec[];
  maxKeys: number;
}

export const DEFAULT_STATS_CONFIG: StatsConfig = Object.freeze({
  windows: [
    { name: '5m', bucketMs: 30_000, buckets: 10 },
    { name: '1h', bucketMs: 300_000, buckets: 12 },
  ],
  maxKeys: 10_000,
});

function latencyBounds(): number[] {
  const out: number[] = [];
  for (let b = 100; b < 3 * 86_400_000; b *= 1.25) out.push(Math.round(b));
  out.push(3 * 86_400_000);
  return out;
}

/** Upper bounds (ms, inclusive) of the latency histogram buckets; one more overflow bucket follows. */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze(latencyBounds());

export function latencyBucket(ms: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length; // overflow index
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= (LATENCY_BOUNDS_MS[mid] ?? Infinity)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const FINAL_STATUSES: readonly DlrStatus[] = [
  'DELIVERED',
  'EXPIRED',
  'DELETED',
  'UNDELIVERABLE',
  'REJECTED',
  'UNKNOWN',
];
const STATUS_INDEX = new Map(FINAL_STATUSES.map((s, i) => [s, i]));

interface Bucket {
  slot: number;
  finals: Uint32Array;
  latency: Uint32Array;
}

interface KeyStats {
  connectorId: string;
  destKey: string;
  lastUpdate: number;
  rings: (Bucket | undefined)[][];
}

export interface StatsSample {
  connectorId: string;
  destKey: string;
  status: DlrStatus;
  /** Receipt latency (receipt time minus supplier acceptance), when the outcome came from a receipt. */
  latencyMs?: number;
  /** When the outcome was observed. */
  at: number;
}

export interface WindowFigures {
  window: string;
  /** Final outcomes counted in the window. */
  finals: number;
  delivered: number;
  /** delivered / finals, or null when there were none. A display figure, not money: a float is fine. */
  deliveryRatio: number | null;
  byStatus: Partial<Record<DlrStatus, number>>;
  latency: { count: number; p50: number | null; p90: number | null; p99: number | null };
}

export interface RouteStats {
  connectorId: string;
  destKey: string;
  windows: WindowFigures[];
}

export class DeliveryStats {
  private readonly keys = new Map<string, KeyStats>();
  private readonly config: StatsConfig;
  private readonly horizon: number;
  /** Samples too old for any bucket still held (counted for a metric). */
  dropped = 0;

  constructor(config: Partial<StatsConfig> = {}) {
    this.config = { ...DEFAULT_STATS_CONFIG, ...config };
    this.horizon = Math.max(...this.config.windows.map((w) => w.bucketMs * w.buckets));
  }

  get keyCount(): number {
    return this.keys.size;
  }

  /** Count one final outcome. Intermediate statuses are ignored. */
  record(sample: StatsSample): void {
    const statusIndex = STATUS_INDEX.get(sample.status);
    if (statusIndex === undefined || !isFinal(sample.status)) return;
    const id = `${sample.connectorId}\u0000${sample.destKey}`;
    let k = this.keys.get(id);
    if (k === undefined) {
      k = {
        connectorId: sample.connectorId,
        destKey: sample.destKey,
        lastUpdate: sample.at,
        rings: this.config.windows.map((w) => new Array<Bucket | undefined>(w.buckets)),
      };
    } else {
      this.keys.delete(id); // re-insert below: Map order = least recently updated first
    }
    this.keys.set(id, k);
    k.lastUpdate = Math.max(k.lastUpdate, sample.at);
    let counted = false;
    this.config.windows.forEach((w, wi) => {
      const ring = k.rings[wi];
      if (ring === undefined) return;
      const slot = Math.floor(sample.at / w.bucketMs);
      const pos = slot % w.buckets;
      let b = ring[pos];
      if (b === undefined || b.slot < slot) {
        b = {
          slot,
          finals: new Uint32Array(FINAL_STATUSES.length),
          latency: new Uint32Array(LATENCY_BOUNDS_MS.length + 1),
        };
        ring[pos] = b;
      } else if (b.slot > slot) {
        return; // older than what this ring still holds
      }
      counted = true;
      b.finals[statusIndex] = (b.finals[statusIndex] ?? 0) + 1;
      if (sample.latencyMs !== undefined && sample.latencyMs >= 0) {
        const li = latencyBucket(sample.latencyMs);
        b.latency[li] = (b.latency[li] ?? 0) + 1;
      }
    });
    if (!counted) this.dropped++;
    while (this.keys.size > this.config.maxKeys) {
      const oldest = this.keys.keys().next().value;
      if (oldest === undefined) break;
      this.keys.delete(oldest);
    }
  }

  /** Figures of every route at `now`, for publishing. Drops routes idle for longer than every window. */
  snapshot(now: number): RouteStats[] {
    const out: RouteStats[] = [];
    for (const [id, k] of this.keys) {
      if (now - k.lastUpdate >= this.horizon) {
        this.keys.delete(id);
        continue;
      }
      out.push({
        connectorId: k.connectorId,
        destKey: k.destKey,
        windows: this.config.windows.map((w, wi) => figures(w, k.rings[wi] ?? [], now)),
      });
    }
    return out;
  }
}

function percentile(hist: Uint32Array, count: number, p: number): number | null {
  if (count === 0) return null;
  const rank = Math.max(1, Math.ceil(p * count));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)] ?? null;
  }
  return null;
}

function figures(w: WindowSpec, ring: readonly (Bucket | undefined)[], now: number): WindowFigures {
  const nowSlot = Math.floor(now / w.bucketMs);
  const finals = new Uint32Array(FINAL_STATUSES.length);
  const hist = new Uint32Array(LATENCY_BOUNDS_MS.length + 1);
  for (const b of ring) {
    if (b === undefined || b.slot > nowSlot || b.slot <= nowSlot - w.buckets) continue;
    b.finals.forEach((v, i) => (finals[i] = (finals[i] ?? 0) + v));
    b.latency.forEach((v, i) => (hist[i] = (hist[i] ?? 0) + v));
  }
  const byStatus: Partial<Record<DlrStatus, number>> = {};
  let total = 0;
  FINAL_STATUSES.forEach((s, i) => {
    const v = finals[i] ?? 0;
    total += v;
    if (v > 0) byStatus[s] = v;
  });
  const delivered = byStatus.DELIVERED ?? 0;
  const count = hist.reduce((a, b) => a + b, 0);
  return {
    window: w.name,
    finals: total,
    delivered,
    deliveryRatio: total === 0 ? null : delivered / total,
    byStatus,
    latency: {
      count,
      p50: percentile(hist, count, 0.5),
      p90: percentile(hist, count, 0.9),
      p99: percentile(hist, count, 0.99),
    },
  };
}

/**
 * The statistics sample of a correlator/reducer output: every `part-final` that knows its connector and
 * destination key. Parts that failed in egress count towards the ratio but carry no receipt latency.
 */
export function sampleFromOutput(output: { readonly type: string }): StatsSample | undefined {
  if (output.type !== 'part-final') return undefined;
  const o = output as Extract<DlrOutput, { type: 'part-final' }>;
  if (o.connectorId === undefined || o.destKey === undefined) return undefined;
  const sample: StatsSample = {
    connectorId: o.connectorId,
    destKey: o.destKey,
    status: o.status,
    at: o.time,
  };
  if (o.latencyMs !== undefined) sample.latencyMs = o.latencyMs;
  return sample;
}
