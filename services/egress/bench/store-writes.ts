// Benchmark (not a test): the dedupe rows' writes alone, both shapes alternated in one process.
// Each round writes `parts` parts as egress does: a first claim ("sending", attempt 1) then the outcome
// ("sent", with a ~380-byte encoded event), `batch` parts per statement, one statement of each kind at a
// time, on a database of its own that already holds `prefill` rows (the table is never small in production).
// Shapes (dispatch-store.ts DispatchWriteShape): 'upsert' (every row an INSERT ... ON CONFLICT DO UPDATE,
// before session 13) and 'plain' (a plain insert for first claims, an UPDATE for outcomes).
//   set -a; . .local/env; set +a
//   npx tsx --conditions=@smshub/source services/egress/bench/store-writes.ts [parts=6000] [batch=50] [rounds=6] [prefill=100000]
// Prints per round and shape: the PostgreSQL backend's CPU-µs per part (/proc/<pid>/stat of the pool's one
// connection), WAL bytes per part (pg_current_wal_lsn: the whole cluster's, so run it on a cluster of your
// own), and when the cluster has pg_stat_statements, execution time and WAL records per part; then medians.
import { randomBytes, randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { DispatchStore, type DispatchWriteShape } from '../src/dispatch-store.js';

const [parts = 6000, batch = 50, rounds = 6, prefill = 100_000] = process.argv.slice(2).map(Number);
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is not set (source .local/env)');
const tag = `egress_store_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${tag}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${tag}`;
const dir = await mkdtemp(path.join(tmpdir(), 'egress-store-'));
const pool = createPool({ connectionString: dbUrl.toString(), max: 1 });

async function backendCpuUs(): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [tag],
  );
  let us = 0;
  for (const { pid } of rows) {
    const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(')').at(-1)!.trim().split(/\s+/);
    us += (Number(f[11]) + Number(f[12])) * 10_000;
  }
  return us;
}
const lsn = async (): Promise<string> =>
  (await admin.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l;
const walSince = async (from: string): Promise<number> =>
  Number(
    (await admin.query<{ d: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d', [from]))
      .rows[0]!.d,
  );
async function statements(): Promise<{ ms: number; records: number } | undefined> {
  try {
    const { rows } = await admin.query<{ ms: number; r: string }>(
      `SELECT coalesce(sum(s.total_exec_time), 0) AS ms, coalesce(sum(s.wal_records), 0) AS r
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = $1 AND s.query ~ '^(INSERT INTO|UPDATE) egress_part_dispatch'`,
      [tag],
    );
    return { ms: Number(rows[0]!.ms), records: Number(rows[0]!.r) };
  } catch {
    return undefined;
  }
}

const event = randomBytes(380);
async function round(shape: DispatchWriteShape) {
  const store = new DispatchStore(pool, 'bench-replica', { writeShape: shape });
  const keys = Array.from({ length: parts }, () => ({ messageId: randomUUID(), partNumber: 1 }));
  await pool.query('SELECT 1'); // the connection exists before its CPU is read
  const [cpu0, wal0, st0] = [await backendCpuUs(), await lsn(), await statements()];
  for (let i = 0; i < parts; i += batch) {
    const chunk = keys.slice(i, i + batch);
    const claims: Parameters<DispatchStore['claimMany']>[0] = chunk.map((k) => ({
      ...k,
      partTotal: 1,
      state: 'sending' as const,
      attempt: 1,
      connectorId: 'con_bench',
    }));
    await store.claimMany(claims);
    if (!claims.every((c) => c.won)) throw new Error('a fresh part was not won');
    await store.upsertMany(
      chunk.map((k, j) => ({
        ...k,
        partTotal: 1,
        state: 'sent' as const,
        attempt: 1,
        connectorId: 'con_bench',
        supplierMessageId: `${(i + j).toString(16).padStart(8, '0')}`,
        commandStatus: 0,
        event,
      })),
    );
  }
  const cpu = (await backendCpuUs()) - cpu0;
  const wal = await walSince(wal0);
  const st1 = await statements();
  return {
    cpu: cpu / parts,
    wal: wal / parts,
    ...(st0 && st1
      ? { exec: ((st1.ms - st0.ms) * 1000) / parts, records: (st1.records - st0.records) / parts }
      : {}),
  };
}

try {
  for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
    if (/^(0001|02\d\d)_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
  await migrate(pool, { dir });
  await pool.query(
    `INSERT INTO egress_part_dispatch (message_id, part_number, part_total, state, attempt, connector_id, replica,
       supplier_message_id, command_status, event)
     SELECT gen_random_uuid(), 1, 1, 'sent', 1, 'con_bench', 'bench-replica', lpad(to_hex(i), 8, '0'), 0, $2
     FROM generate_series(1, $1::int) AS i`,
    [prefill, event],
  );
  await pool.query('VACUUM ANALYZE egress_part_dispatch');
  const results: Record<DispatchWriteShape, Awaited<ReturnType<typeof round>>[]> = { upsert: [], plain: [] };
  for (let r = 0; r < rounds; r++) {
    for (const shape of (r % 2 === 0 ? ['upsert', 'plain'] : ['plain', 'upsert']) as DispatchWriteShape[]) {
      const load = loadavg()[0]!.toFixed(2);
      const x = await round(shape);
      results[shape].push(x);
      console.log(
        `round ${r + 1} ${shape.padEnd(6)}: backend ${x.cpu.toFixed(1)} CPU-µs/part, WAL ${x.wal.toFixed(0)} bytes/part` +
          (x.exec !== undefined
            ? `, exec ${x.exec.toFixed(1)} µs/part, ${x.records!.toFixed(2)} WAL records/part`
            : '') +
          `; load ${load}`,
      );
    }
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const shape of ['upsert', 'plain'] as const) {
    const xs = results[shape];
    console.log(
      `median ${shape.padEnd(6)}: backend ${median(xs.map((x) => x.cpu)).toFixed(1)} CPU-µs/part, WAL ` +
        `${median(xs.map((x) => x.wal)).toFixed(0)} bytes/part` +
        (xs[0]!.exec !== undefined
          ? `, exec ${median(xs.map((x) => x.exec!)).toFixed(1)} µs/part, ${median(xs.map((x) => x.records!)).toFixed(2)} WAL records/part`
          : '') +
        ` (${parts} parts × ${rounds} rounds, ${batch} per statement)`,
    );
  }
} finally {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
