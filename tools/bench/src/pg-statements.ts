// PostgreSQL's cost per message of one component bench, statement by statement (issue 17).
//
// Runs a bench command against a PostgreSQL cluster of your own that loads pg_stat_statements (never the
// shared one: this resets its statistics), and prints per message: each statement's calls, rows, time,
// WAL bytes and blocks dirtied, the transactions committed (pg_stat_database, sampled while the bench's
// databases exist), the WAL written and flushed (pg_stat_wal: records, full-page images, bytes, syncs) and
// the CPU of the whole cluster (postmaster, its children, and the children it reaped) from /proc.
//
//   npx tsx tools/bench/src/pg-statements.ts --url postgres://postgres@127.0.0.1:PORT/smshub \
//     --messages 7000 [--small 1000] [--top 25] [--json out.json] -- npx tsx --conditions=@smshub/source \
//     services/...bench.ts {N} ...
//
// `{N}` in the command is replaced by the message count. With `--small S` the bench runs twice, with S and
// then with --messages messages, and the figures printed are the difference divided by the difference in
// messages: the marginal cost of a message, without the bench's fixed work (CREATE/DROP DATABASE, the
// migrations, the topics, the warm-up).
//
// The bench runs with DATABASE_URL = --url with the user `smshub` (--bench-user), so only its statements
// are counted (this tool's own queries run as the user of --url). The cluster must run with
// `shared_preload_libraries=pg_stat_statements` (and `pg_stat_statements.track=all` to see the statements
// inside functions and triggers); docs/performance.md "PostgreSQL per statement" says how it was started.
// Prints figures; not a test.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';

interface Options {
  url: string;
  benchUser: string;
  messages: number;
  top: number;
  json: string | undefined;
  /** With `{N}` in the command: a first run with this many messages, subtracted from the second's. */
  small: number | undefined;
  command: string[];
}

function parseArgs(argv: string[]): Options {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1)
    throw new Error('usage: pg-statements.ts --url URL --messages N -- <command...>');
  const own = argv.slice(0, dash);
  const get = (name: string): string | undefined => {
    const i = own.indexOf(name);
    return i >= 0 ? own[i + 1] : undefined;
  };
  const url = get('--url');
  if (!url) throw new Error('--url is required (a cluster of your own with pg_stat_statements loaded)');
  const messages = Number(get('--messages'));
  if (!Number.isFinite(messages) || messages <= 0) throw new Error('--messages N (> 0) is required');
  return {
    url,
    benchUser: get('--bench-user') ?? 'smshub',
    messages,
    top: Number(get('--top') ?? 25),
    json: get('--json'),
    small: get('--small') === undefined ? undefined : Number(get('--small')),
    command: argv.slice(dash + 1),
  };
}

const TICKS_PER_SECOND = 100;

/** utime+stime of a process and, when `children`, of the children it waited for (cutime+cstime). */
function ticks(pid: number, children: boolean): { ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const own = Number(rest[11]) + Number(rest[12]);
    return { ppid: Number(rest[1]), ticks: children ? own + Number(rest[13]) + Number(rest[14]) : own };
  } catch {
    return undefined;
  }
}

/** CPU ticks of the cluster: the postmaster with its reaped children, and every live child. */
function clusterTicks(postmaster: number): number {
  let sum = ticks(postmaster, true)?.ticks ?? 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === postmaster) continue;
    const t = ticks(pid, false);
    if (t && t.ppid === postmaster) sum += t.ticks;
  }
  return sum;
}

interface Wal {
  wal_records: string;
  wal_fpi: string;
  wal_bytes: string;
  wal_write: string;
  wal_sync: string;
}

interface Statement {
  queryid: string;
  query: string;
  calls: number;
  rows: number;
  total_ms: number;
  wal_bytes: number;
  wal_records: number;
  wal_fpi: number;
  blks_dirtied: number;
  blks_hit: number;
  blks_read: number;
}

interface Run {
  messages: number;
  seconds: number;
  code: number;
  load: [string, string];
  cpuUs: number;
  commits: number;
  wal: Record<keyof Wal, number>;
  statements: Statement[];
}

const opts = parseArgs(process.argv.slice(2));
const admin = new pg.Client({ connectionString: opts.url });
await admin.connect();
await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
const dataDir = (await admin.query<{ d: string }>(`SELECT current_setting('data_directory') AS d`)).rows[0]!
  .d;
const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
const settings = (
  await admin.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','wal_sync_method','commit_delay','shared_buffers')`,
  )
).rows;
const ownDb = (await admin.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
const benchUrl = new URL(opts.url);
benchUrl.username = opts.benchUser;
benchUrl.password = '';

async function xacts(): Promise<Map<string, number>> {
  const { rows } = await admin.query<{ datname: string; c: string }>(
    'SELECT datname, xact_commit AS c FROM pg_stat_database WHERE datname IS NOT NULL',
  );
  return new Map(rows.map((r) => [r.datname, Number(r.c)]));
}

async function run(messages: number): Promise<Run> {
  const command = opts.command.map((a) => a.replaceAll('{N}', String(messages)));
  // Transactions committed per database: a bench creates its database and drops it at the end, so the
  // counters are sampled while it runs and the last reading of each database is kept.
  const xactBefore = await xacts();
  const xactLast = new Map<string, number>();
  await admin.query('SELECT pg_stat_statements_reset()');
  await admin.query(`SELECT pg_stat_reset_shared('wal')`);
  const walBefore = (await admin.query<Wal>('SELECT * FROM pg_stat_wal')).rows[0]!;
  const cpuBefore = clusterTicks(postmaster);
  const load0 = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const t0 = Date.now();
  const child = spawn(command[0]!, command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, DATABASE_URL: benchUrl.toString() },
  });
  let sampling = false;
  const sample = async (): Promise<void> => {
    for (const [db, c] of await xacts()) xactLast.set(db, c);
  };
  const sampler = setInterval(() => {
    if (sampling) return;
    sampling = true;
    sample()
      .catch(() => undefined)
      .finally(() => (sampling = false));
  }, 500);
  const code: number = await new Promise((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  clearInterval(sampler);
  await sample();
  const seconds = (Date.now() - t0) / 1000;
  const cpuAfter = clusterTicks(postmaster);
  const walAfter = (await admin.query<Wal>('SELECT * FROM pg_stat_wal')).rows[0]!;
  const load1 = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  let commits = 0;
  for (const [db, c] of xactLast) if (db !== ownDb) commits += c - (xactBefore.get(db) ?? 0);
  const statements = (
    await admin.query<Statement>(
      `SELECT queryid::text AS queryid, regexp_replace(query, '\\s+', ' ', 'g') AS query, calls::float8 AS calls,
              rows::float8 AS rows, total_exec_time + total_plan_time AS total_ms, wal_bytes::float8 AS wal_bytes,
              wal_records::float8 AS wal_records, wal_fpi::float8 AS wal_fpi,
              shared_blks_dirtied::float8 AS blks_dirtied, shared_blks_hit::float8 AS blks_hit,
              shared_blks_read::float8 AS blks_read
         FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
        WHERE r.rolname = $1`,
      [opts.benchUser],
    )
  ).rows;
  const wal = {} as Record<keyof Wal, number>;
  for (const k of Object.keys(walBefore) as (keyof Wal)[]) {
    if (k in walAfter && !Number.isNaN(Number(walAfter[k])))
      wal[k] = Number(walAfter[k]) - Number(walBefore[k]);
  }
  return {
    messages,
    seconds,
    code,
    load: [load0, load1],
    cpuUs: ((cpuAfter - cpuBefore) / TICKS_PER_SECOND) * 1e6,
    commits,
    wal,
    statements,
  };
}

/** b - a, statement by statement (by queryid): the cost of b's extra messages. */
function minus(b: Run, a: Run): Run {
  const before = new Map(a.statements.map((s) => [s.queryid, s]));
  const keys = [
    'calls',
    'rows',
    'total_ms',
    'wal_bytes',
    'wal_records',
    'wal_fpi',
    'blks_dirtied',
    'blks_hit',
    'blks_read',
  ] as const;
  const wal = {} as Record<keyof Wal, number>;
  for (const k of Object.keys(b.wal) as (keyof Wal)[]) wal[k] = b.wal[k] - (a.wal[k] ?? 0);
  return {
    messages: b.messages - a.messages,
    seconds: b.seconds - a.seconds,
    code: b.code || a.code,
    load: [a.load[0], b.load[1]],
    cpuUs: b.cpuUs - a.cpuUs,
    commits: b.commits - a.commits,
    wal,
    statements: b.statements.map((s) => {
      const o = before.get(s.queryid);
      const d = { ...s };
      if (o) for (const k of keys) d[k] = s[k] - o[k];
      return d;
    }),
  };
}

const runs: Run[] = [];
if (opts.small !== undefined) runs.push(await run(opts.small));
runs.push(await run(opts.messages));
await admin.end();
const result = runs.length === 2 ? minus(runs[1]!, runs[0]!) : runs[0]!;

const n = result.messages;
const per = (x: number, digits = 3): string => (x / n).toFixed(digits);
const statements = [...result.statements].sort((x, y) => y.total_ms - x.total_ms);
const sum = (f: (s: Statement) => number): number => statements.reduce((acc, s) => acc + f(s), 0);

const lines: string[] = [];
lines.push('');
lines.push(
  runs.length === 2
    ? `## PostgreSQL per message: ${opts.messages} minus ${opts.small} messages (${runs.map((r) => `${r.seconds.toFixed(1)} s`).join(', ')}; exit ${result.code})`
    : `## PostgreSQL per message (${n} messages, ${result.seconds.toFixed(1)} s, exit ${result.code})`,
);
lines.push(`command: ${opts.command.join(' ')}`);
lines.push(`settings: ${settings.map((s) => `${s.name}=${s.setting}`).join(', ')}`);
lines.push(`load average before → after: ${result.load[0]} → ${result.load[1]}`);
lines.push('');
lines.push('| per message | value |');
lines.push('| --- | --- |');
lines.push(`| cluster CPU-µs (every PostgreSQL process) | ${per(result.cpuUs, 1)} |`);
lines.push(`| statements (calls, utility included) | ${per(sum((s) => s.calls))} |`);
lines.push(`| statement time, µs (exec + plan) | ${per(sum((s) => s.total_ms) * 1000, 1)} |`);
lines.push(`| transactions committed | ${per(result.commits)} |`);
lines.push(
  `| WAL records, full-page images | ${per(result.wal.wal_records, 2)}, ${per(result.wal.wal_fpi, 3)} |`,
);
lines.push(`| WAL bytes | ${per(result.wal.wal_bytes, 0)} |`);
lines.push(
  `| WAL writes, WAL syncs (fdatasync) | ${per(result.wal.wal_write)}, ${per(result.wal.wal_sync)} |`,
);
lines.push('');
lines.push('| calls | rows | µs | WAL B | WAL fpi | dirtied | statement |');
lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const s of statements.slice(0, opts.top)) {
  lines.push(
    `| ${per(s.calls)} | ${per(s.rows)} | ${per(s.total_ms * 1000, 1)} | ${per(s.wal_bytes, 0)} | ${per(s.wal_fpi, 3)} | ${per(s.blks_dirtied, 3)} | ${s.query.slice(0, 140).replace(/\|/g, '\\|')} |`,
  );
}
console.log(lines.join('\n'));
if (opts.json) writeFileSync(opts.json, JSON.stringify({ settings, runs, result }, null, 2));
process.exit(result.code);
