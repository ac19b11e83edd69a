// Benchmark (not a test): egress's whole path at a paced rate, as in the running hub, with receipts:
// routed consumed -> window -> submit_sm to the SMSC simulator -> sms.dispatched.v1 -> the simulator's
// DELIVRD deliver_sm -> sms.receipt.raw.v1, with the dedupe rows in PostgreSQL. This process runs egress
// only; the simulator, the load and the reader of dispatched/receipt records run in a child process
// (flow-driver.ts), so the CPU printed is egress's alone (the hub bench's "egress" line), per message.
//   set -a; . .local/env; set +a
//   NODE_OPTIONS=--max-old-space-size=192 npx tsx --conditions=@smshub/source services/egress/bench/flow.ts \
//     [messages=18000] [rate=600] [sessions=2] [window=50] [--profile out.cpuprofile] [--heap-profile out.heapprofile]
// EGRESS_FLOW_TELEMETRY=1: with the OpenTelemetry SDK started, as in the hub (see below).
// Prints egress's CPU-µs per message (whole run: load start to the last receipt), the PostgreSQL backends'
// CPU-µs and transactions per message, produce -> dispatched and produce -> receipt latencies, peak RSS
// and the load average before and after, and egress's Kafka requests per message by API. `--profile FILE` writes a V8
// CPU profile of the same window (wall-clock samples: time this process waited preempted counts too),
// `--heap-profile FILE` a sampling heap profile (allocation sites).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import {
  createKafka,
  TypedConsumer,
  TypedProducer,
  type BatchHandler,
  type ConsumerOptions,
  type TopicCodec,
} from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { startTelemetry } from '@smshub/telemetry';
import { ConnectorStore } from '../src/connector-store.js';
import { createEgressCore } from '../src/core.js';
import { retryStart } from '../test/retry-start.js';

const argv = process.argv.slice(2);
const profIdx = argv.indexOf('--profile');
const profFile = profIdx >= 0 ? argv.splice(profIdx, 2)[1] : undefined;
const heapIdx = argv.indexOf('--heap-profile');
const heapFile = heapIdx >= 0 ? argv.splice(heapIdx, 2)[1] : undefined;
const [n = 18_000, rate = 600, sessions = 2, window = 50] = argv.map(Number);
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is not set (source .local/env)');
const tag = `egress_flow_${Date.now().toString(36)}`;
const logger = createLogger({ service: 'egress-flow', level: 'warn' });
// EGRESS_FLOW_TELEMETRY=1 starts the OpenTelemetry SDK first, as every service's main does (runService): its
// AsyncLocalStorage context manager is then active in this process as in the hub.
if (process.env['EGRESS_FLOW_TELEMETRY'] === '1') startTelemetry({ serviceName: 'smshub-egress' });

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${tag}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${tag}`;
const dir = await mkdtemp(path.join(tmpdir(), 'egress-flow-'));
const kafka = createKafka({ brokers, clientId: tag, ssl: false }, logger);
// Kafka requests egress sends, by API (kafkajs's instrumentation events), counted over the load window.
const requests = new Map<string, number>();
let counting = false;
for (const kind of ['producer', 'consumer'] as const) {
  const make = kafka[kind].bind(kafka) as (...a: unknown[]) => ReturnType<typeof kafka.producer>;
  (kafka as unknown as Record<string, unknown>)[kind] = (...a: unknown[]) => {
    const c = make(...a);
    c.on(c.events.REQUEST, (e: { payload: { apiName: string } }) => {
      if (counting) requests.set(e.payload.apiName, (requests.get(e.payload.apiName) ?? 0) + 1);
    });
    return c;
  };
}
const kadmin = kafka.admin();
const topics = Object.fromEntries(
  Object.entries(registry).map(([k, v]) => [
    k,
    { ...v, name: `${tag}.${v.name}`, partitions: Math.min(v.partitions, 6) },
  ]),
) as unknown as typeof registry;
const producer = new TypedProducer(kafka, logger);
const consumers: TypedConsumer[] = [];
const pool = createPool({ connectionString: dbUrl.toString(), max: 10 });
const driver = fork(fileURLToPath(new URL('./flow-driver.ts', import.meta.url)), [
  JSON.stringify({
    brokers,
    topics: {
      routed: topics.routed.name,
      dispatched: topics.dispatched.name,
      receiptRaw: topics.receiptRaw.name,
    },
    messages: n,
    rate,
  }),
]);
const fromDriver = <T>(pred: (m: Record<string, unknown>) => boolean): Promise<T> =>
  new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>): void => {
      if (m['error']) reject(new Error(String(m['error'])));
      else if (pred(m)) {
        driver.off('message', on);
        resolve(m as T);
      }
    };
    driver.on('message', on);
    driver.once('exit', (code) => reject(new Error(`the driver exited with ${code}`)));
  });
try {
  for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
    if (/^(0001|02\d\d)_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
  await migrate(pool, { dir });
  await kadmin.connect();
  await kadmin.createTopics({
    waitForLeaders: false,
    topics: Object.values(topics).map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      replicationFactor: 1,
    })),
  });
  for (let ready = false; !ready;) {
    try {
      const md = await kadmin.fetchTopicMetadata({ topics: Object.values(topics).map((t) => t.name) });
      ready = md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
    } catch {
      ready = false;
    }
    if (!ready) await new Promise((r) => setTimeout(r, 200));
  }
  const { port } = await fromDriver<{ port: number }>((m) => typeof m['port'] === 'number');
  await producer.connect();
  // Batches handed to egress's batch handlers (sms.routed.v1), counted over the load window.
  let batches = 0;
  const consumer = (o: Omit<ConsumerOptions, 'producer'>) => {
    const c = new TypedConsumer(kafka, logger, { ...o, producer });
    const onBatch = c.onBatch.bind(c);
    c.onBatch = <T>(codec: TopicCodec<T>, handler: BatchHandler<T>) =>
      onBatch(codec, (records) => {
        if (counting) batches++;
        return handler(records);
      });
    consumers.push(c);
    return retryStart(c);
  };
  const secretKey = randomBytes(32);
  await new ConnectorStore(pool, secretKey).upsert({
    id: 'con_bench',
    name: 'bench',
    enabled: true,
    host: '127.0.0.1',
    port,
    tls: false,
    systemId: 'hub',
    password: 'secret',
    systemType: '',
    interfaceVersion: 0x34,
    bindMode: 'transceiver',
    sessions,
    windowSize: window,
    maxSubmitRate: 100_000,
    responseTimeoutMs: 10_000,
    enquireLinkMs: 30_000,
    dataCodings: [0, 8],
    gsm7Packed: false,
    segmentation: 'udh8',
    messageIdFormat: 'hex',
    receiptTimeZone: 'UTC',
    defaultSourceTon: 0,
    defaultSourceNpi: 0,
  });
  const core = createEgressCore({
    config: {
      replicaId: 'bench',
      tpsHeadroom: 0.05,
      retry: { maxRetriesPerConnector: 3, backoff: { initialMs: 250, maxMs: 5000 } },
      reconnect: { initialMs: 100, maxMs: 1000 },
      unavailableWaitMs: 30_000,
      secretKey,
      batchConcurrency: 500,
      drainMs: 2000,
      groupId: `${tag}-egress`,
      // EGRESS_FLOW_WRITES=upsert: the dedupe rows written as before session 13 (every claim and outcome an
      // INSERT ... ON CONFLICT DO UPDATE), to compare with the default plain insert / update.
      ...(process.env['EGRESS_FLOW_WRITES'] === 'upsert' ? { dispatchWriteShape: 'upsert' as const } : {}),
      // EGRESS_FLOW_FETCH_WAIT_MS / EGRESS_FLOW_PARTITIONS replace the routed consumer's fetch wait (core
      // default 50 ms) and EGRESS_PARTITION_CONCURRENCY (6), to compare.
      consumer: {
        partitionsConsumedConcurrently: Number(process.env['EGRESS_FLOW_PARTITIONS'] ?? 6),
        ...(process.env['EGRESS_FLOW_FETCH_WAIT_MS']
          ? { maxWaitMs: Number(process.env['EGRESS_FLOW_FETCH_WAIT_MS']) }
          : {}),
      },
    },
    logger,
    producer,
    consumer,
    pool,
    topics,
  });
  await core.start();
  while (!core.connectors.get('con_bench')?.healthy) await new Promise((r) => setTimeout(r, 20));

  const backendCpu = async (): Promise<Map<number, number>> => {
    const { rows } = await admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [tag],
    );
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(')').at(-1)!.trim().split(/\s+/);
        cpu.set(pid, (Number(f[11]) + Number(f[12])) * 10_000);
      } catch {
        // exited
      }
    }
    return cpu;
  };
  const xacts = async (): Promise<number> =>
    Number(
      (
        await admin.query<{ n: string }>(
          'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
          [tag],
        )
      ).rows[0]?.n ?? 0,
    );
  const load0 = loadavg()[0]!;
  const pg0 = await backendCpu();
  const x0 = await xacts();
  let prof: Session | undefined;
  if (profFile || heapFile) {
    prof = new Session();
    prof.connect();
  }
  if (heapFile)
    await prof!.post('HeapProfiler.startSampling', {
      samplingInterval: 16384,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  if (profFile) {
    await prof!.post('Profiler.enable');
    await prof!.post('Profiler.setSamplingInterval', { interval: 1000 });
    await prof!.post('Profiler.start');
  }
  // CPU by thread (/proc/self/task): the main thread (JavaScript, GC pauses, I/O syscalls) apart from V8's
  // helper threads (concurrent marking and sweeping, compilers) and libuv's pool.
  const threadCpu = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const t of await readdir('/proc/self/task').catch(() => [] as string[])) {
      try {
        const f = (await readFile(`/proc/self/task/${t}/stat`, 'utf8'))
          .split(')')
          .at(-1)!
          .trim()
          .split(/\s+/);
        out.set(t, (Number(f[11]) + Number(f[12])) * 10_000);
      } catch {
        // exited
      }
    }
    return out;
  };
  const threads0 = await threadCpu();
  const cpu0 = process.cpuUsage();
  const done = fromDriver<{
    producedMs: number;
    elapsedMs: number;
    dispatch: { p50: number; p99: number };
    receipt: { p50: number; p99: number };
    submits: Record<string, number>;
  }>((m) => m['done'] === true);
  counting = true;
  driver.send({ go: true });
  const r = await done;
  const cpu = process.cpuUsage(cpu0);
  let mainUs = 0;
  let helperUs = 0;
  for (const [t, us] of await threadCpu()) {
    if (t === String(process.pid)) mainUs += us - (threads0.get(t) ?? 0);
    else helperUs += us - (threads0.get(t) ?? 0);
  }
  counting = false;
  if (profFile) {
    const { profile } = await prof!.post('Profiler.stop');
    await writeFile(profFile, JSON.stringify(profile));
  }
  if (heapFile) {
    const { profile } = await prof!.post('HeapProfiler.stopSampling');
    await writeFile(heapFile, JSON.stringify(profile));
  }
  await new Promise((res) => setTimeout(res, 1000));
  const tx = (await xacts()) - x0;
  let pgUs = 0;
  for (const [pid, us] of await backendCpu()) pgUs += us - (pg0.get(pid) ?? 0);
  console.log(
    `egress flow: ${n} messages at ${rate}/s (produced in ${r.producedMs} ms), last receipt after ${r.elapsedMs} ms; ` +
      `produce->dispatched p50 ${r.dispatch.p50} / p99 ${r.dispatch.p99} ms, produce->receipt.raw p50 ${r.receipt.p50} / p99 ${r.receipt.p99} ms`,
  );
  console.log(
    `egress flow: egress CPU ${Math.round((cpu.user + cpu.system) / n)} µs/msg (user ${Math.round(cpu.user / n)}, ` +
      `system ${Math.round(cpu.system / n)}; main thread ${Math.round(mainUs / n)}, other threads ${Math.round(helperUs / n)}); PostgreSQL backends ${Math.round(pgUs / n)} µs/msg, ` +
      `${(tx / n).toFixed(3)} transactions/msg; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; ` +
      `load ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}; ${sessions}x${window}; ` +
      `SMSC submits ${r.submits['submits']}, receipts acked ${r.submits['receiptsAcked']}`,
  );
  console.log(
    `egress flow: ${batches} routed batches (${(n / Math.max(1, batches)).toFixed(1)} messages each)`,
  );
  console.log(
    `egress flow: Kafka requests per message: ${[...requests]
      .sort((a, b) => b[1] - a[1])
      .map(([api, k]) => `${api} ${(k / n).toFixed(3)}`)
      .join(', ')}`,
  );
  // The dedupe statements, from pg_stat_statements when the cluster has it (a fresh database: every call is
  // this run's): calls, rows, execution time and WAL per message.
  try {
    const { rows: stmts } = await admin.query<{
      q: string;
      calls: string;
      rows: string;
      ms: number;
      wal_records: string;
      wal_bytes: string;
    }>(
      `SELECT regexp_replace(s.query, '\\s+', ' ', 'g') AS q, s.calls, s.rows, s.total_exec_time AS ms,
         s.wal_records, s.wal_bytes
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = $1 AND s.query ~ '^(INSERT INTO|UPDATE|SELECT d\\.) ?egress_part_dispatch|FROM egress_part_dispatch d JOIN'
       ORDER BY s.total_exec_time DESC`,
      [tag],
    );
    let walBytes = 0;
    for (const st of stmts) {
      walBytes += Number(st.wal_bytes);
      const kind = /^UPDATE/.test(st.q)
        ? 'outcome update'
        : /^SELECT/.test(st.q)
          ? 'dedupe read'
          : /WHERE NOT EXISTS/.test(st.q)
            ? 'outcome upsert (rows not found)'
            : /RETURNING/.test(st.q)
              ? 'claim upsert (conditional)'
              : /ON CONFLICT/.test(st.q)
                ? 'outcome upsert'
                : 'first claim insert';
      console.log(
        `egress flow: pg ${kind}: ${st.calls} calls, ${(Number(st.rows) / n).toFixed(2)} rows/msg, ` +
          `exec ${((st.ms * 1000) / n).toFixed(1)} µs/msg, WAL ${(Number(st.wal_records) / n).toFixed(2)} records ` +
          `${(Number(st.wal_bytes) / n).toFixed(0)} bytes/msg`,
      );
    }
    console.log(`egress flow: pg dedupe statements' WAL ${(walBytes / n).toFixed(0)} bytes/msg`);
  } catch {
    // no pg_stat_statements in this cluster
  }
  driver.send({ stop: true });
  await core.stop();
} finally {
  for (const c of consumers) await c.stop().catch(() => undefined);
  await producer.close().catch(() => undefined);
  await kadmin.deleteTopics({ topics: Object.values(topics).map((t) => t.name) }).catch(() => undefined);
  await kadmin.disconnect().catch(() => undefined);
  if (driver.exitCode === null) driver.kill();
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
