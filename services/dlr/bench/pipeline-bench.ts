// Benchmark: messages per second through the whole dlr service (submitted + routed + dispatch + receipt per
// message -> join -> dlr.parts.v1 -> aggregation -> sms.delivery.v1, with the Postgres store).
// Run (needs KAFKA_BROKERS and DATABASE_URL, e.g. `set -a; . .local/env; set +a`):
//   npx tsx --conditions=@smshub/source services/dlr/bench/pipeline-bench.ts [messages=5000] [backlog|paced] [rate=1200]
// backlog: the load is produced as fast as possible (large batches); paced: at `rate` messages per second
// (4 records each), as in the running hub, where fetches return small batches and the per-batch
// statements weigh more.
// Creates its own topics (6 partitions, like production) and database and removes them at the end.
// Prints figures; not a test.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { constants as perfConstants, performance, PerformanceObserver } from 'node:perf_hooks';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { AsyncLocalStorage } from 'node:async_hooks';
import { topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { createDlr } from '../src/dlr.js';
import {
  FETCH_MAX_WAIT_MS_DEFAULT,
  RECEIPT_HOLD_MS_DEFAULT,
  FETCH_MIN_BYTES_DEFAULT,
  HEAP_GROWING_PERCENT_DEFAULT,
  MAX_MESSAGES_IN_MEMORY_DEFAULT,
} from '../src/config.js';
import type { DlrTopics } from '../src/topics.js';
import { costLines, countStatements, profileTo, snapshot } from '@smshub/testing';
import { PgCpu } from './pg-cpu.js';
import { heldTotal, parkedTotal } from '../src/metrics.js';
import { tuneHeapGrowth } from '../src/heap.js';

async function heapProfileTo(file: string | undefined): Promise<() => Promise<void>> {
  if (!file) return () => Promise.resolve();
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}

const N = Number(process.argv[2] ?? 5_000);
const mode = process.argv[3] === 'paced' ? 'paced' : 'backlog';
const rate = Number(process.argv[4] ?? 1_200);
// DLR_BENCH_RECEIPT_LAG_MS: each receipt is produced this long after its message's other records (paced
// mode), as in the hub, where it follows the dispatch; 0 = all four at once (receipts often overtake
// their dispatch and are parked)
const receiptLagMs = Number(process.env['DLR_BENCH_RECEIPT_LAG_MS'] ?? 0);
// DLR_BENCH_RECEIPT_AFTER_ACK=1: each receipt is produced as soon as its dispatch's produce is acknowledged
// (the hub with an instant supplier: the receipt follows the dispatch at once, often in the same fetch)
const receiptAfterAck = process.env['DLR_BENCH_RECEIPT_AFTER_ACK'] === '1';
// DLR_BENCH_RECEIPT_FIRST=1: each dispatch is produced once its receipt is acknowledged (egress publishes a
// dispatch after recording it in PostgreSQL, and a supplier's instant deliver_sm may be published first)
const receiptFirst = process.env['DLR_BENCH_RECEIPT_FIRST'] === '1';
// DLR_BENCH_DISPATCH_DELAY_MS=n (with DLR_BENCH_RECEIPT_FIRST=1): the dispatch is produced n ms after its
// receipt's ack, as egress publishes it after its PostgreSQL write commits (an fsync) while the supplier's
// deliver_sm came with the submit_sm_resp: the receipt often reaches dlr a fetch before its dispatch
const dispatchDelayMs = Number(process.env['DLR_BENCH_DISPATCH_DELAY_MS'] ?? 0);
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is required');

// as main.ts does (a no-op without a heap cap); DLR_HEAP_GROWING_PERCENT=0 leaves V8's own growth
const heapGrowingPercent = Number(process.env['DLR_HEAP_GROWING_PERCENT'] ?? HEAP_GROWING_PERCENT_DEFAULT);
const heapTuned = tuneHeapGrowth(heapGrowingPercent);

const suffix = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const logger = createLogger({ service: 'dlr-bench', level: 'warn' });
const kafka = createKafka({ brokers, clientId: `dlr-bench-${suffix}` }, logger);
const ids = [
  'submitted',
  'routed',
  'rejected',
  'dispatched',
  'receiptRaw',
  'partStatus',
  'delivery',
  'deliveryStats',
] as const;
const topics = Object.fromEntries(
  ids.map((id) => [id, { ...registry[id], name: `bench_dlr_${id}_${suffix}` }]),
) as unknown as DlrTopics;

const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  // kafkajs's own wait for the leaders fails the bench on a busy broker (UNKNOWN_TOPIC_OR_PARTITION while
  // the metadata spreads): wait here instead, retrying
  waitForLeaders: false,
  topics: Object.values(topics).map((t) => ({
    topic: t.name,
    numPartitions: t.partitions,
    replicationFactor: 1,
  })),
});
for (let attempt = 1; ; attempt++) {
  try {
    const meta = await admin.fetchTopicMetadata({ topics: Object.values(topics).map((t) => t.name) });
    if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) break;
  } catch (err) {
    if (attempt >= 60) throw err;
  }
  if (attempt >= 60) throw new Error('the bench topics have no leaders after 30 s');
  await new Promise((r) => setTimeout(r, 500));
}

const dbName = `dlr_bench_${suffix}`;
const adminPool = createPool({ connectionString: adminUrl, max: 1 });
await adminPool.query(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const pool = createPool({ connectionString: url.toString(), max: 10 });
const migrations = await mkdtemp(path.join(tmpdir(), 'dlr-bench-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
  if (/^(0001|04\d\d)_.*\.sql$/.test(f))
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrations, f));
}
await migrate(pool, { dir: migrations });
// DLR_BENCH_DROP_INDEXES=a,b: a diagnosis, not a setting: which of dlr_messages' indexes keep its updates
// from being HOT (PostgreSQL 15: an update that changes a column of an index, or of its predicate, is not)
for (const index of (process.env['DLR_BENCH_DROP_INDEXES'] ?? '').split(',').filter(Boolean))
  await pool.query(`DROP INDEX ${index.replace(/[^a-z_]/g, '')}`);

const producer = new TypedProducer(kafka, logger, { lingerMs: 5 });
await producer.connect();
const groupId = `bench-dlr-${suffix}`;
const consumers: TypedConsumer[] = [];
let joined: Promise<void> | undefined;
const dlr = createDlr({
  options: {
    grpcPort: 0,
    parkTtlMs: 300_000,
    defaultValidityMs: 48 * 3_600_000,
    expiryGraceMs: 600_000,
    retentionDays: 30,
    statsIntervalMs: 30_000,
    intermediateReceipts: false,
    sweepIntervalMs: 5_000,
    retentionIntervalMs: 3_600_000,
    maxMessagesInMemory: Number(process.env['DLR_MAX_MESSAGES_IN_MEMORY'] ?? MAX_MESSAGES_IN_MEMORY_DEFAULT),
    partitionConcurrency: Number(process.env['DLR_PARTITION_CONCURRENCY'] ?? 4),
    // DLR_FETCH_MIN_BYTES=1 DLR_FETCH_MAX_WAIT_MS=100: fetches answered at once (kafkajs's defaults)
    fetchMinBytes: Number(process.env['DLR_FETCH_MIN_BYTES'] ?? FETCH_MIN_BYTES_DEFAULT),
    fetchMaxWaitMs: Number(process.env['DLR_FETCH_MAX_WAIT_MS'] ?? FETCH_MAX_WAIT_MS_DEFAULT),
    idSetting: () => ({ format: 'auto' }),
    groupId,
    // DLR_DISPATCH_EVENT=timeline: an accepted dispatch's event in a dlr_timeline row, as before migration 0404
    dispatchEvent: process.env['DLR_DISPATCH_EVENT'] === 'timeline' ? 'timeline' : 'index',
    // DLR_RECEIPTS_AFTER_DISPATCHES=false: receipt batches do not wait for the dispatch batches in hand
    receiptsAfterDispatches: process.env['DLR_RECEIPTS_AFTER_DISPATCHES'] !== 'false',
    // DLR_RECEIPT_HOLD_MS=0: a receipt that finds no dispatch is parked at once (joiner.ts RECEIPT_HOLD)
    receiptHoldMs: Number(process.env['DLR_RECEIPT_HOLD_MS'] ?? RECEIPT_HOLD_MS_DEFAULT),
  },
  logger,
  producer,
  consumer: (o) => {
    const c = new TypedConsumer(kafka, logger, { ...o, producer });
    joined = c.waitForAssignment(60_000);
    consumers.push(c);
    return Promise.resolve(c);
  },
  pool,
  topics,
});

const counter = countStatements(pool);
// DLR_BENCH_STATEMENTS=1: round-trip time and calls per statement (by its first words), to see which
// statements the Postgres CPU goes to (pg_stat_statements is not loaded on the development cluster)
const statementTimes = new Map<string, { calls: number; ms: number; bytes: number }>();
const paramBytes = (values: unknown): number =>
  Array.isArray(values)
    ? values.reduce<number>(
        (a, v) =>
          a +
          (typeof v === 'string' ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : String(v).length),
        0,
      )
    : 0;
if (process.env['DLR_BENCH_STATEMENTS']) {
  const timed = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (timed.has(client)) return;
    timed.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = async (...args: unknown[]) => {
      // array literals written into the text (the locks sent with BEGIN) left out of the key
      const key = (typeof args[0] === 'string' ? args[0] : '')
        .replace(/\s+/g, ' ')
        .replace(/'\{[^}']*\}'/g, "'{…}'")
        .trim()
        .slice(0, 70);
      const t0 = performance.now();
      try {
        return await query(...args);
      } finally {
        const e = statementTimes.get(key) ?? { calls: 0, ms: 0, bytes: 0 };
        e.calls++;
        e.ms += performance.now() - t0;
        e.bytes += (typeof args[0] === 'string' ? args[0].length : 0) + paramBytes(args[1]);
        statementTimes.set(key, e);
      }
    };
  });
}
// DLR_BENCH_HOT=1: dlr_messages updates and HOT updates by the aggregation stage's entry point (submitted,
// routed, part states), read from pg_stat_xact_user_tables in each transaction just before its COMMIT
const hotBy = new Map<string, { upd: number; hot: number; ins: number; tx: number }>();
const stage = new AsyncLocalStorage<string>();
if (process.env['DLR_BENCH_HOT']) {
  const probed = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (probed.has(client)) return;
    probed.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    // the backend's counts not yet flushed (since its last flush, not only this transaction's): a difference
    const read = async (): Promise<number[]> => {
      const r = (await query(
        `SELECT n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_xact_user_tables
          WHERE relname = 'dlr_messages'`,
      )) as { rows: { ins: string; upd: string; hot: string }[] };
      const row = r.rows[0];
      return [Number(row?.ins ?? 0), Number(row?.upd ?? 0), Number(row?.hot ?? 0)];
    };
    let base: number[] | undefined;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = async (...args: unknown[]) => {
      const label = stage.getStore();
      const text = typeof args[0] === 'string' ? args[0] : '';
      if (label !== undefined && text === 'COMMIT' && base !== undefined) {
        const [ins = 0, upd = 0, hot = 0] = await read();
        const e = hotBy.get(label) ?? { upd: 0, hot: 0, ins: 0, tx: 0 };
        e.tx++;
        e.ins += ins - (base[0] ?? 0);
        e.upd += upd - (base[1] ?? 0);
        e.hot += hot - (base[2] ?? 0);
        hotBy.set(label, e);
        base = undefined;
      }
      const res = await query(...args);
      if (label !== undefined && text.startsWith('BEGIN')) base = await read();
      return res;
    };
  });
}
// Bytes this process writes to PostgreSQL (every pool client's socket): the statements' parameters
// (message rows, timeline payloads) are most of it, and the socket writes were ~15 % of dlr's profile
let pgBytes = 0;
let pgWrites = 0;
const countedSockets = new WeakSet<object>();
pool.on('connect', (client) => {
  const stream = (client as unknown as { connection?: { stream?: { write: (...a: unknown[]) => boolean } } })
    .connection?.stream;
  if (stream === undefined || countedSockets.has(stream)) return;
  countedSockets.add(stream);
  const write = stream.write.bind(stream);
  stream.write = (...args: unknown[]): boolean => {
    const chunk = args[0];
    if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) {
      pgBytes += Buffer.byteLength(chunk);
      pgWrites++;
    }
    return write(...args);
  };
});
// Rows deleted from dlr_parked_receipts (a claimed receipt's row): the statistics collector's count
async function claimCount(): Promise<number> {
  await pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  const r = await pool.query<{ n: string }>(
    `SELECT coalesce(sum(n_tup_del), 0) AS n FROM pg_stat_user_tables WHERE relname = 'dlr_parked_receipts'`,
  );
  return Number(r.rows[0]?.n ?? 0);
}
// Batches handed to each handler and their records: the per-batch statements are shared by these
const batches = new Map<string, { batches: number; records: number }>();
function countBatches<T>(owner: Record<string, unknown>, name: string, label: string): void {
  const handler = (owner[name] as (records: T[]) => Promise<void>).bind(owner);
  owner[name] = (records: T[]): Promise<void> => {
    const b = batches.get(label) ?? { batches: 0, records: 0 };
    b.batches++;
    b.records += records.length;
    batches.set(label, b);
    return handler(records);
  };
}
const joinerHandlers = dlr.joiner as unknown as Record<string, unknown>;
const aggregatorHandlers = dlr.aggregator as unknown as Record<string, unknown>;
if (process.env['DLR_BENCH_HOT']) {
  for (const name of ['onSubmitted', 'onRouted', 'applyParts', 'onParts']) {
    const f = (aggregatorHandlers[name] as (...a: unknown[]) => Promise<void>).bind(dlr.aggregator);
    aggregatorHandlers[name] = (...a: unknown[]) => stage.run(name, () => f(...a));
  }
}
countBatches(joinerHandlers, 'onDispatches', 'dispatched');
countBatches(joinerHandlers, 'onReceipts', 'receipt raw');
countBatches(aggregatorHandlers, 'onSubmitted', 'submitted');
countBatches(aggregatorHandlers, 'onRouted', 'routed');
countBatches(aggregatorHandlers, 'onParts', 'parts');
await dlr.start();
await joined;

// The load comes from a child process; this process runs dlr alone (and a probe of its progress).
const probe = createPool({ connectionString: url.toString(), max: 1 });
const finalRows = async (): Promise<number> =>
  Number((await probe.query<{ n: string }>('SELECT count(*) AS n FROM dlr_messages WHERE final')).rows[0]?.n);
// Progress: the records dlr has produced on sms.delivery.v1 (one final per message here, no intermediate
// notifications; a retried batch may add a copy), from the topic's end offsets: one ListOffsets request,
// no PostgreSQL work. Counting the final rows on every poll (a sequential scan of dlr_messages) was ~8 % of
// PostgreSQL's profile, so the PostgreSQL figure read ~15 % high. Those rows are counted only once the
// deliveries reach N, until all are written (a delivery is produced just before its row's commit).
const deliveriesProduced = async (): Promise<number> =>
  (await admin.fetchTopicOffsets(topics.delivery.name)).reduce((a, p) => a + Number(p.high), 0);
// DLR_BENCH_PROFILE=<file>: a CPU profile of the measured phase
const stopProfile = await profileTo(process.env['DLR_BENCH_PROFILE']);
// DLR_BENCH_HEAP_PROFILE=<file>: where the measured phase allocates (sampled every 16 KiB, objects the GC
// collected included: what drives the garbage collector, not what stays)
const stopHeapProfile = await heapProfileTo(process.env['DLR_BENCH_HEAP_PROFILE']);
// Garbage collections during the measured phase: count and main-thread pause by kind (minor = scavenge,
// major = mark-compact; V8's concurrent marking on helper threads is not in the pauses, only in the CPU)
const gcs = { minor: { n: 0, ms: 0 }, major: { n: 0, ms: 0 }, other: { n: 0, ms: 0 } };
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    const g =
      kind === perfConstants.NODE_PERFORMANCE_GC_MINOR
        ? gcs.minor
        : kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR
          ? gcs.major
          : gcs.other;
    g.n++;
    g.ms += e.duration;
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const pgBytesBefore = pgBytes;
const pgWritesBefore = pgWrites;
const parkedBefore = (await parkedTotal.get()).values[0]?.value ?? 0;
const heldBefore = (await heldTotal.get()).values[0]?.value ?? 0;
const claimsBefore = await claimCount();
const pgCpu = await PgCpu.forConnection((sql) => probe.query<{ pid: number }>(sql), dbName);
pgCpu.sample();
const before = snapshot(counter);
const start = performance.now();
const load = fork(fileURLToPath(new URL('./produce-load.ts', import.meta.url)), [
  JSON.stringify({
    brokers,
    submitted: topics.submitted.name,
    routed: topics.routed.name,
    dispatched: topics.dispatched.name,
    receiptRaw: topics.receiptRaw.name,
    messages: N,
    ...(mode === 'paced' ? { rate } : {}),
    ...(receiptLagMs > 0 ? { receiptLagMs } : {}),
    ...(receiptAfterAck ? { receiptAfterAck } : {}),
    ...(receiptFirst ? { dispatchAfterReceiptAck: true } : {}),
    ...(receiptFirst && dispatchDelayMs > 0 ? { dispatchDelayMs } : {}),
  }),
]);
let loadFailed = false; // the load gave up (e.g. Kafka did not acknowledge in time): stop waiting for rows
const loadDone = new Promise<number | null>((resolve) =>
  load.on('exit', (code) => {
    loadFailed = code !== 0;
    resolve(code);
  }),
);
let finalsSeen = 0;
let deliveriesSeen = 0;
let rowCounts = 0;
let polls = 0;
const memoryPeak = { heapTotal: 0, heapUsed: 0, external: 0 };
while (finalsSeen < N && !loadFailed && performance.now() - start < 600_000) {
  await new Promise((r) => setTimeout(r, 100));
  if (deliveriesSeen < N) deliveriesSeen = await deliveriesProduced();
  if (deliveriesSeen >= N) {
    finalsSeen = await finalRows();
    rowCounts++;
  }
  // a pass over /proc costs this process CPU: once a second is enough (backends outlive the phase)
  if (++polls % 10 === 0) pgCpu.sample();
  const m = process.memoryUsage();
  for (const k of ['heapTotal', 'heapUsed', 'external'] as const)
    memoryPeak[k] = Math.max(memoryPeak[k], m[k]);
}
const end = performance.now();
const pgBytesSent = pgBytes - pgBytesBefore;
const pgWritesSent = pgWrites - pgWritesBefore;
const after = snapshot(counter);
pgCpu.sample();
const pg = pgCpu.used();
gcObserver.disconnect();
await stopProfile();
await stopHeapProfile();
const produced = await loadDone;
// From the load's produce (the message id is a UUIDv7: its first 48 bits are the produce time in ms) to
// the final row's write (updated_at): the receipt's two hops through dlr, and any wait in a parked receipt
const latency = await pool.query<{ p50: number; p90: number; p99: number }>(
  `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
          percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90,
          percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
     FROM (SELECT extract(epoch FROM updated_at) * 1000
                  - ('x' || substr(replace(message_id::text, '-', ''), 1, 12))::bit(48)::bigint AS ms
             FROM dlr_messages WHERE final) AS t`,
);
const parked = await pool.query<{ n: string }>('SELECT count(*) AS n FROM dlr_parked_receipts');
const parkedRows = ((await parkedTotal.get()).values[0]?.value ?? 0) - parkedBefore;
const heldBatches = ((await heldTotal.get()).values[0]?.value ?? 0) - heldBefore;
const claims = (await claimCount()) - claimsBefore;
const rows = { rows: [{ n: String(finalsSeen) }] };
const deliveryOffsets = await admin.fetchTopicOffsets(topics.delivery.name);
const finals = deliveryOffsets.reduce((a, p) => a + Number(p.high), 0);

console.log(
  `messages: ${N} (4 input events each, 6 partitions per topic, one dlr instance), ` +
    (mode === 'paced' ? `produced at ${rate}/s` : 'produced as fast as possible'),
);
console.log(`load process exit code: ${produced}`);
console.log(
  `heap: limit ${Math.round(getHeapStatistics().heap_size_limit / 1048576)} MB, growth between full GCs ` +
    (heapTuned ? `${heapGrowingPercent} %` : "V8's own"),
);
console.log(
  `all final rows written: ${(end - start).toFixed(0)} ms -> ${((N / (end - start)) * 1000).toFixed(0)} messages/s`,
);
console.log(
  `final rows: ${rows.rows[0]?.n} (counted ${rowCounts} times); records on sms.delivery.v1: ${finals}; ` +
    `receipts still parked: ${parked.rows[0]?.n}`,
);
console.log(
  `receipts parked:            ${(parkedRows / N).toFixed(3)} per message (${parkedRows}); ` +
    `deleted from dlr_parked_receipts (claimed): ${claims}; ` +
    `receipt batches ended by a held receipt (RECEIPT_HOLD): ${heldBatches}`,
);
for (const line of costLines(before, after, N)) console.log(line);
const l = latency.rows[0];
if (l)
  console.log(
    `produce -> final row:       p50 ${l.p50.toFixed(0)} ms, p90 ${l.p90.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms`,
  );
console.log(
  `PostgreSQL CPU per message: ${(pg.backendsUs / N).toFixed(0)} µs in this database's backends, ` +
    `${(pg.auxiliaryUs / N).toFixed(0)} µs in the cluster's WAL writer, checkpointer, bgwriter and autovacuum (shared)`,
);
console.log(
  `bytes to PostgreSQL:        ${(pgBytesSent / N).toFixed(0)} per message ` +
    `(${((pgBytesSent / N) * (N / Math.max(1, pgWritesSent))).toFixed(0)} per socket write, ${(pgWritesSent / N).toFixed(2)} writes per message)`,
);
for (const [label, b] of batches)
  console.log(
    `batches, ${label.padEnd(12)} ${String(b.batches).padStart(6)}, ${(b.records / b.batches).toFixed(1)} records each`,
  );
const mb = (n: number): number => Math.round(n / 1024 / 1024);
console.log(
  `peak V8 heap (sampled):     ${mb(memoryPeak.heapTotal)} MB total, ${mb(memoryPeak.heapUsed)} MB used; external ${mb(memoryPeak.external)} MB`,
);
console.log(
  `garbage collections:        ${gcs.minor.n} minor (${gcs.minor.ms.toFixed(0)} ms paused), ${gcs.major.n} major ` +
    `(${gcs.major.ms.toFixed(0)} ms), ${gcs.other.n} other (${gcs.other.ms.toFixed(0)} ms); ` +
    `${(((gcs.minor.ms + gcs.major.ms + gcs.other.ms) * 1000) / N).toFixed(0)} µs paused per message`,
);
const status = readFileSync('/proc/self/status', 'utf8');
console.log(
  `peak RSS of this process:   ${Math.round(Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1]) / 1024)} MB`,
);

if (statementTimes.size > 0) {
  // round trips: every query sent (BEGIN and COMMIT included), per message and per batch handled
  const calls = [...statementTimes.values()].reduce((a, t) => a + t.calls, 0);
  const handled = [...batches.values()].reduce((a, b) => a + b.batches, 0);
  console.log(
    `round trips to PostgreSQL:  ${calls} (${(calls / N).toFixed(3)} per message, ${(calls / Math.max(1, handled)).toFixed(2)} per batch handled)`,
  );
}
for (const [key, t] of [...statementTimes].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
  console.log(
    `${t.ms.toFixed(0).padStart(7)} ms ${String(t.calls).padStart(6)} calls ${(t.bytes / N).toFixed(0).padStart(5)} B/msg  ${key}`,
  );
}
for (const [label, e] of hotBy)
  console.log(
    `dlr_messages by stage, ${label.padEnd(12)} ${e.tx} transactions: ${(e.ins / N).toFixed(2)} inserted, ` +
      `${(e.upd / N).toFixed(2)} updated (${(e.hot / N).toFixed(2)} HOT) per message`,
  );
// Rows written per message (the statistics collector's counters reach the view within a second or so)
await new Promise((r) => setTimeout(r, 1_500));
const tables = await pool.query<{ relname: string; ins: string; upd: string; hot: string }>(
  `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot
     FROM pg_stat_user_tables WHERE relname LIKE 'dlr_%' ORDER BY relname`,
);
for (const t of tables.rows) {
  const per = (n: string): string => (Number(n) / N).toFixed(2);
  console.log(
    `rows per message, ${t.relname.padEnd(20)} ${per(t.ins)} inserted, ${per(t.upd)} updated (${per(t.hot)} HOT)`,
  );
}

// the state is in state_json (compact) since migration 0402, in state (jsonb) before and with DLR_STATE_FORMAT=jsonb
const compactColumn = await pool.query(
  `SELECT 1 FROM information_schema.columns WHERE table_name = 'dlr_messages' AND column_name = 'state_json'`,
);
const stateSize =
  compactColumn.rowCount === 1
    ? 'coalesce(pg_column_size(m.state_json), pg_column_size(m.state))'
    : 'pg_column_size(m.state)';
if (process.env['DLR_BENCH_SAMPLE_STATE']) {
  const column = compactColumn.rowCount === 1 ? 'coalesce(state_json, state::json)' : 'state';
  const sample = await pool.query<{ state: unknown }>(
    `SELECT ${column} AS state FROM dlr_messages WHERE final LIMIT 1`,
  );
  console.log(`a final message's stored state: ${JSON.stringify(sample.rows[0]?.state)}`);
}
const sizes = await pool.query<{ row: string; state: string; context: string }>(
  `SELECT avg(pg_column_size(m.*))::int AS row, avg(${stateSize})::int AS state,
          avg(pg_column_size(m.context))::int AS context FROM dlr_messages m`,
);
const size = sizes.rows[0];
if (size) {
  console.log(
    `dlr_messages row size:      ${size.row} bytes on average (state ${size.state}, context ${size.context})`,
  );
}

const kinds = await pool.query<{ kind: string; rows: string; payload: number; row: number }>(
  `SELECT kind, count(*) AS rows, avg(octet_length(payload))::int AS payload, avg(pg_column_size(t.*))::int AS row
     FROM dlr_timeline t GROUP BY kind ORDER BY min(flow_order)`,
);
const indexSize = await pool.query<{ row: number; payload: number | null }>(
  `SELECT avg(pg_column_size(d.*))::int AS row, avg(octet_length(payload))::int AS payload FROM dlr_dispatch_index d`,
);
console.log(
  `dlr_dispatch_index row size: ${indexSize.rows[0]?.row} bytes on average (event payload ${indexSize.rows[0]?.payload ?? 'none'})`,
);
for (const k of kinds.rows) {
  console.log(
    `dlr_timeline ${k.kind.padEnd(11)} ${(Number(k.rows) / N).toFixed(2)} rows per message, ${k.row} bytes on average (payload ${k.payload})`,
  );
}

// What one row per message per transaction (packed timeline rows) would leave: the rows of a message written
// by one transaction share its xmin; "receipts with their delivery" counts a receipt row as written by the
// transaction that wrote the message's delivery (if the aggregation stage wrote it, as applyParts applies it).
// Only with DLR_BENCH_PACKING=1: the query costs PostgreSQL ~50 µs per message, which pg-statements.ts counts.
const packing = !process.env['DLR_BENCH_PACKING']
  ? undefined
  : await pool.query<{
      rows: string;
      packed: string;
      with_delivery: string;
    }>(
      `WITH t AS (SELECT message_id, kind, xmin::text AS tx FROM dlr_timeline),
        d AS (SELECT message_id, min(tx) AS tx FROM t WHERE kind = 'delivery' GROUP BY message_id)
   SELECT count(*) AS rows,
          count(DISTINCT (t.message_id, t.tx)) AS packed,
          count(DISTINCT (t.message_id, CASE WHEN t.kind = 'receipt' THEN coalesce(d.tx, t.tx) ELSE t.tx END))
            AS with_delivery
     FROM t LEFT JOIN d USING (message_id)`,
    );
const pk = packing?.rows[0];
if (pk) {
  const per = (n: string): string => (Number(n) / N).toFixed(2);
  console.log(
    `dlr_timeline packed by transaction: ${per(pk.rows)} rows per message now, ${per(pk.packed)} one per message and transaction, ${per(pk.with_delivery)} with receipts in their delivery's transaction`,
  );
}

await dlr.stop();
await Promise.all(consumers.map((c) => c.stop()));
await producer.close();
await pool.end();
await probe.end();
await adminPool.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
await adminPool.end();
await admin.deleteTopics({ topics: [...Object.values(topics).map((t) => t.name), `${groupId}.dlq`] });
await admin.disconnect();
await rm(migrations, { recursive: true, force: true });
