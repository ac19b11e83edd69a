// Benchmark (not a test): routed -> egress -> SMPP -> dispatched, end to end on loopback with the real
// Kafka and Postgres of .local/env, against the in-process fake SMSC (answers at once).
//   set -a; . .local/env; set +a
//   npx tsx --conditions=@smshub/source services/egress/bench/throughput.ts [messages=20000] [sessions=2] [window=50] [partitions concurrently=6] [live|backlog] [rate]
// KAFKA_FETCH_MAX_BYTES / KAFKA_FETCH_MAX_BYTES_PER_PARTITION, when set, replace libs/kafka's default fetch limits.
// live with a rate: the messages are produced at `rate` per second (as in the running hub: small batches);
// without one, all at once.
// Prints messages/s and the latency from produce to dispatched, the CPU time of this process (egress, the
// fake SMSC, the load producer and the dispatched reader together: an upper bound for egress alone) and of
// the whole machine per message, the Postgres transactions per part, the CPU of the Postgres backends
// serving the bench's database per message (from /proc: Postgres runs on this machine), this process's
// peak RSS and the load average. Cleans up its database and topics.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { DispatchOutcome, topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer, type ConsumerOptions } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { metricsRegistry } from '@smshub/telemetry';
import { ConnectorStore } from '../src/connector-store.js';
import { createEgressCore } from '../src/core.js';
import { FakeSmsc } from '../test/fake-smsc.js';
import { retryStart } from '../test/retry-start.js';
import { routedMessage } from './routed-load.js';

const args = process.argv.slice(2);
const [n = 20_000, sessions = 2, window = 50, partitionConcurrency = 6] = args.slice(0, 4).map(Number);
// live: messages are produced while egress runs (end to end); backlog: all are in the topic before egress
// starts, and the figure is egress's drain rate from its first dispatch to its last.
const mode = args[4] === 'backlog' ? 'backlog' : 'live';
const rate = mode === 'live' && args[5] ? Number(args[5]) : 0;
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is not set (source .local/env)');
const tag = `egress_bench_${Date.now().toString(36)}`;
const logger = createLogger({ service: 'egress-bench', level: 'warn' });

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${tag}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${tag}`;
const dir = await mkdtemp(path.join(tmpdir(), 'egress-bench-'));
// KAFKA_FETCH_MAX_BYTES[_PER_PARTITION] set: consumer fetch limits other than libs/kafka's default.
const fetchEnv = {
  maxBytes: process.env['KAFKA_FETCH_MAX_BYTES'],
  maxBytesPerPartition: process.env['KAFKA_FETCH_MAX_BYTES_PER_PARTITION'],
};
const kafka = createKafka(
  {
    brokers,
    clientId: tag,
    ssl: false,
    fetch: Object.fromEntries(
      Object.entries(fetchEnv)
        .filter(([, v]) => v)
        .map(([k, v]) => [k, Number(v)]),
    ),
  },
  logger,
);
const kadmin = kafka.admin();
const topics = Object.fromEntries(
  Object.entries(registry).map(([k, v]) => [
    k,
    { ...v, name: `${tag}.${v.name}`, partitions: Math.min(v.partitions, 6) },
  ]),
) as unknown as typeof registry;
const producer = new TypedProducer(kafka, logger);
const consumers: TypedConsumer[] = [];
const smsc = new FakeSmsc();
const pool = createPool({ connectionString: dbUrl.toString(), max: 10 });
try {
  for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
    if (/^(0001|02\d\d)_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
  await migrate(pool, { dir });

  await kadmin.connect();
  // Created without waiting for leaders (kafkajs's wait fails on the busy shared broker with "does not
  // host this topic-partition" while they are elected); metadata is polled until every partition has one.
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
  await producer.connect();
  const consumer = (o: Omit<ConsumerOptions, 'producer'>) => {
    const c = new TypedConsumer(kafka, logger, { ...o, producer });
    consumers.push(c);
    return retryStart(c);
  };

  // Counted, not kept: tens of thousands of decoded PDUs would dominate this process's memory.
  smsc.retainReceived = false;
  const port = await smsc.listen();
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
    enquireLinkMs: 0,
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
      tpsHeadroom: 0,
      retry: { maxRetriesPerConnector: 3, backoff: { initialMs: 50, maxMs: 500 } },
      reconnect: { initialMs: 100, maxMs: 1000 },
      unavailableWaitMs: 5000,
      secretKey,
      batchConcurrency: 500,
      drainMs: 2000,
      groupId: `${tag}-egress`,
      consumer: { partitionsConsumedConcurrently: partitionConcurrency },
    },
    logger,
    producer,
    consumer,
    pool,
    topics,
  });
  const done = new Map<string, number>();
  const watch = consumer({ groupId: `${tag}-watch`, fromBeginning: true });
  watch.onBatch(topics.dispatched, (rs) => {
    for (const r of rs)
      if (r.value.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED)
        done.set(r.value.context!.messageId, Date.now());
  });
  const assigned = watch.waitForAssignment();
  await watch.start();
  await assigned;
  const startCore = async () => {
    await core.start();
    while (!core.connectors.get('con_bench')?.healthy) await new Promise((r) => setTimeout(r, 20));
  };
  if (mode === 'live') await startCore();

  const sentAt = new Map<string, number>();
  const xacts = async () =>
    Number(
      (
        await admin.query<{ n: string }>(
          'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
          [tag],
        )
      ).rows[0]?.n ?? 0,
    );
  // Busy CPU time of the whole machine (every process, other users' too), from /proc/stat, in µs.
  const machineBusyUs = async () => {
    const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return ((f.reduce((a, b) => a + b, 0) - idle) * 1e6) / 100; // USER_HZ = 100
  };
  // utime + stime (µs) of the Postgres backends connected to the bench's database, by pid.
  const backendCpu = async (): Promise<Map<number, number>> => {
    const { rows } = await admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [tag],
    );
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(')').at(-1)!.trim().split(/\s+/);
        cpu.set(pid, (Number(f[11]) + Number(f[12])) * 10_000); // fields 14 and 15, USER_HZ = 100
      } catch {
        // the backend has exited
      }
    }
    return cpu;
  };
  const load0 = loadavg()[0]!;
  let pg0 = await backendCpu();
  let x0 = await xacts();
  let cpu0 = process.cpuUsage();
  let m0 = await machineBusyUs();
  const t0 = Date.now();
  if (mode === 'live') {
    const batch: Promise<void>[] = [];
    const paceStart = Date.now();
    for (let i = 0; i < n; i++) {
      if (rate > 0 && i % 20 === 0) {
        const due = paceStart + (i * 1000) / rate;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      const messageId = uuidv7();
      sentAt.set(messageId, Date.now());
      batch.push(producer.produce(topics.routed, routedMessage(i, messageId)));
    }
    await Promise.all(batch);
  } else {
    // backlog: from a child process, so this process's CPU and peak RSS are egress's side only
    const code = await new Promise<number | null>((resolve) =>
      fork(fileURLToPath(new URL('./routed-load.ts', import.meta.url)), [
        JSON.stringify({ brokers, topic: topics.routed.name, messages: n }),
      ]).on('exit', resolve),
    );
    if (code !== 0) throw new Error(`the load process exited with ${code}`);
  }
  const produced = Date.now();
  if (mode === 'backlog') {
    x0 = await xacts();
    cpu0 = process.cpuUsage();
    m0 = await machineBusyUs();
    pg0 = await backendCpu();
    await startCore();
  }
  while (done.size < n) {
    if (Date.now() - t0 > 120_000) throw new Error(`only ${done.size}/${n} dispatched after 120 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const t1 = Math.max(...done.values());
  const tStart = mode === 'backlog' ? Math.min(...done.values()) : t0;
  const cpu = process.cpuUsage(cpu0);
  const machine = (await machineBusyUs()) - m0;
  // pg_stat_database is updated by each backend at the end of a transaction, with a short delay.
  await new Promise((r) => setTimeout(r, 1000));
  const tx = (await xacts()) - x0;
  let pgUs = 0;
  for (const [pid, us] of await backendCpu()) pgUs += us - (pg0.get(pid) ?? 0);
  const lat = mode === 'live' ? [...done].map(([id, t]) => t - sentAt.get(id)!).sort((a, b) => a - b) : [];
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  const achieved = Math.round((n * 1000) / Math.max(1, t1 - tStart));
  console.log(
    mode === 'live'
      ? `egress bench (live): ${n} messages, ${sessions} sessions x window ${window}: produced in ${produced - t0} ms, ` +
          `${rate > 0 ? `produced at ${rate}/s, ` : ''}all dispatched in ${t1 - t0} ms = ${achieved} msg/s end to end; ` +
          `produce->dispatched latency p50 ${pct(50)} ms, p99 ${pct(99)} ms; SMSC submits ${smsc.submits}`
      : `egress bench (backlog): ${n} messages already in the topic, ${sessions} sessions x window ${window}: ` +
          `first to last dispatch ${t1 - tStart} ms = ${achieved} msg/s; SMSC submits ${smsc.submits}`,
  );
  console.log(
    `egress bench: CPU of this process ${Math.round((cpu.user + cpu.system) / n)} µs/msg ` +
      `(egress + fake SMSC + dispatched reader${mode === 'live' ? ' + load producer' : ''}), whole machine ${Math.round(machine / n)} µs/msg ` +
      `(all processes incl. Kafka, Postgres and anyone else); Postgres ${(tx / n).toFixed(3)} transactions/part, ` +
      `its backends ${Math.round(pgUs / n)} CPU-µs/msg; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; ` +
      `load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ` +
      `${sessions} sessions x window ${window}, ${partitionConcurrency} partitions concurrently`,
  );
  // Parts found already recorded (a batch processed again after a retry or a rebalance): 0 in a clean run.
  const redelivered = (
    await metricsRegistry.getSingleMetric('smshub_egress_redelivered_parts_total')?.get()
  )?.values.reduce((a, v) => a + v.value, 0);
  console.log(`egress bench: parts found already recorded (batch redelivered): ${redelivered ?? 0}`);
  // HOT updates write no index entry: the dedupe row's outcome should be one (n_tup_hot_upd ≈ n_tup_upd).
  const { rows: tableStats } = await pool.query<Record<string, string>>(
    `SELECT n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_hot_upd::text AS hot
       FROM pg_stat_user_tables WHERE relname = 'egress_part_dispatch'`,
  );
  const st = tableStats[0];
  console.log(
    `egress bench: egress_part_dispatch rows inserted ${st?.['ins']}, updated ${st?.['upd']} (HOT ${st?.['hot']})`,
  );

  await core.stop();
} finally {
  for (const c of consumers) await c.stop().catch(() => undefined);
  await producer.close().catch(() => undefined);
  await kadmin.deleteTopics({ topics: [...Object.values(topics).map((t) => t.name)] }).catch(() => undefined);
  await kadmin.disconnect().catch(() => undefined);
  await smsc.close();
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
