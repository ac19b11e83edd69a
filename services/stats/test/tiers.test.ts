// The roll-up tiers give the same answers as the minute rows (real PostgreSQL, no Kafka): records go
// through the writer (corrections included), then every whole-window query the tiers answer (whole
// hours from the hour rows, ragged edges added from minutes or subtracted from their hour) is compared
// with the same query answered from the minute rows alone (hour rows of full keys, of one dimension and
// of pairs of small dimensions); series read as rows (1-minute steps of the
// *_dim rows) and hourly series match the minute rows too.
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingRated, SmsRejected, SmsRouted, StatsDimension } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createTestDatabase, type TestDatabase } from '@smshub/testing';
import { StatsApi } from '../src/api.js';
import type { NormalFilter } from '../src/domain/request.js';
import { StatsQueries, type Query, type ResultRow, type Values } from '../src/query.js';
import { RollupStore, type BatchRecord } from '../src/store.js';

const MIN = 60_000;
const HOUR = 3_600_000;
// five hours of traffic ending at the last whole hour before now, plus the current hour so far
const lastHour = Math.floor(Date.now() / HOUR) * HOUR;
const t0 = lastHour - 5 * HOUR;
const ACCOUNTS = ['acct-a', 'acct-b', 'acct-c'];
const CONNECTORS = ['conn-1', 'conn-2', 'conn-3'];
const COUNTRIES = ['GB', 'DE', 'FR'];
const noFilter: NormalFilter = {
  accountIds: [],
  connectorIds: [],
  countries: [],
  mccMncs: [],
  trafficTypes: [],
};

let db: TestDatabase;
let pool: Pool;
let dir: string;
let queries: StatsQueries;

/** A deterministic pseudo-random sequence (the same data every run). */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

function record(offset: number, r: BatchRecord['record'], at: Date): BatchRecord {
  return { offset: String(offset), timestamp: String(at.getTime()), record: r };
}

/**
 * 2,000 messages over the 5 whole hours, then one a minute in the current hour so far: routed or
 * rejected, most rated, some corrected to another connector. The 2,000 are placed the same way every run
 * (relative to t0), so every shape of every window has the same rows whenever the test runs; only the
 * current hour's minutes (the ragged end near now) depend on the time.
 */
async function seed(): Promise<void> {
  const rand = rng(20);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const store = new RollupStore(pool, 'tiers-test');
  const span = 5 * 60;
  const recent = Math.floor((Date.now() - lastHour) / MIN);
  const routed: BatchRecord[] = [];
  const rated: BatchRecord[] = [];
  for (let n = 0; n < 2_000 + recent; n++) {
    const receivedAt =
      n < 2_000
        ? new Date(t0 + Math.floor(rand() * span) * MIN + Math.floor(rand() * MIN))
        : new Date(lastHour + (n - 2_000) * MIN + Math.floor(rand() * MIN));
    const messageId = randomUUID();
    const accountId = pick(ACCOUNTS);
    const country = pick(COUNTRIES);
    const mnc = String(10 + Math.floor(rand() * 3));
    const trafficType = 1 + Math.floor(rand() * 3);
    const message = { messageId, accountId, receivedAt, trafficType };
    const info = { countryCode: country, mcc: '234', mnc };
    if (rand() < 0.1) {
      routed.push(
        record(
          routed.length,
          {
            kind: 'rejected',
            value: SmsRejected.fromPartial({
              message,
              destinationInfo: info,
              reason: 'test',
              rejectedAt: receivedAt,
            }),
          },
          receivedAt,
        ),
      );
      continue;
    }
    routed.push(
      record(
        routed.length,
        { kind: 'routed', value: SmsRouted.fromPartial({ message, destinationInfo: info }) },
        receivedAt,
      ),
    );
    if (rand() < 0.15) continue; // pending
    const revisions = rand() < 0.1 ? 2 : 1;
    for (let revision = 1; revision <= revisions; revision++) {
      const delivered = rand() < 0.8;
      const sell = BigInt(10_000 + Math.floor(rand() * 50_000));
      const buy = BigInt(5_000 + Math.floor(rand() * 5_000));
      const money = (v: bigint) => ({ currencyCode: 'EUR', minorUnits: v, scale: 6 });
      rated.push(
        record(
          rated.length,
          {
            kind: 'rated',
            value: BillingRated.fromPartial({
              messageId,
              revision,
              accountId,
              connectorId: pick(CONNECTORS),
              destinationCountry: country,
              destinationMccMnc: `234-${mnc}`,
              segments: 1 + Math.floor(rand() * 2),
              sell: money(sell),
              buy: money(buy),
              buyInSellCurrency: money(buy),
              margin: money(sell - buy),
              deliveryStatus: delivered ? 'DELIVERY_STATUS_DELIVERED' : 'DELIVERY_STATUS_UNDELIVERABLE',
              trafficType,
              submittedAt: receivedAt,
              doneAt: new Date(receivedAt.getTime() + 200 + Math.floor(rand() * 60_000)),
            }),
          },
          receivedAt,
        ),
      );
    }
  }
  for (const [topic, list] of [
    ['routed', routed],
    ['rated', rated],
  ] as const)
    for (let i = 0; i < list.length; i += 250) await store.applyBatch(topic, 0, list.slice(i, i + 250));
}

/** Comparable form: rows by group, histograms without trailing zeros, money sorted. */
function normal(rows: ResultRow[]) {
  const v = (x: Values) => {
    const lat = [...x.lat];
    while (lat.length > 0 && lat[lat.length - 1] === 0) lat.pop();
    return {
      ...x,
      lat,
      money: [...x.money.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1)),
    };
  };
  return rows
    .map((r) => ({ step: r.step, group: r.group, values: v(r.values) }))
    .sort((a, b) => (a.step ?? 0) - (b.step ?? 0) || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4 });
  dir = await mkdtemp(path.join(tmpdir(), 'stats-tiers-'));
  for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
    if (/^09\d\d_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
  await migrate(pool, { dir });
  await seed();
  queries = new StatsQueries(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const windows: [string, number, number][] = [
  ['ragged both ends (hours + minutes added/subtracted)', t0 + 7 * MIN, lastHour - 13 * MIN],
  ['rolling to now', t0 + 41 * MIN, Math.floor(Date.now() / MIN) * MIN + MIN],
  ['most of one hour (hour minus minutes)', t0 + HOUR + 3 * MIN, t0 + 2 * HOUR - 4 * MIN],
  ['whole hours', t0, lastHour],
  ['a few minutes', t0 + 2 * HOUR + 5 * MIN, t0 + 2 * HOUR + 9 * MIN],
];
const shapes: [string, NormalFilter, number | undefined][] = [
  ['everything', noFilter, undefined],
  ['by connector', noFilter, StatsDimension.STATS_DIMENSION_CONNECTOR],
  ['by network', noFilter, StatsDimension.STATS_DIMENSION_MCC_MNC],
  ['one account', { ...noFilter, accountIds: ['acct-b'] }, undefined],
  [
    'one account by country (full keys)',
    { ...noFilter, accountIds: ['acct-b'] },
    StatsDimension.STATS_DIMENSION_COUNTRY,
  ],
  [
    'traffic type 2 by country (full keys)',
    { ...noFilter, trafficTypes: [2] },
    StatsDimension.STATS_DIMENSION_COUNTRY,
  ],
  [
    'one connector by network (pair rows for hours)',
    { ...noFilter, connectorIds: ['conn-2'] },
    StatsDimension.STATS_DIMENSION_MCC_MNC,
  ],
  [
    'one country and one traffic type (pair rows for hours)',
    { ...noFilter, countries: ['GB'], trafficTypes: [1] },
    undefined,
  ],
  [
    'two traffic types by traffic type',
    { ...noFilter, trafficTypes: [1, 3] },
    StatsDimension.STATS_DIMENSION_TRAFFIC_TYPE,
  ],
];

describe('roll-up tiers answer exactly as the minute rows', () => {
  it('reads hours of two small dimensions from the pair rows', () => {
    const hours = { start: new Date(t0), end: new Date(lastHour) };
    expect(
      StatsQueries.plan({
        ...hours,
        filter: { ...noFilter, trafficTypes: [2] },
        groupDim: StatsDimension.STATS_DIMENSION_COUNTRY,
      }).family,
    ).toBe('pair');
    expect(
      StatsQueries.plan({ ...hours, filter: { ...noFilter, accountIds: ['acct-b'], countries: ['GB'] } })
        .family,
    ).toBe('key');
  });

  for (const [wname, start, end] of windows) {
    it(`whole-window queries over ${wname}`, async () => {
      for (const [sname, filter, groupDim] of shapes) {
        const q: Query = {
          start: new Date(start),
          end: new Date(end),
          filter,
          ...(groupDim !== undefined ? { groupDim } : {}),
        };
        const [tiered, minutes] = await Promise.all([
          queries.run(q),
          queries.run({ ...q, minutesOnly: true }),
        ]);
        expect(minutes.length, `${sname}: the reference has rows`).toBeGreaterThan(0);
        expect(normal(tiered), sname).toEqual(normal(minutes));
      }
    });
  }

  it('series at 1-minute steps (rows read as they are) and at hourly steps match the minute rows', async () => {
    for (const [sname, filter, groupDim] of shapes) {
      const base = { filter, ...(groupDim !== undefined ? { groupDim } : {}) };
      // 1-minute steps: *_dim rows read directly vs the same grouped at 2-minute steps
      const minute = await queries.run({
        ...base,
        start: new Date(t0),
        end: new Date(lastHour),
        stepMs: MIN,
      });
      const two = await queries.run({
        ...base,
        start: new Date(t0),
        end: new Date(lastHour),
        stepMs: 2 * MIN,
      });
      const paired = new Map<string, ResultRow>();
      for (const r of minute) {
        const step = Math.floor((r.step! - t0) / (2 * MIN)) * 2 * MIN + t0;
        const id = `${step}/${r.group}`;
        const m = paired.get(id);
        if (m) {
          for (const k of ['submitted', 'accepted', 'rejected', 'delivered', 'failed', 'segments'] as const)
            m.values[k] += r.values[k];
          for (let i = 0; i < r.values.lat.length; i++)
            m.values.lat[i] = (m.values.lat[i] ?? 0) + r.values.lat[i]!;
          for (const [c, mo] of r.values.money) {
            const t = m.values.money.get(c);
            if (!t) m.values.money.set(c, { ...mo });
            else for (const k of ['revenue', 'cost', 'margin'] as const) t[k] += mo[k];
          }
        } else paired.set(id, { step, group: r.group, values: structuredClone(r.values) });
      }
      const strip = (rows: ResultRow[]) =>
        normal(rows).map((r) => ({
          ...r,
          values: {
            ...r.values,
            money: r.values.money.map((m) => [m.currency, m.revenue, m.cost, m.margin]),
          },
        }));
      expect(minute.length, sname).toBeGreaterThan(0);
      expect(strip([...paired.values()]), `${sname}: 1-minute rows vs 2-minute steps`).toEqual(strip(two));
      // hourly steps over whole hours: hour rows vs minute rows
      const hq: Query = { ...base, start: new Date(t0), end: new Date(lastHour), stepMs: HOUR };
      expect(StatsQueries.plan(hq).grain).toBe('hour');
      const [hours, minutes] = await Promise.all([
        queries.run(hq),
        queries.run({ ...hq, minutesOnly: true }),
      ]);
      expect(normal(hours), `${sname}: hourly series`).toEqual(normal(minutes));
    }
  });

  it('the top-10 series are the series of the largest values, one query for all of them', async () => {
    const api = new StatsApi(queries);
    const window = { startTime: new Date(t0 + 7 * MIN), endTime: new Date(lastHour - 13 * MIN) };
    const top = await api.series(
      { window, stepSeconds: 60, groupBy: StatsDimension.STATS_DIMENSION_CONNECTOR, limit: 2 },
      noFilter,
    );
    const breakdown = await api.breakdown(
      { window, dimension: StatsDimension.STATS_DIMENSION_CONNECTOR, order: 0, limit: 2 },
      noFilter,
    );
    expect(top.series.map((s) => s.key)).toEqual(breakdown.rows.map((r) => r.key));
    for (const s of top.series) {
      const one = await api.series(
        { window, stepSeconds: 60, groupBy: 0, limit: 0 },
        { ...noFilter, connectorIds: [s.key] },
      );
      expect(s.points).toEqual(one.series[0]!.points);
    }
  });
});
