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
import { fork } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { profileTo } from '@smshub/testing';
import { startBenchIngress } from './bench-ingress.js';

const receipts = Number(process.argv[2] ?? 36_000);
const rate = Number(process.argv[3] ?? 1200);
const { tag, topics, sql, port, stop } = await startBenchIngress('rbench');

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

const stopProfile = await profileTo(process.env.INGRESS_BENCH_PROFILE);
const done = fromLoad<{ latencies: number[]; cpuMicros: number; seconds: number }>('done');
const pg0 = await postgresTicks();
const queries0 = sql.statements;
sql.byKind.clear();
const cpu0 = process.cpuUsage();
load.send('go');
const result = await done;
// Let the dispatcher mark the last acknowledgements before counting.
await new Promise((resolve) => setTimeout(resolve, 300));
const cpu = process.cpuUsage(cpu0);
const statements = sql.statements - queries0;
const pg1 = await postgresTicks();
await stopProfile();
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
      sqlStatements: Object.fromEntries(sql.byKind),
      receiptLatencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: q(1) },
      loadCpuMicrosPerReceipt: Number((result.cpuMicros / receipts).toFixed(1)),
      loadAverage: (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '),
    },
    null,
    2,
  ),
);
await loadExited;

await stop();
