import { describe, expect, it } from 'vitest';
import { FxTable } from './money.js';
import {
  healthFromUnhealthySet,
  runStrategy,
  type BuyRateLookup,
  type ConnectorInfo,
  type QualityLookup,
  type QualityStats,
  type StrategyContext,
} from './strategies.js';
import type { Money } from './types.js';

const connectors = (ids: string[], disabled: string[] = []) =>
  new Map<string, ConnectorInfo>(ids.map((id) => [id, { id, enabled: !disabled.includes(id) }]));

function ctx(over: Partial<StrategyContext> = {}): StrategyContext {
  return {
    hubMessageId: 'm-1',
    e164: '+447400123456',
    mccMnc: '234-15',
    destinationKey: '234-15',
    at: new Date('2026-07-06T10:00:00Z'),
    connectors: connectors(['a', 'b', 'c', 'd']),
    health: { isHealthy: () => true },
    buyRate: () => null,
    fx: new FxTable([]),
    quality: () => null,
    ...over,
  };
}

const ids = (list: Array<{ connectorId: string }>) => list.map((c) => c.connectorId);

describe('priority strategy', () => {
  it('keeps the listed order as failover', () => {
    const out = runStrategy({ kind: 'priority', connectors: ['b', 'a', 'c'] }, ctx());
    expect(ids(out)).toEqual(['b', 'a', 'c']);
    expect(out[0]?.reason).toBe('priority 1');
  });

  it('removes disabled and unknown connectors and moves unhealthy ones last', () => {
    const out = runStrategy(
      { kind: 'priority', connectors: ['a', 'x', 'b', 'c', 'd'] },
      ctx({
        connectors: connectors(['a', 'b', 'c', 'd'], ['c']),
        health: healthFromUnhealthySet(new Set(['a'])),
      }),
    );
    expect(ids(out)).toEqual(['b', 'd', 'a']);
    expect(out[2]?.reason).toMatch(/unhealthy/);
  });

  it('attaches the expected cost when a buy rate exists', () => {
    const buyRate: BuyRateLookup = (id) => (id === 'a' ? { amountMinor: 3450n, currency: 'EUR' } : null);
    const out = runStrategy({ kind: 'priority', connectors: ['a', 'b'] }, ctx({ buyRate }));
    expect(out[0]?.expectedCost).toEqual({ amountMinor: 3450n, currency: 'EUR' });
    expect(out[1]?.expectedCost).toBeUndefined();
  });
});

describe('weighted strategy', () => {
  const split = {
    kind: 'weighted' as const,
    split: [
      { connectorId: 'a', weight: 70 },
      { connectorId: 'b', weight: 20 },
      { connectorId: 'c', weight: 10 },
    ],
  };

  it('gives the same choice for the same hub message id', () => {
    const first = ids(runStrategy(split, ctx({ hubMessageId: 'msg-42' })));
    for (let i = 0; i < 5; i++)
      expect(ids(runStrategy(split, ctx({ hubMessageId: 'msg-42' })))).toEqual(first);
    expect(first).toHaveLength(3);
  });

  it('splits 100,000 messages in proportion to the weights (within 1 percentage point)', () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const base = ctx();
    for (let i = 0; i < 100_000; i++) {
      const first = runStrategy(split, { ...base, hubMessageId: `01J${i.toString(36).padStart(8, '0')}` })[0];
      counts[first!.connectorId]!++;
    }
    expect(Math.abs(counts.a! / 100_000 - 0.7)).toBeLessThan(0.01);
    expect(Math.abs(counts.b! / 100_000 - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(counts.c! / 100_000 - 0.1)).toBeLessThan(0.01);
  });

  it('shifts traffic to healthy connectors and keeps the others by weight as failover', () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const base = ctx({ health: { isHealthy: (id) => id !== 'a' } });
    for (let i = 0; i < 10_000; i++) {
      const out = runStrategy(split, { ...base, hubMessageId: `id-${i}` });
      counts[out[0]!.connectorId]!++;
      expect(out[2]?.connectorId).toBe('a');
    }
    expect(counts.a).toBe(0);
    expect(Math.abs(counts.b! / 10_000 - 2 / 3)).toBeLessThan(0.02);
  });
});

describe('least cost strategy', () => {
  const rates: Record<string, Money> = {
    a: { amountMinor: 4000n, currency: 'EUR' },
    b: { amountMinor: 4000n, currency: 'USD' },
    c: { amountMinor: 3900n, currency: 'GBP' },
  };
  const buyRate: BuyRateLookup = (id) => rates[id] ?? null;

  it('orders by converted cost, drops connectors without a rate, puts unconvertible ones last', () => {
    const fx = new FxTable([{ from: 'USD', to: 'EUR', rate: '0.9' }]);
    const out = runStrategy(
      { kind: 'least_cost', connectors: ['a', 'b', 'c', 'd'], currency: 'EUR' },
      ctx({ buyRate, fx }),
    );
    expect(ids(out)).toEqual(['b', 'a', 'c']);
    expect(out[0]?.expectedCost).toEqual({ amountMinor: 3600n, currency: 'EUR' });
    expect(out[2]?.reason).toMatch(/GBP->EUR/);
  });

  it('breaks ties by list order', () => {
    const out = runStrategy(
      { kind: 'least_cost', connectors: ['b', 'a'], currency: 'EUR' },
      ctx({ buyRate: () => ({ amountMinor: 10n, currency: 'EUR' }) }),
    );
    expect(ids(out)).toEqual(['b', 'a']);
  });
});

describe('best quality strategy', () => {
  const stats: Record<string, QualityStats> = {
    a: { deliveryRatio: 0.95, p50LatencyMs: 3000, samples: 5000 },
    b: { deliveryRatio: 0.98, p50LatencyMs: 4000, samples: 5000 },
    c: { deliveryRatio: 1.0, p50LatencyMs: 500, samples: 12 },
    d: { deliveryRatio: 0.95, p50LatencyMs: 2000, samples: 800 },
  };
  const quality: QualityLookup = (id, key) => (key === '234-15' ? (stats[id] ?? null) : null);

  it('ranks by delivery ratio then latency; a cold connector gets the mean of the warm ones', () => {
    const out = runStrategy(
      { kind: 'best_quality', connectors: ['a', 'b', 'c', 'd'], minSamples: 100 },
      ctx({ quality }),
    );
    // warm mean ratio = (0.95 + 0.98 + 0.95) / 3 = 0.96 -> c sits between b and a/d
    expect(ids(out)).toEqual(['b', 'c', 'd', 'a']);
    expect(out[1]?.reason).toMatch(/cold \(12 samples\)/);
    expect(out[1]?.score).toBeCloseTo(0.96, 6);
  });

  it('uses the configured prior when nobody is warm', () => {
    const out = runStrategy(
      { kind: 'best_quality', connectors: ['a', 'b'], prior: { deliveryRatio: 0.5, p50LatencyMs: 1000 } },
      ctx({ destinationKey: 'NG', quality }),
    );
    expect(ids(out)).toEqual(['a', 'b']);
    expect(out[0]?.score).toBe(0.5);
  });
});

describe('score strategy', () => {
  it('trades quality against cost by the documented formula', () => {
    const buyRate: BuyRateLookup = (id) => ({ amountMinor: id === 'a' ? 5000n : 10000n, currency: 'EUR' });
    const quality: QualityLookup = (id) =>
      id === 'a'
        ? { deliveryRatio: 0.8, p50LatencyMs: 2000, samples: 1000 }
        : { deliveryRatio: 0.99, p50LatencyMs: 1000, samples: 1000 };
    const costHeavy = runStrategy(
      { kind: 'score', connectors: ['a', 'b'], currency: 'EUR', weights: { quality: 1, cost: 3 } },
      ctx({ buyRate, quality }),
    );
    // a: 0.25*0.8 + 0.75*1 = 0.95; b: 0.25*0.99 + 0.75*0.5 = 0.6225
    expect(ids(costHeavy)).toEqual(['a', 'b']);
    expect(costHeavy[0]?.score).toBeCloseTo(0.95, 9);
    expect(costHeavy[1]?.score).toBeCloseTo(0.6225, 9);

    const qualityAndSpeed = runStrategy(
      {
        kind: 'score',
        connectors: ['a', 'b'],
        currency: 'EUR',
        weights: { quality: 2, cost: 1, latency: 1 },
      },
      ctx({ buyRate, quality }),
    );
    // a: 0.5*0.8 + 0.25*1 + 0.25*0.5 = 0.775; b: 0.5*0.99 + 0.25*0.5 + 0.25*1 = 0.87
    expect(ids(qualityAndSpeed)).toEqual(['b', 'a']);
    expect(qualityAndSpeed[0]?.score).toBeCloseTo(0.87, 9);
  });
});
