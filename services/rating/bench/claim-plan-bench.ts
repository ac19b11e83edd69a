// The publication claim and the CDR read-back, as planned from statistics that autoanalyze took while
// rating_cdrs_unpublished was empty (reltuples = 0 over pages of dead rows), which happens by chance in a
// long run (the table churns: a row per CDR, inserted and deleted within a second). Before (session 13's
// statements) and after (cdr-store.ts now), alternated round by round on one connection; each claim runs
// in a transaction rolled back, so every round sees the same rows. Prints the backend's CPU (from /proc:
// PostgreSQL runs on this machine) and the wall time per statement and per CDR, and each form's plan.
// `stats=fresh` analyzes the table after filling it instead (the plans of a run where the statistics
// happened to be right). Needs DATABASE_URL; creates and drops a database of its own. Prints figures;
// not a test.
// Run: npx tsx --conditions=@smshub/source services/rating/bench/claim-plan-bench.ts [rounds=20] [stats=empty|fresh] [live=300] [dead=20000] [ids=150]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { arrayLiteralOf, createPool, migrate } from '@smshub/db';
import { CLAIM_UNPUBLISHED, SELECT_EXISTING } from '../src/cdr-store.js';

const rounds = Number(process.argv[2] ?? 20);
const stats = process.argv[3] ?? 'empty';
const live = Number(process.argv[4] ?? 300);
const dead = Number(process.argv[5] ?? 20_000);
const perClaim = Number(process.argv[6] ?? 150);
const CDRS = 45_000;
const PER_ROUND = 20;
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is required');

const OLD_CLAIM = `
DELETE FROM rating_cdrs_unpublished
 WHERE hub_message_id IN (SELECT hub_message_id FROM rating_cdrs_unpublished
                           WHERE hub_message_id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED)
RETURNING hub_message_id::text AS id`;
const OLD_EXISTING = `
SELECT 'e' AS kind, c.hub_message_id::text AS id, c.record, u.hub_message_id IS NULL AS published, c.connector_id,
       c.sell_minor::text AS sell_minor, c.sell_currency, c.buy_minor::text AS buy_minor, c.buy_currency
  FROM rating_cdrs c LEFT JOIN rating_cdrs_unpublished u ON u.hub_message_id = c.hub_message_id
 WHERE c.hub_message_id = ANY($1::uuid[])`;

const dbName = `claim_bench_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
const adminDb = new pg.Client({ connectionString: adminUrl });
await adminDb.connect();
await adminDb.query(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const pool = createPool({ connectionString: url.toString(), max: 1, idleTimeoutMs: 0 });
try {
  await migrate(pool);
  await pool.query(
    `INSERT INTO rating_cdrs (hub_message_id, account_id, connector_id, supplier_id, country, mcc_mnc, segments,
       outcome, status, billed_on, sell_minor, sell_currency, sell_charged, sell_rate_id, buy_minor, buy_currency,
       buy_charged, buy_rate_id, margin_minor, submitted_at, rated_at, record)
     SELECT gen_random_uuid(), 'acc', 'con_a', 'sup_1', 'DE', '26201', 1, 'SUBMITTED', 'RATED_STATUS_CHARGED',
       'submit', 100, 'EUR', true, 's1', 50, 'EUR', true, 'b1', 50, now(), now(), decode(repeat('ab', 150), 'hex')
       FROM generate_series(1, $1)`,
    [CDRS],
  );
  await pool.query('VACUUM ANALYZE rating_cdrs');
  // autovacuum would correct the statistics during the bench; in a run it does so at its own moments
  await pool.query('ALTER TABLE rating_cdrs_unpublished SET (autovacuum_enabled = off)');
  // pages of dead rows, as between two vacuums of a long run
  await pool.query(
    `INSERT INTO rating_cdrs_unpublished SELECT hub_message_id, rated_at FROM rating_cdrs LIMIT $1`,
    [dead],
  );
  await pool.query('DELETE FROM rating_cdrs_unpublished');
  if (stats === 'empty') await pool.query('ANALYZE rating_cdrs_unpublished'); // sees no live row: reltuples = 0
  await pool.query(
    `INSERT INTO rating_cdrs_unpublished
       SELECT hub_message_id, rated_at FROM rating_cdrs ORDER BY hub_message_id DESC LIMIT $1`,
    [live],
  );
  if (stats !== 'empty') await pool.query('ANALYZE rating_cdrs_unpublished');
  const unpublished = (
    await pool.query<{ id: string }>('SELECT hub_message_id::text AS id FROM rating_cdrs_unpublished')
  ).rows.map((r) => r.id);
  const all = (
    await pool.query<{ id: string }>(
      'SELECT hub_message_id::text AS id FROM rating_cdrs ORDER BY hub_message_id DESC LIMIT $1',
      [live * 4],
    )
  ).rows.map((r) => r.id);
  const pg0 = await pool.query<{ reltuples: number; relpages: number }>(
    `SELECT reltuples, relpages FROM pg_class WHERE relname = 'rating_cdrs_unpublished'`,
  );
  const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const cpuUs = (): number => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').at(-1)!.trim().split(/\s+/);
    return (Number(f[11]) + Number(f[12])) * 10_000;
  };
  const pick = (from: string[], n: number): string[] =>
    Array.from({ length: n }, () => from[Math.floor(Math.random() * from.length)]!).filter(
      (v, i, a) => a.indexOf(v) === i,
    );

  type Kind = 'claim' | 'read-back';
  const variants: Array<{ name: string; kind: Kind; sql: string }> = [
    { name: 'claim, before', kind: 'claim', sql: OLD_CLAIM },
    { name: 'claim, after', kind: 'claim', sql: CLAIM_UNPUBLISHED },
    { name: 'read-back, before', kind: 'read-back', sql: OLD_EXISTING },
    { name: 'read-back, after', kind: 'read-back', sql: SELECT_EXISTING },
  ];
  const totals = new Map(variants.map((v) => [v.name, { cpu: 0, ms: 0, runs: 0, ids: 0 }]));
  async function run(v: (typeof variants)[number]): Promise<void> {
    const ids = v.kind === 'claim' ? pick(unpublished, perClaim) : pick(all, perClaim * 2);
    const t = totals.get(v.name)!;
    const c0 = cpuUs();
    const w0 = performance.now();
    for (let i = 0; i < PER_ROUND; i++) {
      if (v.kind === 'claim') await pool.query('BEGIN');
      await pool.query(v.sql, [arrayLiteralOf(ids)]);
      if (v.kind === 'claim') await pool.query('ROLLBACK');
    }
    t.ms += performance.now() - w0;
    t.cpu += cpuUs() - c0;
    t.runs += PER_ROUND;
    t.ids += PER_ROUND * ids.length;
  }
  for (const v of variants) await run(v); // warm-up, not counted
  for (const t of totals.values()) Object.assign(t, { cpu: 0, ms: 0, runs: 0, ids: 0 });
  const load0 = loadavg();
  for (let r = 0; r < rounds; r++) for (const v of r % 2 ? [...variants].reverse() : variants) await run(v);
  const load1 = loadavg();

  console.log(
    `rating_cdrs_unpublished: ${unpublished.length} live rows over ${dead} dead, statistics: ${stats} ` +
      `(reltuples ${pg0.rows[0]!.reltuples}, relpages ${pg0.rows[0]!.relpages}); rating_cdrs ${CDRS} rows`,
  );
  console.log(
    `${rounds} rounds × ${PER_ROUND} statements per form, alternated; load average ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}`,
  );
  for (const v of variants) {
    const t = totals.get(v.name)!;
    console.log(
      `${v.name.padEnd(18)} ${(t.cpu / t.runs).toFixed(0).padStart(6)} backend CPU-µs per statement ` +
        `(${(t.cpu / t.ids).toFixed(1)} per CDR), ${(t.ms / t.runs).toFixed(2)} ms per statement, ${Math.round(t.ids / t.runs)} CDRs each`,
    );
  }
  for (const v of variants) {
    await pool.query('BEGIN');
    const plan = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${v.sql}`, [
      arrayLiteralOf(pick(all, perClaim)),
    ]);
    await pool.query('ROLLBACK');
    const nodes = plan.rows
      .map((r) => r['QUERY PLAN'].trim())
      .filter((l) => !/^(Filter|Join Filter|Index Cond|Recheck Cond|TID Cond|Hash Cond):/.test(l))
      .map((l) => l.replace(/^->\s*/, '').split('  (')[0]);
    console.log(`plan, ${v.name}: ${nodes.join(' / ')}`);
  }
} finally {
  await pool.end();
  await adminDb.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  await adminDb.end();
}
