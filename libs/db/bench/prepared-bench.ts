// PostgreSQL's CPU per statement, unnamed (node-pg's default) against named prepared statements
// (createPool's PreparingClient), for statements shaped like the hub's hot ones (issue 17). Reads the CPU of
// the backend serving the connection from /proc, so PostgreSQL must run on this machine.
//   DATABASE_URL=... npx tsx --conditions=@smshub/source libs/db/bench/prepared-bench.ts [calls=2000] [rows=20] [rounds=5]
// Alternates rounds (unnamed, named) on two pools of one connection each; prints the median backend
// CPU-µs per call of each statement and way. Creates its own database and drops it. Prints figures; not a test.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { createPool } from '../src/index.js';

const calls = Number(process.argv[2] ?? 2000);
const rows = Number(process.argv[3] ?? 20);
const rounds = Number(process.argv[4] ?? 5);
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is required');

const dbName = `prepared_bench_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;

function backendTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

// ingress_message_state's shape and its accepted-state upsert (services/ingress/src/receipt-store.ts)
const SETUP = `CREATE TABLE state (
  system_id text NOT NULL, customer_message_id text NOT NULL, message_id uuid NOT NULL,
  message_state smallint NOT NULL, final_date timestamptz, error_code smallint NOT NULL DEFAULT 0,
  revision integer NOT NULL, expires_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system_id, customer_message_id)) WITH (fillfactor = 50)`;
const UPSERT = `INSERT INTO state (system_id, customer_message_id, message_id, message_state, final_date,
     error_code, revision, expires_at)
   SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::smallint[], $5::timestamptz[], $6::smallint[],
     $7::integer[], $8::timestamptz[])
   ON CONFLICT (system_id, customer_message_id) DO UPDATE
     SET message_state = EXCLUDED.message_state, final_date = EXCLUDED.final_date,
         error_code = EXCLUDED.error_code, revision = EXCLUDED.revision, updated_at = now()
   WHERE state.revision < EXCLUDED.revision`;
const LOOKUP = `SELECT message_id::text, message_state, final_date, error_code FROM state
   WHERE system_id = $1 AND customer_message_id = $2`;

const setup = new pg.Client({ connectionString: url.toString() });
await setup.connect();
await setup.query(SETUP);
await setup.end();

let seq = 0;
function upsertParams(): unknown[] {
  const ids = Array.from({ length: rows }, () => `c${seq++}`);
  const now = new Date().toISOString();
  return [
    ids.map(() => 'sys'),
    ids,
    ids.map(() => randomUUID()),
    ids.map(() => 1),
    ids.map(() => null),
    ids.map(() => 0),
    ids.map(() => 0),
    ids.map(() => now),
  ];
}

const ways = { unnamed: false, named: true } as const;
const pools = Object.fromEntries(
  Object.entries(ways).map(([k, prepared]) => [
    k,
    createPool({ connectionString: url.toString(), max: 1, preparedStatements: prepared }),
  ]),
) as Record<keyof typeof ways, pg.Pool>;
const pids: Record<string, number> = {};
for (const [k, pool] of Object.entries(pools))
  pids[k] = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

const results: Record<string, number[]> = {};
const load0 = loadavg().map((l) => l.toFixed(1));
for (let r = 0; r < rounds; r++) {
  for (const way of Object.keys(ways) as (keyof typeof ways)[]) {
    const pool = pools[way];
    for (const [what, run] of [
      ['upsert', () => pool.query(UPSERT, upsertParams())],
      ['lookup', () => pool.query(LOOKUP, ['sys', `c${seq % 1000}`])],
    ] as const) {
      const t0 = backendTicks(pids[way]!);
      for (let i = 0; i < calls; i++) await run();
      const us = ((backendTicks(pids[way]!) - t0) / 100 / calls) * 1e6;
      (results[`${what} ${way}`] ??= []).push(us);
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `backend CPU-µs per call, median of ${rounds} alternated rounds of ${calls} calls (upsert of ${rows} rows; load ${load0.join(' ')} → ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
for (const [k, xs] of Object.entries(results))
  console.log(
    `${k.padEnd(16)} ${median(xs).toFixed(1).padStart(7)}   (${xs.map((x) => x.toFixed(0)).join(', ')})`,
  );
for (const pool of Object.values(pools)) await pool.end();
await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
await admin.end();
