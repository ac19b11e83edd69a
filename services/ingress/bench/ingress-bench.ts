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
import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DeliveryStatus, SmsDelivery, SubmitChannel } from '@smshub/contracts';
import { connectSmpp } from '@smshub/smpp';
import { profileTo } from '@smshub/testing';
import { startBenchIngress } from './bench-ingress.js';

const total = Number(process.argv[2] ?? 20_000);
const sessions = Number(process.argv[3] ?? 4);
const window = Number(process.argv[4] ?? 10);
const receipts = Number(process.argv[5] ?? total);
const { topics, producer, sql, port, stop } = await startBenchIngress('bench');

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
const stopProfile = await profileTo(process.env.INGRESS_BENCH_PROFILE);
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
await stopProfile();

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
const queries0 = sql.statements;
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
      sqlStatementsPerReceipt: Number(((sql.statements - queries0) / Math.max(1, receipts)).toFixed(2)),
      processCpuMicrosPerReceipt: Math.round((cpu.user + cpu.system) / Math.max(1, receipts)),
      note: 'event produced -> consumed -> stored -> claimed -> deliver_sm -> resp -> marked sent; CPU is this whole process (producer and receiver included), Postgres not counted',
    },
    null,
    2,
  ),
);
await receiver.unbind();

await stop();
