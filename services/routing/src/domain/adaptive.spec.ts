import { describe, expect, it } from 'vitest';
import {
  AdaptiveBook,
  decayAdd,
  decayedValues,
  histogramQuantile,
  LATENCY_BOUNDS_MS,
  newCounters,
  sampleBeta,
  seededRandom,
  type AdaptiveStrategy,
} from './adaptive.js';
import { FxTable } from './money.js';
import { runStrategy, type ConnectorInfo, type StrategyContext } from './strategies.js';
import type { Money, TrafficType } from './types.js';

const H = 60_000;
const T0 = Date.parse('2026-07-06T10:00:00Z');

describe('decayed counters', () => {
  it('halve every half-life', () => {
    const c = newCounters(1);
    decayAdd(c, 0, T0, H);
    expect(decayedValues(c, T0, H)[0]).toBeCloseTo(1, 12);
    expect(decayedValues(c, T0 + H, H)[0]).toBeCloseTo(0.5, 12);
    expect(decayedValues(c, T0 + 3 * H, H)[0]).toBeCloseTo(0.125, 12);
  });

  it('do not depend on the order observations arrive in', () => {
    const times = [T0, T0 + 5_000, T0 - 30_000, T0 + 120_000, T0 + 1, T0 + 90_000];
    const a = newCounters(2);
    const b = newCounters(2);
    times.forEach((t, i) => decayAdd(a, i % 2, t, H));
    [...times.entries()].reverse().forEach(([i, t]) => decayAdd(b, i % 2, t, H));
    const now = T0 + 200_000;
    const va = decayedValues(a, now, H);
    const vb = decayedValues(b, now, H);
    expect(va[0]).toBeCloseTo(vb[0] as number, 10);
    expect(va[1]).toBeCloseTo(vb[1] as number, 10);
    const expected = times.filter((_, i) => i % 2 === 0).reduce((s, t) => s + Math.pow(2, -(now - t) / H), 0);
    expect(va[0]).toBeCloseTo(expected, 10);
  });
});

describe('latency histogram', () => {
  it('gives the upper bound of the bucket holding the 95th percentile', () => {
    const b = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    b[2] = 90; // <= 1 s
    b[7] = 9; // <= 10 s
    b[10] = 1; // <= 30 s
    expect(histogramQuantile(b, 0.95)).toBe(10_000);
    expect(histogramQuantile(b, 0.5)).toBe(1000);
    expect(histogramQuantile(b, 0.999)).toBe(30_000);
    expect(
      histogramQuantile(
        b.map(() => 0),
        0.95,
      ),
    ).toBeNull();
  });
});

describe('AdaptiveBook', () => {
  it('learns delivery and p95 per connector, destination and traffic type, and forgets with decay', () => {
    const book = new AdaptiveBook(H);
    for (let i = 0; i < 80; i++)
      book.record({
        connectorId: 'a',
        destinationKey: '234-15',
        trafficType: 'OTP',
        delivered: i % 4 !== 0,
        latencyMs: i % 20 === 1 ? 12_000 : 800,
        at: T0,
      });
    const e = book.lookup('a', '234-15', 'OTP', T0);
    expect(e?.successes).toBeCloseTo(60, 9);
    expect(e?.failures).toBeCloseTo(20, 9);
    expect(e?.p95LatencyMs).toBe(15_000); // 4 of 60 delivered above 10 s: the 95th is in (10 s, 15 s]
    expect(book.lookup('a', '234-15', 'MARKETING', T0)).toBeNull();
    expect(book.lookup('a', '234-15', 'OTP', T0 + 2 * H)?.successes).toBeCloseTo(15, 9);
    expect(book.prune(T0 + 40 * H)).toBe(1);
    expect(book.size).toBe(0);
  });
});

describe('Beta sampling', () => {
  it('has the posterior mean and is deterministic per seed', () => {
    const rand = seededRandom(42);
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) sum += sampleBeta(9, 3, rand);
    expect(sum / n).toBeGreaterThan(0.74);
    expect(sum / n).toBeLessThan(0.76);
    expect(sampleBeta(2, 5, seededRandom(7))).toBe(sampleBeta(2, 5, seededRandom(7)));
    const r2 = seededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const x = sampleBeta(0.5, 0.5, r2);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
  });
});

// Strategy: three connectors; a is the cheapest, b middle, c dearest.
const PRICES: Record<string, number> = { a: 1000, b: 1500, c: 3000 };
const eur = (n: number): Money => ({ amountMinor: BigInt(n), currency: 'EUR' });

interface Truth {
  ratio: number;
  latencyMs: number;
}

function bookOf(truth: Record<string, Truth>, n = 200, type: TrafficType = 'OTP'): AdaptiveBook {
  const book = new AdaptiveBook(H);
  for (const [id, t] of Object.entries(truth))
    for (let i = 0; i < n; i++)
      book.record({
        connectorId: id,
        destinationKey: '234-15',
        trafficType: type,
        delivered: i < Math.round(t.ratio * n),
        latencyMs: t.latencyMs,
        at: T0 - 1000,
      });
  return book;
}

function ctx(book: AdaptiveBook | null, over: Partial<StrategyContext> = {}): StrategyContext {
  return {
    hubMessageId: 'm-1',
    e164: '+447400123456',
    mccMnc: '234-15',
    destinationKey: '234-15',
    at: new Date(T0),
    connectors: new Map<string, ConnectorInfo>(['a', 'b', 'c'].map((id) => [id, { id, enabled: true }])),
    health: { isHealthy: () => true },
    buyRate: (id) => (PRICES[id] === undefined ? null : eur(PRICES[id] as number)),
    fx: new FxTable([]),
    quality: () => null,
    trafficType: 'OTP',
    ...(book ? { adaptive: book.lookup } : {}),
    ...over,
  };
}

const adaptive = (over: Partial<AdaptiveStrategy> = {}): AdaptiveStrategy => ({
  kind: 'adaptive',
  connectors: ['a', 'b', 'c'],
  currency: 'EUR',
  exploration: 0,
  ...over,
});

const first = (s: AdaptiveStrategy, c: StrategyContext) => runStrategy(s, c)[0];

describe('adaptive strategy', () => {
  it('OTP: the cheapest connector that meets 95 % and p95 <= 10 s, per delivered EUR', () => {
    const book = bookOf({
      a: { ratio: 0.6, latencyMs: 2000 }, // cheapest but degraded
      b: { ratio: 0.97, latencyMs: 2000 },
      c: { ratio: 0.99, latencyMs: 2000 },
    });
    const out = runStrategy(adaptive(), ctx(book));
    expect(out.map((c) => c.connectorId)).toEqual(['b', 'c', 'a']);
    expect(out[0]?.reason).toMatch(/^adaptive exploitation: most delivered per EUR meeting the level 95%/);
    expect(out[0]?.reason).toMatch(/P\(deliver\) 9\d\.\d%/);
    expect(out[2]?.reason).toMatch(/below level/);
  });

  it('OTP: a slow connector does not meet the latency bound, marketing does not care', () => {
    const truth = {
      a: { ratio: 0.98, latencyMs: 25_000 },
      b: { ratio: 0.97, latencyMs: 2000 },
      c: { ratio: 0.99, latencyMs: 2000 },
    };
    expect(first(adaptive(), ctx(bookOf(truth)))?.connectorId).toBe('b');
    const mkt = bookOf(truth, 200, 'MARKETING');
    expect(first(adaptive(), ctx(mkt, { trafficType: 'MARKETING' }))?.connectorId).toBe('a');
  });

  it('marketing: the cheapest meeting 85 %, even when a dearer one delivers more', () => {
    const book = bookOf(
      {
        a: { ratio: 0.88, latencyMs: 60_000 },
        b: { ratio: 0.99, latencyMs: 1000 },
        c: { ratio: 1, latencyMs: 500 },
      },
      200,
      'MARKETING',
    );
    expect(first(adaptive(), ctx(book, { trafficType: 'MARKETING' }))?.connectorId).toBe('a');
    // ...and a rule's own level overrides the default.
    const strict = adaptive({ sla: { MARKETING: { minRatio: 0.95 } } });
    expect(first(strict, ctx(book, { trafficType: 'MARKETING' }))?.connectorId).toBe('b');
  });

  it('without trusted estimates: the prior, cheapest first; below minSamples an estimate is not trusted', () => {
    expect(first(adaptive(), ctx(null))?.connectorId).toBe('a');
    const few = bookOf({ a: { ratio: 0, latencyMs: 1000 }, b: { ratio: 1, latencyMs: 1000 } }, 5);
    const out = runStrategy(adaptive(), ctx(few));
    // b: 5 perfect samples < minSamples 30 (untrusted), a likewise: the prior mean pulls both, value decides.
    expect(out[0]?.reason).toMatch(/untrusted: prior/);
    const trusted = runStrategy(adaptive({ minSamples: 5 }), ctx(few));
    expect(trusted[0]?.connectorId).toBe('b');
  });

  it('when nothing meets the level: the best delivery ratio', () => {
    const book = bookOf({
      a: { ratio: 0.5, latencyMs: 1000 },
      b: { ratio: 0.8, latencyMs: 1000 },
      c: { ratio: 0.7, latencyMs: 1000 },
    });
    const out = runStrategy(adaptive(), ctx(book));
    expect(out[0]?.connectorId).toBe('b');
    expect(out[0]?.reason).toMatch(/none meets the level 95%.*best delivery ratio/);
  });

  it('exploration is bounded by the rule share and explained', () => {
    const book = bookOf({
      a: { ratio: 0.6, latencyMs: 2000 },
      b: { ratio: 0.97, latencyMs: 2000 },
      c: { ratio: 0.99, latencyMs: 2000 },
    });
    let explored = 0;
    let away = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const c = first(adaptive({ exploration: 0.05 }), ctx(book, { hubMessageId: `msg-${i}` }));
      if (c?.reason.startsWith('adaptive exploration')) explored++;
      if (c?.connectorId !== 'b') away++;
    }
    expect(explored / n).toBeGreaterThan(0.04);
    expect(explored / n).toBeLessThanOrEqual(0.055);
    expect(away).toBeLessThanOrEqual(explored);
    // the same message id makes the same choice (a redelivery is routed the same way)
    const s = adaptive({ exploration: 0.2 });
    for (let i = 0; i < 50; i++)
      expect(first(s, ctx(book, { hubMessageId: `r-${i}` }))).toEqual(
        first(s, ctx(book, { hubMessageId: `r-${i}` })),
      );
  });

  it('exploration finds a recovered connector: its Thompson draws beat the level', () => {
    // a: cheapest, few recent samples, all delivered (it recovered); b trusted and meeting the level.
    const book = bookOf({ b: { ratio: 0.97, latencyMs: 2000 } });
    for (let i = 0; i < 10; i++)
      book.record({
        connectorId: 'a',
        destinationKey: '234-15',
        trafficType: 'OTP',
        delivered: true,
        latencyMs: 1000,
        at: T0,
      });
    let toA = 0;
    for (let i = 0; i < 2000; i++)
      if (first(adaptive({ exploration: 0.2 }), ctx(book, { hubMessageId: `x-${i}` }))?.connectorId === 'a')
        toA++;
    expect(toA).toBeGreaterThan(0);
    expect(toA).toBeLessThanOrEqual(0.22 * 2000);
  });

  it('guardrails: a pin overrides learning; disabled or unpriced connectors are never chosen; unhealthy last', () => {
    const book = bookOf({
      a: { ratio: 0.99, latencyMs: 1000 },
      b: { ratio: 0.99, latencyMs: 1000 },
      c: { ratio: 0.99, latencyMs: 1000 },
    });
    const pinned = first(adaptive({ pin: 'c' }), ctx(book));
    expect(pinned?.connectorId).toBe('c');
    expect(pinned?.reason).toMatch(/pinned on the rule/);
    const disabled = new Map<string, ConnectorInfo>([
      ['a', { id: 'a', enabled: false }],
      ['b', { id: 'b', enabled: true }],
      ['c', { id: 'c', enabled: true }],
    ]);
    for (let i = 0; i < 500; i++) {
      const out = runStrategy(
        adaptive({ exploration: 0.2 }),
        ctx(book, { connectors: disabled, hubMessageId: `d-${i}` }),
      );
      expect(out.map((c) => c.connectorId)).not.toContain('a');
    }
    // a pin on a disabled connector is ignored (learning decides among the eligible)
    expect(first(adaptive({ pin: 'a' }), ctx(book, { connectors: disabled }))?.connectorId).toBe('b');
    const noPrice = runStrategy(
      adaptive(),
      ctx(book, { buyRate: (id) => (id === 'a' ? null : eur(PRICES[id] as number)) }),
    );
    expect(noPrice.map((c) => c.connectorId)).toEqual(['b', 'c']);
    const sick = runStrategy(adaptive(), ctx(book, { health: { isHealthy: (id) => id !== 'a' } }));
    expect(sick.map((c) => c.connectorId)).toEqual(['b', 'c', 'a']);
  });
});
