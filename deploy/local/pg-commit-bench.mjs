// Benchmark (not a test): PostgreSQL's CPU per small transaction, for comparing server settings of a
// cluster of your own (e.g. `SMSHUB_LOCAL_DIR=/tmp/pgx SMSHUB_PG_DURABLE=1 deploy/local/postgres.sh start`).
//   node deploy/local/pg-commit-bench.mjs URL POSTMASTER_PID [clients=8] [seconds=15] [rate=0]
// `clients` connections each run single-statement transactions (an INSERT of a ~200-byte row, the hub's
// typical write: its own commit and WAL flush) one after another; `rate` > 0 paces them (transactions per
// second, all clients together), 0 runs them flat out. Prints transactions per second and the CPU of the
// whole cluster (postmaster and all its children: backends, WAL writer, checkpointer...) per transaction,
// from /proc. Settings to compare are set with ALTER SYSTEM + pg_reload_conf() between runs.
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

const [url, pmPid, clientsArg = '8', secondsArg = '15', rateArg = '0'] = process.argv.slice(2);
if (!url || !pmPid) {
  console.error('usage: node deploy/local/pg-commit-bench.mjs URL POSTMASTER_PID [clients] [seconds] [rate]');
  process.exit(2);
}
const clients = Number(clientsArg);
const seconds = Number(secondsArg);
const rate = Number(rateArg);

/** CPU ticks of the postmaster and every process whose parent it is. */
function clusterTicks() {
  let total = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (d === pmPid || f[1] === pmPid)
        total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // exited
    }
  }
  return total;
}

const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(
  'CREATE TABLE IF NOT EXISTS commit_bench (id bigserial PRIMARY KEY, message_id uuid NOT NULL, body text NOT NULL)',
);
const settings = await admin.query(
  `SELECT name, setting FROM pg_settings WHERE name IN
   ('fsync','synchronous_commit','full_page_writes','commit_delay','commit_siblings','wal_buffers','wal_writer_delay','shared_buffers') ORDER BY name`,
);
const pool = [];
for (let i = 0; i < clients; i++) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  pool.push(c);
}
const body = 'x'.repeat(160);
let done = 0;
let stop = false;
const perClientInterval = rate > 0 ? (1000 * clients) / rate : 0;
async function worker(c) {
  let next = performance.now();
  while (!stop) {
    await c.query('INSERT INTO commit_bench (message_id, body) VALUES (gen_random_uuid(), $1)', [body]);
    done++;
    if (perClientInterval) {
      next += perClientInterval;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
}
const workers = pool.map(worker);
await new Promise((r) => setTimeout(r, 2000)); // warm-up
const load0 = loadavg()[0];
const t0 = clusterTicks();
const d0 = done;
const w0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const t1 = clusterTicks();
const n = done - d0;
const wall = (performance.now() - w0) / 1000;
stop = true;
await Promise.all(workers);
for (const c of pool) await c.end();
await admin.query('TRUNCATE commit_bench');
await admin.end();
console.log(
  `${Math.round(n / wall)} tx/s, ${Math.round(((t1 - t0) * 10_000) / n)} cluster CPU-us per transaction ` +
    `(${clients} clients, ${seconds} s, load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}); ` +
    settings.rows.map((r) => `${r.name}=${r.setting}`).join(' '),
);
