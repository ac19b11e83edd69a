// Benchmark (not a test): the cost of libs/kafka's consume/produce cycle per partition batch, as in a hub
// consumer that publishes what it consumes (routing: sms.submitted.v1 -> sms.routed.v1) at a paced rate.
// Run (needs KAFKA_BROKERS, e.g. `set -a; . .local/env; set +a`):
//   npx tsx --conditions=@smshub/source libs/kafka/bench/batch-cycle.ts [--rate 600] [--seconds 20]
//     [--partitions 6] [--concurrency 2] [--min-bytes 32768] [--max-wait 50] [--linger 2] [--warmup 3]
//     [--broker-pid PID]
// A child process produces ~370-byte records at `--rate` per second, evenly paced, to a `--partitions`
// topic. This process consumes it with a TypedConsumer.onBatch (routing's fetch options by default) whose
// handler produces one record per consumed record to a second topic through a TypedProducer and waits for
// their acknowledgements, like routing's. Prints for the measured window (after `--warmup` seconds): this
// process's CPU (user, system) per message and per partition batch, batches and records per batch, the
// Kafka requests per partition batch by API (counted at kafkajs's Connection.send), produce requests'
// records, timers created and GC time per batch, the CPU of each thread by name (user + system), and with
// `--broker-pid` (a broker of your own: deploy/local/kafka.sh with SMSHUB_LOCAL_DIR) the broker's CPU per
// record and per batch (the pacer's produce requests included). Topics are deleted at the end.
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '@smshub/logging';
import {
  createKafka,
  ensureTopics,
  TypedConsumer,
  TypedProducer,
  withAdminRetries,
  type TopicCodec,
} from '../src/index.js';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string', default: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092' },
    rate: { type: 'string', default: '600' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '2' },
    'min-bytes': { type: 'string', default: String(32 * 1024) },
    'max-wait': { type: 'string', default: '50' },
    linger: { type: 'string' },
    'commit-interval': { type: 'string' },
    child: { type: 'string' },
    'broker-pid': { type: 'string' },
  },
});
const brokers = values.brokers.split(',');
const logger = createLogger({ service: 'kafka-batch-cycle', level: 'warn' });
const codec = (name: string): TopicCodec<Buffer> => ({
  name,
  encode: (v) => v,
  decode: (b) => b as Buffer,
  key: () => '',
});
const value = Buffer.alloc(370, 7);

if (values.child) {
  // The pacer: `rate` records per second to the input topic until told to stop.
  const { topic, rate } = JSON.parse(values.child) as { topic: string; rate: number };
  const kafka = createKafka({ brokers, clientId: `${topic}-pacer` }, logger);
  const producer = new TypedProducer(kafka, logger, { lingerMs: 0 });
  await producer.connect();
  let stop = false;
  process.on('message', () => (stop = true));
  process.send?.('ready');
  const start = performance.now();
  let n = 0;
  while (!stop) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    for (; n < due; n++) void producer.produceRaw(topic, `m${n}`, value, { noTrace: true });
    await new Promise((r) => setTimeout(r, 5));
  }
  await producer.close();
  process.exit(0);
}

const require = createRequire(import.meta.url);
const run = `cycle-${Date.now().toString(36)}`;
const IN = codec(`${run}.in`);
const OUT = `${run}.out`;
const partitions = Number(values.partitions);
const rate = Number(values.rate);

// Requests by API, counted where kafkajs writes them (every client of this process: the consumer's and
// the producer's); the pacer is another process.
const requests = new Map<string, number>();
let counting = false;
const Connection = require('kafkajs/src/network/connection.js') as {
  prototype: { send: (this: unknown, arg: { request: { apiName: string } }) => Promise<unknown> };
};
const send = Connection.prototype.send;
Connection.prototype.send = function (this: unknown, arg) {
  if (counting) requests.set(arg.request.apiName, (requests.get(arg.request.apiName) ?? 0) + 1);
  return send.call(this, arg);
};
let timers = 0;
const setTimeoutOrig = globalThis.setTimeout;
globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => {
  if (counting) timers++;
  return setTimeoutOrig(...a);
}) as typeof setTimeout;
let gcMs = 0;
new PerformanceObserver((list) => {
  if (counting) for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

/**
 * CPU ticks (1/100 s) of this process's threads, user and system apart: `main` (the event loop), the
 * others by their kernel name, or where Node 20 names them all `node` by their start order (`+N`: tid
 * minus pid). Node 20 starts V8's platform workers first (parallel and concurrent GC, concurrent
 * compilation; 4 by default, `--v8-pool-size`) and its delayed-task scheduler, then its signal thread;
 * libuv's thread pool (fs, dns, zlib, crypto) when first used; tsx's loader a worker of its own.
 */
function threadTicks(): Map<string, { user: number; system: number }> {
  const m = new Map<string, { user: number; system: number }>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      // Node 20 names every thread `node`: then the thread's place in start order (tid - pid) says which.
      const comm = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      const name =
        t === String(process.pid) ? 'main' : comm === 'node' ? `+${Number(t) - process.pid}` : comm;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const v = m.get(name) ?? { user: 0, system: 0 };
      v.user += Number(f[11]);
      v.system += Number(f[12]);
      m.set(name, v);
    } catch {
      // the thread ended
    }
  }
  return m;
}
/** The broker's CPU ticks (user + system) when `--broker-pid` names it (a broker of your own). */
function brokerTicks(): number {
  if (!values['broker-pid']) return NaN;
  const stat = readFileSync(`/proc/${values['broker-pid']}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const kafka = createKafka({ brokers, clientId: run }, logger);
const admin = kafka.admin();
await admin.connect();
await ensureTopics(
  admin,
  [IN.name, OUT].map((name) => ({ name, partitions, retentionMs: 3600_000, compacted: false })),
  { replicationFactor: 1, minInsyncReplicas: 1 },
);
await withAdminRetries(() => admin.fetchTopicMetadata({ topics: [IN.name, OUT] }));

const producer = new TypedProducer(
  kafka,
  logger,
  values.linger !== undefined ? { lingerMs: Number(values.linger) } : {},
);
await producer.connect();
let batches = 0;
let records = 0;
const consumer = new TypedConsumer(kafka, logger, {
  groupId: `${run}-group`,
  producer,
  minBytes: Number(values['min-bytes']),
  maxWaitMs: Number(values['max-wait']),
  partitionsConsumedConcurrently: Number(values.concurrency),
  ...(values['commit-interval'] !== undefined && { commitIntervalMs: Number(values['commit-interval']) }),
}).onBatch(IN, async (rs) => {
  if (counting) {
    batches++;
    records += rs.length;
  }
  const acks: Promise<void>[] = [];
  for (const r of rs) acks.push(producer.produceRaw(OUT, r.key, r.bytes ?? null, { noTrace: true }));
  await Promise.all(acks);
});
const assigned = consumer.waitForAssignment();
await consumer.start();
await assigned;

const pacer = fork(
  fileURLToPath(import.meta.url),
  ['--brokers', values.brokers, '--child', JSON.stringify({ topic: IN.name, rate })],
  {
    execArgv: process.execArgv,
  },
);
await new Promise<void>((resolve) => pacer.once('message', () => resolve()));
await new Promise((r) => setTimeoutOrig(r, Number(values.warmup) * 1000));
const load0 = loadavg()[0]!;
const cpu0 = process.cpuUsage();
const threads0 = threadTicks();
const broker0 = brokerTicks();
counting = true;
await new Promise((r) => setTimeoutOrig(r, Number(values.seconds) * 1000));
counting = false;
const cpu = process.cpuUsage(cpu0);
const threads = [...threadTicks()].map(
  ([name, t]) =>
    [name, t.user - (threads0.get(name)?.user ?? 0), t.system - (threads0.get(name)?.system ?? 0)] as const,
);
const broker = brokerTicks() - broker0;
const load1 = loadavg()[0]!;
pacer.send('stop');
await new Promise((r) => pacer.once('exit', r));
await consumer.stop();
await producer.close();
await admin
  .deleteTopics({ topics: [IN.name, OUT, consumer.deadLetterTopic, consumer.replayTopic] })
  .catch(() => undefined);
await admin.disconnect();

const perBatch = (n: number) => (n / Math.max(1, batches)).toFixed(2);
const us = cpu.user + cpu.system;
console.log(
  `${records} records in ${batches} partition batches (${(records / Math.max(1, batches)).toFixed(1)} per batch) over ${values.seconds} s at ${rate}/s, ${partitions} partitions, concurrency ${values.concurrency}`,
);
console.log(
  `CPU: ${(us / Math.max(1, records)).toFixed(1)} µs per record, ${(us / Math.max(1, batches)).toFixed(0)} µs per partition batch (system ${(cpu.system / Math.max(1, batches)).toFixed(0)}); GC ${((gcMs * 1000) / Math.max(1, batches)).toFixed(0)} µs per batch; load ${load0.toFixed(2)} -> ${load1.toFixed(2)}`,
);
console.log(
  `per partition batch: ${[...requests]
    .sort()
    .map(([api, n]) => `${api} ${perBatch(n)}`)
    .join(', ')}; setTimeout ${perBatch(timers)}`,
);
console.log(
  `threads (CPU ms over the window, user + system): ${threads
    .filter(([, u, sy]) => u + sy > 0)
    .sort((a, b) => b[1] + b[2] - a[1] - a[2])
    .map(([name, u, sy]) => `${name} ${u * 10} + ${sy * 10}`)
    .join(', ')}`,
);
if (values['broker-pid'])
  console.log(
    `broker (pid ${values['broker-pid']}): ${((broker * 10_000) / Math.max(1, records)).toFixed(1)} CPU-µs per record, ${((broker * 10_000) / Math.max(1, batches)).toFixed(0)} per partition batch`,
  );
process.exit(0);
