// Accepted submit_sm/s and submit_sm_resp latency of ONE ingress process with Kafka acks=all, against the
// running broker and Postgres (KAFKA_BROKERS, DATABASE_URL; `set -a; . .local/env; set +a`).
// Not a test: it prints figures.
//
//   npx tsx --conditions=@smshub/source services/ingress/bench/ingress-bench.ts [messages=20000] [sessions=4] [window=10] [receipts=messages]
//
// The ESME clients run in a child process (esme-load.ts); the CPU printed for ingress is this process's.
// INGRESS_BENCH_PROFILE=<file.cpuprofile> writes a V8 CPU profile of this process during the load.
// Each session runs `window` loops of `await submit()`, so every request is on the wire at once and the
// latency measured is the server's (decode, checks, UUIDv7, Kafka acks=all round trip, response).
// Then the receipt path: `receipts` final sms.delivery.v1 events are produced, and the time until a bound
// receiver has had every deliver_sm is measured, with the SQL statements ingress ran per receipt.
import { randomBytes, randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session as InspectorSession } from 'node:inspector';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import argon2 from 'argon2';
import pg from 'pg';
import { DeliveryStatus, SmsDelivery, SubmitChannel, topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createKafka, ensureTopics, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { connectSmpp } from '@smshub/smpp';
import { createIngress, DEFAULT_OPTIONS } from '../src/index.js';

const total = Number(process.argv[2] ?? 20_000);
const sessions = Number(process.argv[3] ?? 4);
const window = Number(process.argv[4] ?? 10);
const receipts = Number(process.argv[5] ?? total);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('DATABASE_URL is required (set -a; . .local/env; set +a)');

const tag = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const logger = createLogger({ service: 'ingress-bench', level: 'warn' });

// A throwaway database with the accounts table and ingress's tables.
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${tag}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${tag}`;
const pool = createPool({ connectionString: dbUrl.toString(), max: 10 });
const dir = await mkdtemp(path.join(tmpdir(), 'ingress-bench-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
  if (/^(0001|01\d\d)_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
await migrate(pool, { dir });
// SQL statements run through the pool (ingress's receipt store uses nothing else).
let queries = 0;
const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
(pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
  queries++;
  return query(...args);
};
const hash = await argon2.hash('benchpw', { type: argon2.argon2id });
await pool.query(
  `INSERT INTO accounts (system_id, password_hash, max_binds, tps_limit, max_window, currency)
   VALUES ('bench', $1, 100, 1000000, 1000, 'EUR')`,
  [hash],
);

// Topics with the registry's layout (6 partitions for the flow topics), under unique names.
const topics = Object.fromEntries(
  Object.entries(registry).map(([k, v]) => [k, { ...v, name: `${tag}.${v.name}` }]),
) as unknown as typeof registry;
const kafka = createKafka({ brokers, clientId: tag, ssl: false }, logger);
const kadmin = kafka.admin();
await kadmin.connect();
const used = [topics.submitted, topics.delivery, topics.configChanges, topics.balances];
await ensureTopics(kadmin, used);

const producer = new TypedProducer(kafka, logger);
await producer.connect();
const consumers: TypedConsumer[] = [];
const ingress = createIngress({
  options: {
    ...DEFAULT_OPTIONS,
    replicaId: tag,
    smppHost: '127.0.0.1',
    smppPort: 0,
    deliveryGroupId: `${tag}-dlv`,
    configGroupPrefix: `${tag}-cfg`,
  },
  logger,
  producer,
  consumer: async (o) => {
    const c = new TypedConsumer(kafka, logger, { ...o, producer });
    consumers.push(c);
    return c;
  },
  pool,
  topics,
});
const { port } = await ingress.start();

// The ESMEs run in a child process (esme-load.ts), so this process's CPU time is ingress's own (its
// Kafka producer included); the child's CPU is printed apart.
const esmes = fork(fileURLToPath(new URL('./esme-load.ts', import.meta.url)), [
  String(port),
  String(total),
  String(sessions),
  String(window),
]);
const esmesExited = new Promise((resolve) => esmes.once('exit', resolve));
const fromEsmes = <T>(type: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }): void => {
      if (m.type !== type) return;
      esmes.off('message', onMessage);
      resolve(m as T);
    };
    esmes.on('message', onMessage);
    esmes.once('exit', (code) =>
      reject(new Error(`the ESME process exited (code ${code}) before '${type}'`)),
    );
  });
await fromEsmes('ready');
// INGRESS_BENCH_PROFILE=<file.cpuprofile>: V8 sampling profile of this process during the load only.
const profileFile = process.env.INGRESS_BENCH_PROFILE;
const inspector = profileFile ? new InspectorSession() : undefined;
const post = (method: string): Promise<unknown> =>
  new Promise((resolve, reject) =>
    inspector!.post(method, (err, result) => (err ? reject(err) : resolve(result))),
  );
if (inspector) {
  inspector.connect();
  await post('Profiler.enable');
  await post('Profiler.start');
}
// CPU time of this process's main thread and of its other threads (V8's GC and compiler helpers,
// libuv's pool), in clock ticks, from /proc: the CPU that a profile of the main thread does not show.
async function threadTicks(): Promise<{ main: number; others: number }> {
  const out = { main: 0, others: 0 };
  for (const tid of await readdir('/proc/self/task')) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const fields = stat.slice(close + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (Number(tid) === process.pid) out.main += ticks;
    else out.others += ticks;
  }
  return out;
}
const threads0 = await threadTicks();
const done = fromEsmes<{ latencies: number[]; failed: number; cpuMicros: number }>('done');
const t0 = process.hrtime.bigint();
const submitCpu0 = process.cpuUsage();
esmes.send('go');
const { latencies, failed, cpuMicros: esmeCpuMicros } = await done;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const submitCpu = process.cpuUsage(submitCpu0);
const threads1 = await threadTicks();
if (inspector) {
  const { profile } = (await post('Profiler.stop')) as { profile: unknown };
  await writeFile(profileFile!, JSON.stringify(profile));
  inspector.disconnect();
}

const perSubmit = (ticks: number): number => Number(((ticks * 10_000) / Math.max(1, ok.length)).toFixed(1));
const ok = latencies.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
const q = (p: number): string => (ok[Math.min(ok.length - 1, Math.floor(p * ok.length))] ?? 0).toFixed(2);
console.log(
  JSON.stringify(
    {
      messages: total,
      sessions,
      windowPerSession: window,
      accepted: ok.length,
      failed,
      seconds: Number(seconds.toFixed(2)),
      acceptedPerSecond: Math.round(ok.length / seconds),
      latencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: (ok.at(-1) ?? 0).toFixed(2) },
      // This process: the ingress server and its Kafka producer (the ESMEs are in another process).
      ingressCpuMicrosPerSubmit: Number(
        ((submitCpu.user + submitCpu.system) / Math.max(1, ok.length)).toFixed(1),
      ),
      ingressSystemCpuMicrosPerSubmit: Number((submitCpu.system / Math.max(1, ok.length)).toFixed(1)),
      esmeCpuMicrosPerSubmit: Number((esmeCpuMicros / Math.max(1, ok.length)).toFixed(1)),
      // Clock ticks are 10 ms: coarse on short runs. Threads that exited during the load are not counted.
      ingressMainThreadCpuMicrosPerSubmit: perSubmit(threads1.main - threads0.main),
      ingressOtherThreadsCpuMicrosPerSubmit: perSubmit(threads1.others - threads0.others),
      loadAverage: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '),
      kafka: 'acks=all, idempotent producer, 6 partitions, one local broker',
    },
    null,
    2,
  ),
);
await esmesExited;

// ------------------------------------------------------------------ receipts
let received = 0;
let allReceived: () => void = () => undefined;
const receivedAll = new Promise<void>((resolve) => (allReceived = resolve));
if (receipts === 0) allReceived();
const receiver = await connectSmpp({
  host: '127.0.0.1',
  port,
  systemId: 'bench',
  password: 'benchpw',
  bindType: 'receiver',
  window,
  enquireLinkMs: 0,
  handlers: {
    deliver_sm: () => {
      if (++received === receipts) allReceived();
      return {};
    },
  },
});
const events = Array.from({ length: receipts }, () => {
  const id = randomUUID();
  return SmsDelivery.fromPartial({
    context: {
      messageId: id,
      accountId: 'bench',
      systemId: 'bench',
      customerMessageId: id,
      source: { ton: 5, npi: 0, address: 'Bench' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      registeredDelivery: 1,
      dataCoding: 0,
      receivedAt: new Date(Date.now() - 5000),
      receiptText: Buffer.from('Your verification code is 123456'),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    doneAt: new Date(),
    revision: 2,
    updatedAt: new Date(),
  });
});
const queries0 = queries;
const cpu0 = process.cpuUsage();
const r0 = process.hrtime.bigint();
await Promise.all(events.map((e) => producer.produce(topics.delivery, e)));
await receivedAll;
const receiptSeconds = Number(process.hrtime.bigint() - r0) / 1e9;
const cpu = process.cpuUsage(cpu0);
// Let the dispatcher record the last acknowledgements before counting statements.
await new Promise((resolve) => setTimeout(resolve, 500));
console.log(
  JSON.stringify(
    {
      receipts,
      seconds: Number(receiptSeconds.toFixed(2)),
      receiptsPerSecond: Math.round(receipts / receiptSeconds),
      sqlStatementsPerReceipt: Number(((queries - queries0) / Math.max(1, receipts)).toFixed(2)),
      processCpuMicrosPerReceipt: Math.round((cpu.user + cpu.system) / Math.max(1, receipts)),
      note: 'event produced -> consumed -> stored -> claimed -> deliver_sm -> resp -> marked sent; CPU is this whole process (producer and receiver included), Postgres not counted',
    },
    null,
    2,
  ),
);
await receiver.unbind();

await ingress.stop();
await Promise.all(consumers.map((c) => c.stop()));
await producer.close();
await kadmin.deleteTopics({ topics: used.map((t) => t.name) }).catch(() => undefined);
await kadmin.disconnect();
await pool.end();
await admin.query(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`);
await admin.end();
await rm(dir, { recursive: true, force: true });
