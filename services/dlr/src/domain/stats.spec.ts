import { describe, expect, it } from 'vitest';
import { Correlator } from './correlator.js';
import {
  DeliveryStats,
  LATENCY_BOUNDS_MS,
  latencyBucket,
  sampleFromOutput,
  type RouteStats,
  type WindowFigures,
} from './stats.js';
import type { DlrStatus } from './types.js';

const T0 = Date.UTC(2026, 0, 1); // a multiple of every bucket width

function win(routes: RouteStats[], connectorId: string, destKey: string, name: string): WindowFigures {
  const w = routes
    .find((r) => r.connectorId === connectorId && r.destKey === destKey)
    ?.windows.find((x) => x.window === name);
  if (w === undefined) throw new Error(`no ${name} window for ${connectorId}/${destKey}`);
  return w;
}

function truePercentile(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] ?? NaN;
}

describe('latency histogram', () => {
  it('has increasing bounds growing by at most 25 %', () => {
    for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++) {
      const prev = LATENCY_BOUNDS_MS[i - 1] ?? 0;
      const cur = LATENCY_BOUNDS_MS[i] ?? 0;
      expect(cur).toBeGreaterThan(prev);
      expect(cur / prev).toBeLessThanOrEqual(1.26);
    }
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(100)).toBe(0);
    expect(latencyBucket(101)).toBe(1);
    expect(latencyBucket(10 * 86_400_000)).toBe(LATENCY_BOUNDS_MS.length);
  });
});

describe('DeliveryStats', () => {
  it('shows the delivery ratio of a poor route and latency percentiles within bucket precision', () => {
    const stats = new DeliveryStats();
    const latencies: number[] = [];
    const n = 1_000;
    for (let i = 0; i < n; i++) {
      // 60 % DELIVRD, 25 % UNDELIV, 15 % EXPIRED, spread over 4 minutes
      const r = i % 20;
      const status: DlrStatus = r < 12 ? 'DELIVERED' : r < 17 ? 'UNDELIVERABLE' : 'EXPIRED';
      const latencyMs = 500 + ((i * 7919) % 20_000); // 0.5 s .. 20.5 s, deterministic spread
      latencies.push(latencyMs);
      stats.record({
        connectorId: 'poor',
        destKey: '26201',
        status,
        latencyMs,
        at: T0 + Math.floor((i * 240_000) / n),
      });
      stats.record({
        connectorId: 'good',
        destKey: '26201',
        status: 'DELIVERED',
        latencyMs: 1_000,
        at: T0 + i,
      });
    }
    const snap = stats.snapshot(T0 + 240_000);
    const w5 = win(snap, 'poor', '26201', '5m');
    expect(w5.finals).toBe(n);
    expect(w5.delivered).toBe(600);
    expect(w5.deliveryRatio).toBeCloseTo(0.6, 10);
    expect(w5.byStatus).toEqual({ DELIVERED: 600, UNDELIVERABLE: 250, EXPIRED: 150 });
    expect(win(snap, 'poor', '26201', '1h').deliveryRatio).toBeCloseTo(0.6, 10);
    expect(win(snap, 'good', '26201', '5m').deliveryRatio).toBe(1);

    latencies.sort((a, b) => a - b);
    for (const [p, got] of [
      [0.5, w5.latency.p50],
      [0.9, w5.latency.p90],
      [0.99, w5.latency.p99],
    ] as const) {
      const exact = truePercentile(latencies, p);
      expect(got).not.toBeNull();
      expect(got ?? 0).toBeGreaterThanOrEqual(exact);
      expect(got ?? 0).toBeLessThanOrEqual(exact * 1.25 + 1);
    }
    expect(w5.latency.count).toBe(n);
  });

  it('slides: old outcomes leave the 5-minute window but stay in the 1-hour window', () => {
    const stats = new DeliveryStats();
    for (let i = 0; i < 10; i++)
      stats.record({ connectorId: 'c', destKey: '44', status: 'UNDELIVERABLE', at: T0 });
    for (let i = 0; i < 10; i++)
      stats.record({ connectorId: 'c', destKey: '44', status: 'DELIVERED', at: T0 + 10 * 60_000 });
    const snap = stats.snapshot(T0 + 10 * 60_000);
    expect(win(snap, 'c', '44', '5m')).toMatchObject({ finals: 10, deliveryRatio: 1 });
    expect(win(snap, 'c', '44', '1h')).toMatchObject({ finals: 20, deliveryRatio: 0.5 });
    expect(win(snap, 'c', '44', '1h').latency).toEqual({ count: 0, p50: null, p90: null, p99: null });
  });

  it('reuses buckets in place (bounded memory) and drops samples older than the ring holds', () => {
    const stats = new DeliveryStats({ windows: [{ name: '1m', bucketMs: 10_000, buckets: 6 }] });
    stats.record({ connectorId: 'c', destKey: 'k', status: 'DELIVERED', at: T0 + 120_000 });
    stats.record({ connectorId: 'c', destKey: 'k', status: 'DELIVERED', at: T0 }); // same ring slot, older
    expect(stats.dropped).toBe(1);
    expect(win(stats.snapshot(T0 + 120_000), 'c', 'k', '1m').finals).toBe(1);
  });

  it('ignores intermediate statuses', () => {
    const stats = new DeliveryStats();
    stats.record({ connectorId: 'c', destKey: 'k', status: 'ACCEPTED', at: T0 });
    expect(stats.snapshot(T0)).toEqual([]);
  });

  it('forgets idle routes and caps the number of routes', () => {
    const stats = new DeliveryStats({ maxKeys: 2 });
    stats.record({ connectorId: 'a', destKey: '1', status: 'DELIVERED', at: T0 });
    stats.record({ connectorId: 'b', destKey: '1', status: 'DELIVERED', at: T0 + 1 });
    stats.record({ connectorId: 'a', destKey: '1', status: 'DELIVERED', at: T0 + 2 });
    stats.record({ connectorId: 'c', destKey: '1', status: 'DELIVERED', at: T0 + 3 });
    expect(
      stats
        .snapshot(T0 + 3)
        .map((r) => r.connectorId)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(stats.snapshot(T0 + 3_600_000 + 3)).toEqual([]);
    expect(stats.keyCount).toBe(0);
  });
});

describe('statistics fed by the correlator', () => {
  it('counts receipt outcomes and egress failures of a route with their latency', () => {
    const c = new Correlator({ idSetting: () => ({ format: 'decimal' }) });
    const stats = new DeliveryStats();
    const feed = (outs: ReturnType<Correlator['onReceipt']>) => {
      for (const o of outs) {
        if (o.type === 'unmatched' || o.type === 'parked' || o.type === 'evicted') continue;
        const s = sampleFromOutput(o);
        if (s) stats.record(s);
      }
    };
    for (let i = 0; i < 10; i++) {
      const id = `m${i}`;
      feed(c.onEvent({ type: 'submitted', hubMessageId: id, partsTotal: 1, destKey: '26203', time: T0 }));
      const failed = i === 9;
      feed(
        c.onDispatch({
          hubMessageId: id,
          partIndex: 0,
          partsTotal: 1,
          connectorId: 'sup',
          attempt: 1,
          ...(failed ? { smppStatus: 0x0b } : { supplierMessageId: String(1000 + i), smppStatus: 0 }),
          accepted: !failed,
          finalFailure: failed,
          time: T0,
        }),
      );
      if (!failed) {
        const stat = i < 6 ? 'DELIVRD' : 'UNDELIV';
        feed(
          c.onReceipt({
            connectorId: 'sup',
            text: `id:${1000 + i} stat:${stat} err:000`,
            receivedAt: T0 + 3_000,
          }),
        );
      }
    }
    const w = win(stats.snapshot(T0 + 3_000), 'sup', '26203', '5m');
    expect(w).toMatchObject({
      finals: 10,
      delivered: 6,
      deliveryRatio: 0.6,
      byStatus: { DELIVERED: 6, UNDELIVERABLE: 4 },
    });
    expect(w.latency.count).toBe(9);
    expect(w.latency.p50).toBe(LATENCY_BOUNDS_MS[latencyBucket(3_000)]);
  });
});
