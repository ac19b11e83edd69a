// Benchmark: rated messages per second through Kafka into CDRs in Postgres and records on the rated topic.
// Run (needs KAFKA_BROKERS and DATABASE_URL, e.g. `set -a; . .local/env; set +a`):
//   npx tsx --conditions=@smshub/source services/rating/bench/rated-bench.ts [messages=20000] [backlog|live|hub|hub-backlog] [rate=2000]
// backlog: every event is in the topics before rating starts (large batches); live: the events are produced
// at `rate` per second while rating runs, as in the running hub (small batches, where the per-batch
// statements and requests weigh). backlog and live: one event per message, half submit-billed dispatches,
// half delivery-billed final deliveries. hub (paced at `rate` messages per second) and hub-backlog: the
// hub's shape, every message a dispatch (billed on submit, as the demo account) and its final delivery
// 300 messages later, which finds the message rated. Also prints the CPU of the Postgres backends serving the bench's
// database per message (from /proc: Postgres runs on this machine) and this process's peak RSS.
// The progress probe's own backend is not counted, nor sessions of another user (a monitor's). RATING_BENCH_MAX_S (300) bounds the rating phase.
// Creates its own topics and database and removes them at the end. Prints figures; not a test.

import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { TypedConsumer, TypedProducer, createKafka } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { produceEvent, stepsOf } from './produce-events.js';
import { createRating, type RatingTopics } from '../src/rating.js';
import { costLines, countStatements, profileTo, snapshot } from '@smshub/testing';

const N = Number(process.argv[2] ?? 20_000);
const modeArg = process.argv[3] ?? 'backlog';
if (!['backlog', 'live', 'hub', 'hub-backlog'].includes(modeArg)) throw new Error(`unknown mode ${modeArg}`);
const hubShape = modeArg.startsWith('hub');
const mode = modeArg === 'live' || modeArg === 'hub' ? 'live' : 'backlog';
const liveRate = Number(process.argv[4] ?? 2000);
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is required');

const suffix = `${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
const logger = createLogger({ service: 'rated-bench', level: 'warn' });
const kafka = createKafka({ brokers, clientId: `rated-bench-${suffix}` }, logger);

const topics: RatingTopics = {
  dispatched: { ...registry.dispatched, name: `bench_dispatched_${suffix}` },
  delivery: { ...registry.delivery, name: `bench_delivery_${suffix}` },
  inbound: { ...registry.inbound, name: `bench_inbound_${suffix}` },
  rated: { ...registry.rated, name: `bench_rated_${suffix}` },
  balances: { ...registry.balances, name: `bench_balances_${suffix}` },
  configChanges: { ...registry.configChanges, name: `bench_config_${suffix}` },
};

const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: Object.values(topics).map((t) => ({
    topic: t.name,
    numPartitions: t.partitions,
    replicationFactor: 1,
  })),
});

const dbName = `rated_bench_${suffix}`;
const adminDb = new pg.Client({ connectionString: adminUrl });
await adminDb.connect();
await adminDb.query(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const pool = createPool({ connectionString: url.toString(), max: 10 });
// RATING_BENCH_SKIP=0502,...: leaves those migrations out (a before/after pair of a migration, alternated)
const skip = (process.env['RATING_BENCH_SKIP'] ?? '').split(',').filter(Boolean);
const migrations = await mkdtemp(path.join(tmpdir(), 'rated-bench-migrations-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
  if (f.endsWith('.sql') && !skip.some((v) => f.startsWith(`${v}_`)))
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrations, f));
await migrate(pool, { dir: migrations });
await rm(migrations, { recursive: true, force: true });
const accountSubmit = randomUUID();
const accountDelivery = randomUUID();
const hash = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA';
await pool.query(`INSERT INTO rating_price_plans (id) VALUES ('p')`);
await pool.query(
  `INSERT INTO accounts (id, system_id, password_hash, charge_on, currency, price_plan_id)
   VALUES ($1, 'a1', $3, 'submit', 'EUR', 'p'), ($2, 'a2', $3, 'delivery', 'EUR', 'p')`,
  [accountSubmit, accountDelivery, hash],
);
// ~10,000 rates so the index is not trivially small
const rates: string[] = [];
for (let i = 0; i < 5000; i++) {
  rates.push(`('s${i}', 'plan', 'p', '49${i}', 10000 + ${i}, 'EUR')`);
  rates.push(`('b${i}', 'connector', 'con_a', '49${i}', 5000 + ${i}, 'EUR')`);
}
await pool.query(
  `INSERT INTO rating_rates (id, owner_kind, owner_id, prefix, price_amount, currency, effective_from)
   SELECT v.id, v.k, v.o, v.p, v.a, v.c, '2025-01-01' FROM (VALUES ${rates.join(',')}) AS v(id, k, o, p, a, c)`,
);
await pool.query(`INSERT INTO rating_connectors VALUES ('con_a', 'sup_1', 'submit')`);

const producer = new TypedProducer(kafka, logger, { maxBatchRecords: 1000, lingerMs: 5 });
await producer.connect();

let t0 = performance.now();
const load = { accountSubmit, accountDelivery, messages: N, hub: hubShape };
if (mode === 'backlog') {
  const sends: Promise<void>[] = [];
  for (let i = 0; i < stepsOf(load); i++) sends.push(produceEvent(producer, topics, load, i));
  await Promise.all(sends);
}
const produceS = (performance.now() - t0) / 1000;

/** The progress probe's backend: its count(*) grows with the table and is the bench's, not rating's. */
let probePid = -1;
/** utime + stime (µs) of the Postgres backends connected to the bench's database, by pid. */
async function backendCpu(): Promise<Map<number, number>> {
  const { rows } = await adminDb.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2 AND usename = current_user',
    [dbName, probePid],
  );
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').at(-1)!.trim().split(/\s+/);
      cpu.set(pid, (Number(f[11]) + Number(f[12])) * 10_000); // fields 14 and 15, USER_HZ = 100
    } catch {
      // the backend has exited
    }
  }
  return cpu;
}

const consumers: TypedConsumer[] = [];
const rating = createRating({
  options: {
    replicaId: suffix,
    groupId: `rated-bench-${suffix}`,
    balancePublishIntervalMs: 500,
    reloadIntervalMs: 600_000,
    grpcPort: null,
  },
  logger,
  pool,
  kafka,
  producer,
  consumer: async (o) => {
    const c = new TypedConsumer(kafka, logger, { ...o, producer });
    consumers.push(c);
    return c;
  },
  topics,
});
const counter = countStatements(pool);
t0 = performance.now();
await rating.start();
const startS = (performance.now() - t0) / 1000;

// the progress probe has its own connection, so the statement count is rating's alone
const probe = createPool({ connectionString: url.toString(), max: 1, idleTimeoutMs: 0 });
probePid = (await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
// RATING_BENCH_PROFILE=<file>: a CPU profile of the measured phase
const stopProfile = await profileTo(process.env['RATING_BENCH_PROFILE']);
const before = snapshot(counter);
const pgBefore = await backendCpu();
t0 = performance.now();
// live: the events come from a child process, so this process's CPU is rating's alone
const live =
  mode === 'live'
    ? new Promise<number | null>((resolve) =>
        // a bundle of this bench (to compare builds) forks a bundle of the load next to it
        fork(
          fileURLToPath(
            new URL(`./produce-events.${import.meta.url.endsWith('.mjs') ? 'mjs' : 'ts'}`, import.meta.url),
          ),
          [
            JSON.stringify({
              ...load,
              brokers,
              dispatched: topics.dispatched.name,
              delivery: topics.delivery.name,
              rate: liveRate,
            }),
          ],
        ).on('exit', resolve),
      )
    : Promise.resolve(0);
const { ratingMetrics } = await import('../src/metrics.js');
/** Events that found their message rated (the hub shape's final deliveries). */
async function alreadyRated(): Promise<number> {
  const m = await ratingMetrics.skipped.get();
  return m.values.find((v) => v.labels['reason'] === 'already-rated')?.value ?? 0;
}
let cdrs = 0;
while (cdrs < N || (hubShape && (await alreadyRated()) < N)) {
  await new Promise((r) => setTimeout(r, 100));
  const r = await probe.query<{ n: string }>(
    'SELECT ((SELECT count(*) FROM rating_cdrs) - (SELECT count(*) FROM rating_cdrs_unpublished))::text AS n',
  );
  cdrs = Number(r.rows[0]!.n);
  if (performance.now() - t0 > Number(process.env['RATING_BENCH_MAX_S'] ?? 300) * 1000) break;
}
const rateS = (performance.now() - t0) / 1000;
const after = snapshot(counter);
if ((await live) !== 0) throw new Error('the load process failed');
let pgUs = 0;
for (const [pid, us] of await backendCpu()) pgUs += us - (pgBefore.get(pid) ?? 0);
await stopProfile();
await probe.end();
const ratedOffsets = await admin.fetchTopicOffsets(topics.rated.name);
const onTopic = ratedOffsets.reduce((s, p) => s + Number(p.high), 0);
const bal = await pool.query<{ account_id: string; balance_minor: string }>(
  'SELECT account_id, balance_minor::text FROM rating_balances',
);

console.log(
  `messages:                 ${N} ` +
    (hubShape
      ? '(each a submit-billed dispatch and its final delivery), '
      : '(half submit-billed dispatches, half delivery-billed final deliveries), ') +
    (mode === 'live'
      ? `produced at ${liveRate} ${hubShape ? 'messages' : 'events'}/s while rating runs`
      : 'all in the topics before rating starts'),
);
console.log(`produced to Kafka in:     ${produceS.toFixed(2)} s`);
console.log(`rating start (incl. load of ${10_000} rates): ${startS.toFixed(2)} s`);
console.log(
  `CDRs written + published: ${cdrs} in ${rateS.toFixed(2)} s -> ${Math.round(cdrs / rateS)} rated messages/s`,
);
console.log(`records on billing.rated: ${onTopic}`);
// Row versions written per CDR: an update that is not HOT adds an entry to every index of the table.
const tableStats = await pool.query<Record<string, string>>(
  `SELECT relname, n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_hot_upd::text AS hot,
          n_tup_del::text AS del
     FROM pg_stat_user_tables WHERE relname LIKE 'rating_cdrs%' OR relname LIKE 'rating_balance%' ORDER BY relname`,
);
for (const t of tableStats.rows) {
  console.log(
    `table ${t['relname']}: inserted ${t['ins']}, updated ${t['upd']} (HOT ${t['hot']}), deleted ${t['del']}`,
  );
}
console.log(
  `balances:                 ${bal.rows.map((r) => `${r.account_id.slice(0, 8)}=${r.balance_minor}`).join(' ')}`,
);
const hist = await ratingMetrics.cdrWrite.get();
const count = hist.values.find((v) => v.metricName === 'smshub_rating_cdr_write_seconds_count')?.value ?? 0;
const sum = hist.values.find((v) => v.metricName === 'smshub_rating_cdr_write_seconds_sum')?.value ?? 0;
console.log(
  `CDR transactions:         ${count}, mean ${((sum / Math.max(count, 1)) * 1000).toFixed(1)} ms, mean batch ${Math.round(cdrs / Math.max(count, 1))} CDRs`,
);

for (const line of costLines(before, after, cdrs)) console.log(line);
console.log(
  `Postgres backends:        ${Math.round(pgUs / cdrs)} CPU-µs per message (the bench database's connections)`,
);
console.log(`peak RSS of this process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);

await rating.stop();
await producer.close();
await pool.end();
await adminDb.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
await adminDb.end();
await admin.deleteTopics({ topics: Object.values(topics).map((t) => t.name) });
await admin
  .deleteGroups([`rated-bench-${suffix}`, `rated-bench-${suffix}-config-${suffix}`])
  .catch(() => undefined);
await admin.disconnect();
