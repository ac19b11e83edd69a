// CPU per delivery receipt of ONE ingress process at a paced rate, against the running broker and Postgres
// (KAFKA_BROKERS, DATABASE_URL; `set -a; . .local/env; set +a`). Not a test: it prints figures.
//
//   npx tsx --conditions=@smshub/source services/ingress/bench/receipt-bench.ts [receipts=36000] [rate=1200]
//
// A child process (receipt-load.ts) binds a receiver and produces final sms.delivery.v1 events at `rate`
// per second; ingress consumes them, stores them in ingress_pending_receipts, claims them and sends
// deliver_sm, and marks them sent on deliver_sm_resp. Printed per receipt: this process's CPU (ingress
// alone), the CPU of the PostgreSQL backends of the bench's database (from /proc), and the SQL statements
// ingress ran; with the receipt latency (event produced -> deliver_sm received).
// INGRESS_BENCH_PROFILE=<file.cpuprofile> writes a V8 CPU profile of this process during the flow.
import { randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session as InspectorSession } from 'node:inspector';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import argon2 from 'argon2';
import pg from 'pg';
import { topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createKafka, ensureTopics, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { createIngress, DEFAULT_OPTIONS } from '../src/index.js';

const receipts = Number(process.argv[2] ?? 36_000);
const rate = Number(process.argv[3] ?? 1200);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('DATABASE_URL is required (set -a; . .local/env; set +a)');

const tag = `rbench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const logger = createLogger({ service: 'receipt-bench', level: 'warn' });

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${tag}`);
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${tag}`;
const pool = createPool({ connectionString: dbUrl.toString(), max: 10 });
const dir = await mkdtemp(path.join(tmpdir(), 'receipt-bench-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
  if (/^(0001|01\d\d)_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
await migrate(pool, { dir });
// SQL statements run through the pool (ingress's receipt store uses nothing else), by their first words.
let queries = 0;
const byKind = new Map<string, number>();
const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
(pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
  queries++;
  const kind = String(args[0]).replace(/\s+/g, ' ').trim().slice(0, 40);
  byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  return query(...args);
};
const hash = await argon2.hash('benchpw', { type: argon2.argon2id });
await pool.query(
  `INSERT INTO accounts (system_id, password_hash, max_binds, tps_limit, max_window, currency)
   VALUES ('bench', $1, 100, 1000000, 1000, 'EUR')`,
  [hash],
);

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

const load = fork(fileURLToPath(new URL('./receipt-load.ts', import.meta.url)), [
  String(port),
  String(receipts),
  String(rate),
  topics.delivery.name,
]);
const loadExited = new Promise((resolve) => load.once('exit', resolve));
const fromLoad = <T>(type: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }): void => {
      if (m.type !== type) return;
      load.off('message', onMessage);
      resolve(m as T);
    };
    load.on('message', onMessage);
    load.once('exit', (code) => reject(new Error(`the load process exited (code ${code}) before '${type}'`)));
  });
await fromLoad('ready');

// CPU (clock ticks) of the PostgreSQL backends serving the bench's database, by process title
// (`postgres: <user> <database> <host>(<port>) <state>`). A backend that exits during the flow loses
// its ticks; the pool keeps its connections open while the flow lasts.
async function postgresTicks(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const title = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (!new RegExp(`^postgres: \\S+ ${tag} `).test(title.replace(/\0/g, ' '))) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(name), Number(fields[11]) + Number(fields[12]));
  }
  return out;
}

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
const done = fromLoad<{ latencies: number[]; cpuMicros: number; seconds: number }>('done');
const pg0 = await postgresTicks();
const queries0 = queries;
byKind.clear();
const cpu0 = process.cpuUsage();
load.send('go');
const result = await done;
// Let the dispatcher mark the last acknowledgements before counting.
await new Promise((resolve) => setTimeout(resolve, 300));
const cpu = process.cpuUsage(cpu0);
const statements = queries - queries0;
const pg1 = await postgresTicks();
if (inspector) {
  const { profile } = (await post('Profiler.stop')) as { profile: unknown };
  await writeFile(profileFile!, JSON.stringify(profile));
  inspector.disconnect();
}
let pgTicks = 0;
for (const [pid, t] of pg1) pgTicks += t - (pg0.get(pid) ?? 0);

const lat = result.latencies.sort((a, b) => a - b);
const q = (p: number): number =>
  Number((lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(1));
console.log(
  JSON.stringify(
    {
      receipts,
      ratePerSecond: rate,
      seconds: Number(result.seconds.toFixed(2)),
      ingressCpuMicrosPerReceipt: Number(((cpu.user + cpu.system) / receipts).toFixed(1)),
      postgresCpuMicrosPerReceipt: Number(((pgTicks * 10_000) / receipts).toFixed(1)),
      sqlStatementsPerReceipt: Number((statements / receipts).toFixed(3)),
      sqlStatements: Object.fromEntries(byKind),
      receiptLatencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: q(1) },
      loadCpuMicrosPerReceipt: Number((result.cpuMicros / receipts).toFixed(1)),
      loadAverage: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '),
    },
    null,
    2,
  ),
);
await loadExited;

await ingress.stop();
await Promise.all(consumers.map((c) => c.stop()));
await producer.close();
await kadmin.deleteTopics({ topics: used.map((t) => t.name) }).catch(() => undefined);
await kadmin.disconnect();
await pool.end();
await admin.query(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`);
await admin.end();
await rm(dir, { recursive: true, force: true });
