// Benchmark: StatsService queries over a day of roll-ups of a hub carrying 10 million messages a day,
// and the roll-up writer's throughput. Run with `npm run bench -- stats` (or, with DATABASE_URL set:
//   npx tsx --conditions=@smshub/source services/stats/bench/stats-bench.ts [runs=30]).
// Creates its own database and drops it at the end. Prints figures; not a test.
//
// The key cardinality assumed (stated in docs/performance.md): 10 M messages a day is ~6,900 a minute;
// they spread over 1,000 distinct full keys per minute (account x connector x country x network x
// traffic type x currency), drawn from 5,000 keys of 100 accounts, 25 connectors, 40 countries, 120
// networks and 4 traffic types, so each full-key row holds ~7 messages. That is 1,440 x 1,000 = 1.44 M
// stats_minute rows for the day, 25 x 5,000 = 125 k stats_hour rows (the 25 whole hours the day touches), and per minute one *_dim row per
// dimension value seen (~290), 415 k stats_minute_dim rows. Rows are generated in SQL with realistic
// counters and latency histograms of 25-40 buckets; the *_dim and stats_hour_pair rows (every value pair
// of the small dimensions the keys hold, each hour) are generated the same way (not
// summed from the key rows): what is timed is reading that many rows, which is what the sizes decide.
import { performance } from 'node:perf_hooks';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createTestDatabase } from '@smshub/testing';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BillingRated, SmsRouted, StatsDimension, StatsOrder } from '@smshub/contracts';
import { StatsApi } from '../src/api.js';
import { StatsQueries } from '../src/query.js';
import { RollupStore, type BatchRecord } from '../src/store.js';
import type { NormalFilter } from '../src/domain/request.js';

const RUNS = Number(process.argv[2] ?? 30);
const KEYS = 5_000;
const PER_MINUTE = 1_000;
const ACCOUNTS = 100;
const CONNECTORS = 25;
const COUNTRIES = 40;
const NETWORKS = 120;

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('DATABASE_URL is required (npm run bench -- stats sets it)');
const db = await createTestDatabase(adminUrl);
const pool = createPool({ connectionString: db.url, max: 8 });
const dir = await mkdtemp(path.join(tmpdir(), 'stats-bench-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
  if (/^09\d\d_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
await migrate(pool, { dir });

const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
const dayStart = new Date(now.getTime() - 86_400_000);
const noFilter: NormalFilter = {
  accountIds: [],
  connectorIds: [],
  countries: [],
  mccMncs: [],
  trafficTypes: [],
};

function log(s: string) {
  process.stdout.write(`${s}\n`);
}

async function seed(): Promise<void> {
  const t0 = performance.now();
  await pool.query(
    `INSERT INTO stats_keys (account_id, connector_id, country, mcc_mnc, traffic_type, currency)
     SELECT 'acct-' || a, CASE WHEN j % 2 = 0 THEN '' ELSE 'conn-' || (j % $2) END, 'C' || ((a + j) % $3),
            'net-' || ((3 * a + j) % $4), (j % 4)::smallint, CASE WHEN j % 2 = 0 THEN '' ELSE 'EUR' END
       FROM generate_series(0, $1 - 1) AS k, LATERAL (SELECT k / 50 AS a, k % 50 AS j) AS x`,
    [KEYS, CONNECTORS, COUNTRIES, NETWORKS],
  );

  // A latency histogram: 25-40 buckets, most of the mass around bucket 30 (~2 s).
  const hist = `(SELECT array_agg(CASE WHEN b BETWEEN 26 AND 34 THEN 1 + (b % 3) ELSE 0 END ORDER BY b)
                   FROM generate_series(1, 25 + (x % 16)) AS b)`;
  const counters = `7, 7, 0, 6, 1, 7, 7, 0, 0, 0.28, 0.14, 0.14`;
  await pool.query(
    `INSERT INTO stats_minute (bucket, key_id, submitted, accepted, rejected, delivered, failed, segments, rated,
       missing_rate, cost_unconverted, revenue, cost, margin, lat)
     SELECT $1::timestamptz + make_interval(mins => m), ((m * 37 + i) % $2) + 1, ${counters},
            CASE WHEN i % 2 = 1 THEN ${hist.replaceAll('x', 'i')} END
       FROM generate_series(0, 1439) AS m, generate_series(1, $3) AS i`,
    [dayStart, KEYS, PER_MINUTE],
  );
  await pool.query(
    `INSERT INTO stats_hour (bucket, key_id, submitted, accepted, rejected, delivered, failed, segments, rated,
       missing_rate, cost_unconverted, revenue, cost, margin, lat)
     SELECT date_trunc('hour', $1::timestamptz) + make_interval(hours => h), k, ${counters}, ${hist.replaceAll('x', 'k')}
       FROM generate_series(0, 24) AS h, generate_series(1, $2) AS k`,
    [dayStart, KEYS],
  );
  // dimension values per minute: 2 currencies of the total, accounts, connectors (+ ''), countries,
  // networks, traffic types
  for (const table of ['stats_minute_dim', 'stats_hour_dim']) {
    const unit = table === 'stats_minute_dim' ? 'mins' : 'hours';
    const n = table === 'stats_minute_dim' ? 1_439 : 24;
    const from = table === 'stats_minute_dim' ? '$1::timestamptz' : "date_trunc('hour', $1::timestamptz)";
    await pool.query(
      `INSERT INTO ${table} (bucket, dim, key, currency, submitted, accepted, rejected, delivered, failed, segments,
         rated, missing_rate, cost_unconverted, revenue, cost, margin, lat)
       SELECT ${from} + make_interval(${unit} => t), d.dim, d.key, d.cur, ${counters}, ${hist.replaceAll('x', 'd.n')}
         FROM generate_series(0, ${n}) AS t,
              (SELECT 0 AS dim, '' AS key, c AS cur, 1 AS n FROM unnest(ARRAY['', 'EUR']) AS c
               UNION ALL SELECT 1, 'acct-' || a, c, a FROM generate_series(0, $2 - 1) a, unnest(ARRAY['', 'EUR']) c
               UNION ALL SELECT 2, CASE WHEN x = 0 THEN '' ELSE 'conn-' || x END, CASE WHEN x = 0 THEN '' ELSE 'EUR' END, x
                 FROM generate_series(0, $3) x
               UNION ALL SELECT 3, 'C' || x, c, x FROM generate_series(0, $4 - 1) x, unnest(ARRAY['', 'EUR']) c
               UNION ALL SELECT 4, 'net-' || x, c, x FROM generate_series(0, $5 - 1) x, unnest(ARRAY['', 'EUR']) c
               UNION ALL SELECT 5, x::text, c, x FROM generate_series(0, 3) x, unnest(ARRAY['', 'EUR']) c) AS d`,
      [dayStart, ACCOUNTS, CONNECTORS, COUNTRIES, NETWORKS],
    );
  }
  // hourly pair rows (0905): every (small dimension pair) value combination the keys hold, each hour
  await pool.query(
    `INSERT INTO stats_hour_pair (bucket, pair, key_a, key_b, currency, submitted, accepted, rejected, delivered,
       failed, segments, rated, missing_rate, cost_unconverted, revenue, cost, margin, lat)
     SELECT date_trunc('hour', $1::timestamptz) + make_interval(hours => h), p.pair, p.a, p.b, p.cur, ${counters},
            ${hist.replaceAll('x', 'p.n')}
       FROM generate_series(0, 24) AS h,
            (SELECT q.*, row_number() OVER () AS n FROM (
               SELECT 23 AS pair, connector_id AS a, country AS b, currency AS cur FROM stats_keys
               UNION SELECT 24, connector_id, mcc_mnc, currency FROM stats_keys
               UNION SELECT 25, connector_id, traffic_type::text, currency FROM stats_keys
               UNION SELECT 34, country, mcc_mnc, currency FROM stats_keys
               UNION SELECT 35, country, traffic_type::text, currency FROM stats_keys
               UNION SELECT 45, mcc_mnc, traffic_type::text, currency FROM stats_keys) AS q) AS p`,
    [dayStart],
  );
  await pool.query('VACUUM ANALYZE');
  const sizes = await pool.query<{ t: string; n: string; size: string }>(
    `SELECT relname AS t, n_live_tup::text AS n, pg_size_pretty(pg_total_relation_size(relid)) AS size
       FROM pg_stat_user_tables WHERE relname LIKE 'stats_%' ORDER BY relname`,
  );
  log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s:`);
  for (const r of sizes.rows) log(`  ${r.t.padEnd(18)} ${r.n.padStart(9)} rows  ${r.size}`);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

async function time(name: string, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 3; i++) await fn();
  const ms: number[] = [];
  // CPU of this process (the JavaScript that builds the answer), which a loaded machine inflates far
  // less than wall time; PostgreSQL's share is in EXPLAIN (ANALYZE) of the queries (docs/performance.md)
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  ms.sort((a, b) => a - b);
  log(
    `  ${name.padEnd(62)} p50 ${pct(ms, 0.5).toFixed(1).padStart(6)} ms  p99 ${pct(ms, 0.99).toFixed(1).padStart(6)} ms` +
      `  node cpu ${((cpu.user + cpu.system) / 1000 / RUNS).toFixed(1).padStart(6)} ms`,
  );
}

async function queries(): Promise<void> {
  const api = new StatsApi(new StatsQueries(pool));
  // "the last 24 h": not whole hours, so the minute roll-ups answer
  const window = {
    startTime: new Date(dayStart.getTime() + 60_000),
    endTime: new Date(now.getTime() + 60_000),
  };
  const hourWindow = {
    startTime: new Date(Math.ceil(dayStart.getTime() / 3_600_000) * 3_600_000),
    endTime: new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000),
  };
  const account = { ...noFilter, accountIds: ['acct-7'] };
  const accountCountry = { ...account, countries: ['C7'] };
  log(`queries over 24 h (${RUNS} runs each after 3 warm-ups; StatsApi on PostgreSQL, no gRPC):`);
  await time('summary, everything', () => api.summary({ window }, noFilter));
  await time('series 1-minute steps, everything', () =>
    api.series({ window, stepSeconds: 60, groupBy: 0, limit: 0 }, noFilter),
  );
  await time('series 1-minute steps, top 10 connectors', () =>
    api.series(
      { window, stepSeconds: 60, groupBy: StatsDimension.STATS_DIMENSION_CONNECTOR, limit: 10 },
      noFilter,
    ),
  );
  await time('breakdown by network (120 rows), everything', () =>
    api.breakdown(
      {
        window,
        dimension: StatsDimension.STATS_DIMENSION_MCC_MNC,
        order: StatsOrder.STATS_ORDER_SUBMITTED,
        limit: 0,
      },
      noFilter,
    ),
  );
  await time('series 1-minute steps, one account (a customer token)', () =>
    api.series({ window, stepSeconds: 60, groupBy: 0, limit: 0 }, account),
  );
  await time('breakdown by connector of one account (full-key rows)', () =>
    api.breakdown(
      { window, dimension: StatsDimension.STATS_DIMENSION_CONNECTOR, order: 0, limit: 0 },
      account,
    ),
  );
  await time('series 1-minute steps, one account x one country (full-key)', () =>
    api.series({ window, stepSeconds: 60, groupBy: 0, limit: 0 }, accountCountry),
  );
  await time('breakdown by country, traffic type OTP (full-key, ~1/4 of rows)', () =>
    api.breakdown(
      { window, dimension: StatsDimension.STATS_DIMENSION_COUNTRY, order: 0, limit: 0 },
      { ...noFilter, trafficTypes: [1] },
    ),
  );
  await time('breakdown by account, whole hours (hour roll-ups)', () =>
    api.breakdown(
      { window: hourWindow, dimension: StatsDimension.STATS_DIMENSION_ACCOUNT, order: 0, limit: 0 },
      noFilter,
    ),
  );
}

/** The writer: records through RollupStore.applyBatch as the consumer hands them over. */
async function writer(): Promise<void> {
  const store = new RollupStore(pool, 'bench');
  const batches = 100;
  const size = 500;
  let offset = 0;
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const batch: BatchRecord[] = [];
    for (let i = 0; i < size; i++) {
      const n = b * size + i;
      const receivedAt = new Date(now.getTime() - (n % 60) * 1000);
      const account = `w-acct-${n % 50}`;
      batch.push(
        n % 2 === 0
          ? {
              offset: String(offset++),
              timestamp: String(receivedAt.getTime()),
              record: {
                kind: 'routed',
                value: SmsRouted.fromPartial({
                  message: { messageId: `m${n}`, accountId: account, receivedAt, trafficType: n % 4 },
                  destinationInfo: { countryCode: `C${n % 30}`, mcc: '234', mnc: String(10 + (n % 40)) },
                }),
              },
            }
          : {
              offset: String(offset++),
              timestamp: String(receivedAt.getTime()),
              record: {
                kind: 'rated',
                value: BillingRated.fromPartial({
                  messageId: `m${n - 1}`,
                  revision: 1,
                  accountId: account,
                  connectorId: `w-conn-${n % 10}`,
                  destinationCountry: `C${(n - 1) % 30}`,
                  destinationMccMnc: `234-${10 + ((n - 1) % 40)}`,
                  segments: 1,
                  sell: { currencyCode: 'EUR', minorUnits: 40_000n, scale: 6 },
                  buy: { currencyCode: 'EUR', minorUnits: 20_000n, scale: 6 },
                  buyInSellCurrency: { currencyCode: 'EUR', minorUnits: 20_000n, scale: 6 },
                  margin: { currencyCode: 'EUR', minorUnits: 20_000n, scale: 6 },
                  deliveryStatus: 'DELIVERY_STATUS_DELIVERED',
                  trafficType: (n - 1) % 4,
                  submittedAt: receivedAt,
                  doneAt: new Date(receivedAt.getTime() + 1_500 + (n % 5_000)),
                }),
              },
            },
      );
    }
    await store.applyBatch('bench', 0, batch);
  }
  const s = (performance.now() - t0) / 1000;
  const records = batches * size;
  log(
    `writer: ${records} records (half routed, half rated) in batches of ${size}: ${(records / s).toFixed(0)} records/s ` +
      `(10 M messages a day is 2 records a message, ~230/s on average)`,
  );
}

try {
  await seed();
  await queries();
  await writer();
} finally {
  await pool.end();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
}
