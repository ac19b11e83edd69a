// Benchmark: a dlr_timeline insert with its payloads as a bytea[] (pg writes and parses each one as hex) vs
// insertUnnest (all payloads in one binary parameter, cut out with substring). Alternated rounds of
// batches of 300 rows of 260 bytes; CPU of this process per row and of its one PostgreSQL backend
// (/proc/<pid>/stat, so PostgreSQL must run on this machine). Prints figures; not a test.
//   npx tsx --conditions=@smshub/source services/dlr/bench/bytea-bench.ts [batches=100]   (needs DATABASE_URL)
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPool } from '@smshub/db';
import { insertUnnest } from '../src/sql.js';
import { TIMELINE_COLUMNS, timelineRow, type TimelineRow } from '../src/timeline-rows.js';

const adminUrl = process.env['DATABASE_URL']!;
const db = `hperf_bytea_${Date.now().toString(36)}`;
const admin = createPool({ connectionString: adminUrl, max: 1 });
await admin.query(`CREATE DATABASE ${db}`);
const url = new URL(adminUrl);
url.pathname = `/${db}`;
const pool = createPool({ connectionString: url.toString(), max: 1 });
await pool.query(`CREATE TABLE dlr_timeline (message_id uuid, event_key text, topic text, kind text,
  event_time timestamptz, flow_order smallint, payload bytea, PRIMARY KEY (message_id, event_key))`);
const pid = (await pool.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
const ticks = () => {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10_000; // µs
};
const BATCH = 300;
const BATCHES = Number(process.argv[2] ?? 100);
const rowsOf = (): TimelineRow[] =>
  Array.from({ length: BATCH }, () =>
    timelineRow(randomUUID(), 'rated/1', 'rated', 'billing.rated.v1', Date.now(), randomBytes(260)),
  );
async function hex(rows: TimelineRow[]) {
  await pool.query(
    `INSERT INTO dlr_timeline (message_id, event_key, topic, kind, event_time, flow_order, payload)
     SELECT t.* FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
       $6::smallint[], $7::bytea[]) AS t(message_id, event_key, topic, kind, event_time, flow_order, payload)
     ON CONFLICT (message_id, event_key) DO NOTHING`,
    [0, 1, 2, 3, 4, 5, 6].map((i) => rows.map((r) => r[i])),
  );
}
async function packed(rows: TimelineRow[]) {
  await insertUnnest(
    pool,
    'dlr_timeline',
    TIMELINE_COLUMNS,
    rows,
    'ON CONFLICT (message_id, event_key) DO NOTHING',
  );
}
for (let round = 0; round < 6; round++) {
  for (const [name, fn] of [
    ['bytea[] (hex)', hex],
    ['packed', packed],
  ] as const) {
    const data = Array.from({ length: BATCHES }, rowsOf);
    const c0 = process.cpuUsage();
    const p0 = ticks();
    for (const rows of data) await fn(rows);
    const c = process.cpuUsage(c0);
    const n = BATCH * BATCHES;
    console.log(
      `${name.padEnd(14)} client ${((c.user + c.system) / n).toFixed(1)} µs/row, backend ${((ticks() - p0) / n).toFixed(1)} µs/row`,
    );
  }
}
await pool.end();
await admin.query(`DROP DATABASE ${db}`);
await admin.end();
