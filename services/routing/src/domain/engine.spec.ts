import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RoutingEngine, buildRoutingTables, type RoutingTablesInput } from './engine.js';
import { InMemorySharedWindows } from './shared-windows.js';
import {
  CachedNumberLookup,
  InMemoryPortedLookup,
  type NumberInfo,
  type NumberLookup,
} from './number-lookup.js';
import { parsePrefixCsv } from './prefix-table.js';
import type { RoutingRule } from './rules.js';
import { Ton, type RoutingRequest } from './types.js';

const prefixes = parsePrefixCsv(
  readFileSync(new URL('../../data/sample-prefixes.csv', import.meta.url), 'utf8'),
);
const NOW = Date.parse('2026-07-06T10:00:00Z');

let n = 0;
const req = (over: Partial<RoutingRequest> = {}): RoutingRequest => ({
  hubMessageId: `hub-${++n}`,
  accountId: 'acc-1',
  accountGroup: 'retail',
  sourceAddr: 'ACME',
  sourceTon: Ton.ALPHANUMERIC,
  sourceNpi: 0,
  destinationAddr: '447400123456',
  destTon: Ton.INTERNATIONAL,
  destNpi: 1,
  serviceType: '',
  trafficType: 'OTP',
  text: 'Your code is 123456',
  segments: 1,
  receivedAt: new Date(NOW),
  ...over,
});

const rules: RoutingRule[] = [
  {
    id: 'uk-vodafone',
    match: { mccMncs: ['234-15'] },
    action: { kind: 'route', strategy: { kind: 'priority', connectors: ['voda-direct', 'agg-1'] } },
  },
  {
    id: 'uk-any',
    match: { countries: ['GB'] },
    action: {
      kind: 'route',
      strategy: { kind: 'least_cost', connectors: ['agg-1', 'agg-2'], currency: 'EUR' },
      senderRewrite: { sourceAddr: 'INFO', onlyIfSender: [{ glob: '44*' }] },
    },
  },
  {
    id: 'de-rewrite',
    match: { countries: ['DE'] },
    action: {
      kind: 'route',
      strategy: { kind: 'priority', connectors: ['agg-2'] },
      senderRewrite: { sourceAddr: '4915199999999' },
    },
  },
  {
    id: 'ng-block',
    match: { countries: ['NG'], trafficTypes: ['MARKETING'] },
    action: { kind: 'block', reason: 'no marketing to NG' },
  },
  {
    id: 'ng',
    match: { countries: ['NG'] },
    action: { kind: 'route', strategy: { kind: 'priority', connectors: ['off-1'] } },
  },
];

const input = (over: Partial<RoutingTablesInput> = {}): RoutingTablesInput => ({
  version: 'v1',
  prefixes,
  rules,
  firewall: [
    { id: 'fw-casino', kind: 'keyword', keywords: ['casino'] },
    { id: 'fw-acc', kind: 'velocity_account', limit: 100, windowSeconds: 60 },
  ],
  connectors: [
    { id: 'voda-direct', enabled: true },
    { id: 'agg-1', enabled: true },
    { id: 'agg-2', enabled: true },
    { id: 'off-1', enabled: false },
  ],
  fxRates: [{ from: 'USD', to: 'EUR', rate: '0.9' }],
  buyRate: (id) =>
    id === 'agg-1'
      ? { amountMinor: 5000n, currency: 'EUR' }
      : id === 'agg-2'
        ? { amountMinor: 5000n, currency: 'USD' }
        : null,
  accountCountry: [['acc-1', 'GB']],
  ...over,
});

class Deferred implements NumberLookup {
  calls = 0;
  resolve: (v: NumberInfo | null) => void = () => {};
  lookup(): Promise<NumberInfo | null> {
    this.calls++;
    return new Promise((r) => (this.resolve = r));
  }
}

describe('RoutingEngine', () => {
  it('routes by the MCC-MNC of the longest prefix', async () => {
    const engine = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW });
    const d = await engine.decide(req());
    expect(d).toEqual({
      kind: 'routed',
      destination: { e164: '+447400123456', country: 'GB', mccMnc: '234-30' },
      candidates: expect.any(Array),
      strategy: 'least_cost',
      ruleId: 'uk-any',
    });
    const voda = await engine.decide(req({ destinationAddr: '447410123456' }));
    expect(voda).toMatchObject({ kind: 'routed', ruleId: 'uk-vodafone', destination: { mccMnc: '234-15' } });
    if (voda.kind === 'routed')
      expect(voda.candidates.map((c) => c.connectorId)).toEqual(['voda-direct', 'agg-1']);
  });

  it('prices by the destination country a number missing from the prefix table (NG +234 801)', async () => {
    const engine = new RoutingEngine(
      buildRoutingTables(
        input({
          rules: [
            {
              id: 'ng-lc',
              match: { countries: ['NG'] },
              action: {
                kind: 'route',
                strategy: { kind: 'least_cost', connectors: ['agg-1'], currency: 'EUR' },
              },
            },
          ],
          buyRate: (_id, _e164, _mccMnc, _at, country) =>
            country === 'NG' ? { amountMinor: 50_000n, currency: 'EUR' } : null,
        }),
      ),
      { clock: () => NOW },
    );
    expect(prefixes.some((p) => '2348012345678'.startsWith(p.prefix))).toBe(false);
    const d = await engine.decide(req({ destinationAddr: '2348012345678' }));
    expect(d).toMatchObject({ kind: 'routed', ruleId: 'ng-lc', destination: { country: 'NG' } });
    if (d.kind === 'routed')
      expect(d.candidates).toEqual([
        expect.objectContaining({
          connectorId: 'agg-1',
          expectedCost: { amountMinor: 50_000n, currency: 'EUR' },
        }),
      ]);
  });

  it('uses least cost with currency conversion and rewrites matching senders', async () => {
    const engine = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW });
    const d = await engine.decide(
      req({
        destinationAddr: '07512 345678',
        destTon: Ton.NATIONAL,
        sourceAddr: '447400000001',
        sourceTon: 1,
      }),
    );
    expect(d).toMatchObject({
      kind: 'routed',
      ruleId: 'uk-any',
      strategy: 'least_cost',
      senderRewrite: { sourceAddr: 'INFO', sourceTon: 5, sourceNpi: 0 },
    });
    if (d.kind === 'routed') {
      expect(d.candidates.map((c) => [c.connectorId, c.expectedCost])).toEqual([
        ['agg-2', { amountMinor: 4500n, currency: 'EUR' }],
        ['agg-1', { amountMinor: 5000n, currency: 'EUR' }],
      ]);
    }
    const alpha = await engine.decide(req({ destinationAddr: '447512345678' }));
    expect(alpha).toMatchObject({ kind: 'routed', ruleId: 'uk-any' });
    expect(alpha).not.toHaveProperty('senderRewrite');
    const de = await engine.decide(req({ destinationAddr: '4915123456789' }));
    expect(de).toMatchObject({ senderRewrite: { sourceAddr: '4915199999999', sourceTon: 1, sourceNpi: 1 } });
  });

  it('rejects invalid numbers, blocked traffic, unrouted destinations and firewall hits with their codes', async () => {
    const engine = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW });
    expect(await engine.decide(req({ destinationAddr: '4412' }))).toMatchObject({
      kind: 'rejected',
      category: 'invalid_number',
      ruleId: '',
      customerError: { stat: 'UNDELIV', err: 1 },
    });
    expect(
      await engine.decide(req({ destinationAddr: '2348031234567', trafficType: 'MARKETING' })),
    ).toMatchObject({
      category: 'blocked',
      ruleId: 'ng-block',
      reason: 'no marketing to NG',
      customerError: { stat: 'REJECTD', err: 11 },
    });
    expect(await engine.decide(req({ destinationAddr: '2348031234567' }))).toMatchObject({
      category: 'no_route',
      ruleId: 'ng',
      customerError: { stat: 'UNDELIV', err: 10 },
    });
    expect(await engine.decide(req({ destinationAddr: '33612345678' }))).toMatchObject({
      category: 'no_route',
      ruleId: '',
    });
    expect(await engine.decide(req({ text: 'casino night' }))).toMatchObject({
      category: 'firewall_content',
      ruleId: 'fw-casino',
    });
  });

  it('prefers the portability answer over the prefix table and routes on the ported network', async () => {
    const lookup = new InMemoryPortedLookup([{ e164: '+447400123456', mccMnc: '234-15' }]);
    const engine = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW, lookup });
    expect(await engine.decide(req())).toMatchObject({
      ruleId: 'uk-vodafone',
      destination: { e164: '+447400123456', mccMnc: '234-15', ported: true },
    });
  });

  it('falls back to the prefix table when the lookup fails', async () => {
    const lookup: NumberLookup = { lookup: () => Promise.reject(new Error('HLR down')) };
    const engine = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW, lookup });
    expect(await engine.decide(req())).toMatchObject({ kind: 'routed', destination: { mccMnc: '234-30' } });
  });

  it('answers from the cache without calling the slow lookup', async () => {
    const slow = new Deferred();
    const cache = new CachedNumberLookup(slow, { ttlMs: 60_000, maxEntries: 100, clock: () => NOW });
    const engine = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW, lookup: cache });
    const first = engine.decide(req());
    expect(slow.calls).toBe(1);
    slow.resolve({ mccMnc: '234-15', ported: true });
    expect(await first).toMatchObject({ ruleId: 'uk-vodafone' });
    expect(await engine.decide(req())).toMatchObject({
      ruleId: 'uk-vodafone',
      destination: { ported: true },
    });
    expect(slow.calls).toBe(1);
    expect(cache.hits).toBeGreaterThan(0);
  });

  it('prefetches a batch of destinations in one call, and decides as it would without', async () => {
    const ported = new InMemoryPortedLookup([{ e164: '+447400123456', mccMnc: '234-15' }]);
    const batches: string[][] = [];
    const inner: NumberLookup = {
      lookup: (e164) => ported.lookup(e164),
      lookupMany: (e164s) => {
        batches.push([...e164s]);
        return Promise.resolve(new Map(e164s.map((x) => [x, ported.peek(x)])));
      },
    };
    const cache = new CachedNumberLookup(inner, { ttlMs: 60_000, maxEntries: 100, clock: () => NOW });
    const engine = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW, lookup: cache });
    const plain = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW, lookup: ported });
    const reqs = [
      req(),
      req({ destinationAddr: '447911123456' }),
      req({ destinationAddr: '4412' }), // invalid: not looked up
    ];
    await engine.prefetch(reqs);
    expect(batches).toEqual([['+447400123456', '+447911123456']]);
    for (const r of reqs) expect(await engine.decide(r)).toEqual(await plain.decide({ ...r }));
    expect(cache.misses).toBe(0);
  });

  it('swaps tables atomically: an in-flight message finishes on the snapshot it started with', async () => {
    const slow = new Deferred();
    const engine = new RoutingEngine(buildRoutingTables(input()), { clock: () => NOW, lookup: slow });
    const v2Rules: RoutingRule[] = [
      {
        id: 'v2-all',
        match: {},
        action: { kind: 'route', strategy: { kind: 'priority', connectors: ['agg-2'] } },
      },
    ];
    const inFlight = engine.decide(req({ destinationAddr: '447410123456' }));
    const old = engine.swap(buildRoutingTables(input({ version: 'v2', rules: v2Rules })));
    expect(old.version).toBe('v1');
    expect(engine.tables.version).toBe('v2');
    slow.resolve(null);
    expect(await inFlight).toMatchObject({ ruleId: 'uk-vodafone' });
    const next = engine.decide(req({ destinationAddr: '447410123456' }));
    slow.resolve(null);
    expect(await next).toMatchObject({ ruleId: 'v2-all' });
  });

  it('keeps firewall counters across a swap for rules that still exist', async () => {
    const one = input({
      firewall: [{ id: 'fw-acc', kind: 'velocity_account', limit: 2, windowSeconds: 60 }],
    });
    const engine = new RoutingEngine(buildRoutingTables(one), { clock: () => NOW });
    expect((await engine.decide(req())).kind).toBe('routed');
    expect((await engine.decide(req())).kind).toBe('routed');
    engine.swap(buildRoutingTables({ ...one, version: 'v2' }));
    expect(await engine.decide(req())).toMatchObject({ category: 'velocity', ruleId: 'fw-acc' });
  });

  it('reports a throwing injected lookup as a rejected promise', async () => {
    const engine = new RoutingEngine(
      buildRoutingTables(
        input({
          buyRate: () => {
            throw new Error('rates store down');
          },
        }),
      ),
      { clock: () => NOW },
    );
    await expect(engine.decide(req())).rejects.toThrow('rates store down');
  });

  it('refuses to build a snapshot with bad rules', () => {
    expect(() =>
      buildRoutingTables(
        input({
          rules: [
            { id: 'x', match: { destinationPrefixes: ['+44'] }, action: { kind: 'block', reason: '' } },
          ],
        }),
      ),
    ).toThrow(/x: destination prefix/);
  });
});

describe('RoutingEngine.decideBatch with shared firewall windows', () => {
  it('decides a batch in order: static rejections use no limit, the shared windows decide the rest, the same answers as one by one', async () => {
    const tables = buildRoutingTables(
      input({
        firewall: [
          ...input().firewall,
          { id: 'fw-acc2', kind: 'velocity_account', limit: 2, windowSeconds: 60 },
        ],
      }),
    );
    const seen: number[] = [];
    const inner = new InMemorySharedWindows();
    const shared = {
      decide: (checks: Parameters<InMemorySharedWindows['decide']>[0], now: number) => {
        seen.push(checks.length);
        return inner.decide(checks, now);
      },
    };
    const engine = new RoutingEngine(tables, { clock: () => NOW, sharedWindows: shared });
    const batch = [req({ text: 'casino tonight' }), req(), req({ destinationAddr: '12' }), req(), req()];
    const out = await engine.decideBatch(batch);
    expect(out.map((d) => (d.kind === 'routed' ? 'routed' : d.category))).toEqual([
      'firewall_content',
      'routed',
      'invalid_number',
      'routed',
      'velocity',
    ]);
    expect(out[4]).toMatchObject({ ruleId: 'fw-acc2' });
    // One call for the batch, with the three messages past the static checks.
    expect(seen).toEqual([3]);
    // decide() is a batch of one: the window is full.
    expect(await engine.decide(req())).toMatchObject({ kind: 'rejected', ruleId: 'fw-acc2' });
  });
});
