// submit_sm_resp latency of ONE ingress process at a paced rate, stage by stage, with the receipt path
// running alongside (as in the hub), against the running broker and Postgres (KAFKA_BROKERS,
// DATABASE_URL; `set -a; . .local/env; set +a`). Not a test: it prints figures.
//
//   npx tsx --conditions=@smshub/source services/ingress/bench/latency-bench.ts [rate=300] [seconds=30] [binds=4] [receipts=1] [warmup=5]
//
// A child process (latency-load.ts) binds `binds` transceivers, runs the flow `warmup` seconds uncounted
// (JIT, pools and batch sizes settle: the first seconds of a cold process stall for 100-250 ms at a time),
// then submits at `rate` per second paced as tools/loadgen paces, and produces a final sms.delivery.v1 event for every accepted message, so ingress
// also consumes, stores and sends one receipt per message (receipts=0: submits alone). Ingress runs here
// with main.ts's producer options (definite outcomes). Printed: the client's submit_sm_resp latency
// p50/p95/p99/max, and for each accepted message where its time went inside ingress:
//   queued  produceRaw called -> its batch handed to kafkajs (the linger timer, or the request in flight)
//   kafka   handed to kafkajs -> acks=all answer (the broker's round trip, request encoding included)
//   resume  answer -> produceRaw's promise resolved here (the event loop between)
//   outside the client's latency minus the three (socket, framing, decoding on both sides, the event
//           loop before the PDU is read and after the resp is written)
// with the event loop's delay (monitorEventLoopDelay), produce requests and records per request, and
// ingress's CPU per message (submit + receipt; this process) and its PostgreSQL backends' CPU.
// INGRESS_BENCH_PROFILE=<file.cpuprofile> writes a V8 CPU profile of this process during the flow.
import { fork } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { constants as perf, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { Kafka, ProducerBatch } from 'kafkajs';
import { startTelemetry } from '@smshub/telemetry';
import { profileTo } from '@smshub/testing';
import { INGRESS_PRODUCER_OPTIONS } from '../src/durable-accept.js';
import { startBenchIngress } from './bench-ingress.js';

// INGRESS_BENCH_V8_FLAGS: V8 flags set at start in this (ingress's) process, e.g. '--no-parallel-scavenge'.
for (const flag of (process.env.INGRESS_BENCH_V8_FLAGS ?? '').split(' ').filter(Boolean))
  setFlagsFromString(flag);

const rate = Number(process.argv[2] ?? 300);
const seconds = Number(process.argv[3] ?? 30);
const binds = Number(process.argv[4] ?? 4);
const withReceipts = (process.argv[5] ?? '1') !== '0';
const warmup = Number(process.argv[6] ?? 5);

// Instrumentation: when each record's batch went to kafkajs and when Kafka answered it.
const sentAt = new Map<string, number>();
const ackedAt = new Map<string, number>();
let requests = 0;
let requestRecords = 0;
let measuring = false;
function instrument(kafka: Kafka): void {
  const make = kafka.producer.bind(kafka);
  kafka.producer = (config) => {
    const p = make(config);
    const sendBatch = p.sendBatch.bind(p);
    p.sendBatch = async (batch: ProducerBatch) => {
      const t = performance.now();
      const keys: string[] = [];
      for (const tm of batch.topicMessages ?? [])
        for (const m of tm.messages) if (typeof m.key === 'string') keys.push(m.key);
      if (measuring) {
        requests++;
        requestRecords += keys.length;
      }
      for (const k of keys) sentAt.set(k, t);
      const out = await sendBatch(batch);
      const t2 = performance.now();
      for (const k of keys) ackedAt.set(k, t2);
      return out;
    };
    return p;
  };
}

// INGRESS_BENCH_TELEMETRY=1 starts the OpenTelemetry SDK first, as every service's main does (runService):
// its AsyncLocalStorage context manager is then active in this process as in the hub.
if (process.env.INGRESS_BENCH_TELEMETRY === '1') startTelemetry({ serviceName: 'smshub-ingress' });

// INGRESS_BENCH_LINGER_MS overrides the producer's lingerMs (before/after pairs: 2 was the default before 0).
const lingerMs = process.env.INGRESS_BENCH_LINGER_MS;
const producerOptions = {
  ...INGRESS_PRODUCER_OPTIONS,
  ...(lingerMs !== undefined && { lingerMs: Number(lingerMs) }),
};
const bench = await startBenchIngress('lbench', { producer: producerOptions, onKafka: instrument });
const { tag, topics, producer, port, stop, sql } = bench;
const enqueuedAt = new Map<string, number>();
const resumedAt = new Map<string, number>();
const produceRaw = producer.produceRaw.bind(producer);
producer.produceRaw = (topic, key, value, opts) => {
  const k = typeof key === 'string' ? key : undefined;
  if (k) enqueuedAt.set(k, performance.now());
  const p = produceRaw(topic, key, value, opts);
  if (k) void p.then(() => resumedAt.set(k, performance.now())).catch(() => undefined);
  return p;
};

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

const load = fork(fileURLToPath(new URL('./latency-load.ts', import.meta.url)), [
  String(port),
  String(rate),
  String(seconds),
  String(binds),
  withReceipts ? topics.delivery.name : '',
  String(warmup),
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
    // 'disconnect', not 'exit': the channel closes after its last message was read, whereas 'exit' can come
    // before a large last message ('done') was read off the pipe by a busy process (e.g. while profiling).
    load.once('disconnect', () => reject(new Error(`the load process disconnected before '${type}'`)));
  });
await fromLoad('ready');

interface Done {
  ids: string[];
  latencies: number[];
  receiptLatencies: number[];
  failed: number;
  submitSeconds: number;
  cpuMicros: number;
}
const loadAverageBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
const stopProfile = await profileTo(process.env.INGRESS_BENCH_PROFILE);
const done = fromLoad<Done>('done');
// This process's GC pauses during the flow, by kind (count, total and longest ms).
const gcKinds: Record<number, string> = {
  [perf.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perf.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perf.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perf.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const gc: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
// Each pause's span on this process's clock (performance.now()), to see which slow submits it overlapped.
const gcSpans: Array<[number, number]> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcSpans.push([e.startTime, e.startTime + e.duration]);
    const kind = gcKinds[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
    const g = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    g.count++;
    g.totalMs = Number((g.totalMs + e.duration).toFixed(1));
    g.maxMs = Number(Math.max(g.maxMs, e.duration).toFixed(2));
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
// INGRESS_BENCH_LOOP_RESOLUTION_MS: the delay monitor's sampling period (its timer wakes this process each period).
const loop = monitorEventLoopDelay({ resolution: Number(process.env.INGRESS_BENCH_LOOP_RESOLUTION_MS ?? 1) });
loop.enable();
const pg0 = await postgresTicks();
const sql0 = new Map(sql.byKind);
const cpu0 = process.cpuUsage();
measuring = true;
load.send('go');
const result = await done;
measuring = false;
const cpu = process.cpuUsage(cpu0);
const pg1 = await postgresTicks();
loop.disable();
gcObserver.disconnect();
await stopProfile();
let pgTicks = 0;
for (const [pid, t] of pg1) pgTicks += t - (pg0.get(pid) ?? 0);

const pct = (xs: number[]): Record<string, number> => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number =>
    Number((s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0).toFixed(2));
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: q(1) };
};
const stages = {
  queued: [] as number[],
  kafka: [] as number[],
  resume: [] as number[],
  outside: [] as number[],
};
// The stages of the slowest 1 % and 5 % of submits (what makes the p99 and the p95), and how much of each
// slow submit's time in this process a GC pause of this process took: the pauses overlapping
// [enqueued - outside, resumed] (`outside` is spent partly before the PDU was read, partly after the resp).
const slowStages = () => ({
  queued: [] as number[],
  kafka: [] as number[],
  resume: [] as number[],
  outside: [] as number[],
  gcOverlap: [] as number[],
});
const slow = slowStages();
const slow5 = slowStages();
const { p99, p95 } = pct(result.latencies) as { p99: number; p95: number };
const gcOverlap = (from: number, to: number): number => {
  let ms = 0;
  for (const [a, b] of gcSpans) if (b > from && a < to) ms += Math.min(b, to) - Math.max(a, from);
  return ms;
};
result.ids.forEach((id, i) => {
  const [e, s, a, r] = [enqueuedAt.get(id), sentAt.get(id), ackedAt.get(id), resumedAt.get(id)];
  if (e === undefined || s === undefined || a === undefined || r === undefined) return;
  const total = result.latencies[i]!;
  const parts = { queued: s - e, kafka: a - s, resume: r - a, outside: total - (r - e) };
  for (const k of Object.keys(parts) as Array<keyof typeof parts>) {
    stages[k].push(parts[k]);
    if (total >= p99) slow[k].push(parts[k]);
    if (total >= p95) slow5[k].push(parts[k]);
  }
  if (total >= p95) {
    const g = gcOverlap(e - Math.max(0, parts.outside), r);
    slow5.gcOverlap.push(g);
    if (total >= p99) slow.gcOverlap.push(g);
  }
});
const mean = (xs: number[]): number =>
  Number((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(2));
const share = (xs: number[]): number =>
  Number((xs.filter((x) => x > 0).length / Math.max(1, xs.length)).toFixed(2));
const accepted = result.latencies.length;
console.log(
  JSON.stringify(
    {
      rate,
      seconds,
      binds,
      receipts: withReceipts,
      warmupSeconds: warmup,
      lingerMs: producerOptions.lingerMs ?? 2,
      accepted,
      failed: result.failed,
      acceptedPerSecond: Math.round(accepted / result.submitSeconds),
      submitRespMs: pct(result.latencies),
      stagesMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, pct(v)])),
      slowestPercentMeanStagesMs: Object.fromEntries(Object.entries(slow).map(([k, v]) => [k, mean(v)])),
      slowestFivePercentMeanStagesMs: Object.fromEntries(Object.entries(slow5).map(([k, v]) => [k, mean(v)])),
      // the share of those submits that a GC pause of this process overlapped (gcOverlap above: its mean ms)
      slowestGcOverlappedShare: { onePercent: share(slow.gcOverlap), fivePercent: share(slow5.gcOverlap) },
      eventLoopDelayMs: {
        p50: Number((loop.percentile(50) / 1e6).toFixed(2)),
        p99: Number((loop.percentile(99) / 1e6).toFixed(2)),
        max: Number((loop.max / 1e6).toFixed(2)),
      },
      gcPauses: gc,
      produceRequests: requests,
      recordsPerRequest: Number((requestRecords / Math.max(1, requests)).toFixed(2)),
      receiptMs: withReceipts ? pct(result.receiptLatencies) : undefined,
      // SQL statements by their first 40 characters during the flow (the claim loop's rounds, marks, ...).
      statements: Object.fromEntries(
        [...sql.byKind]
          .map(([k, n]) => [k, n - (sql0.get(k) ?? 0)] as const)
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1]),
      ),
      receiptsReceived: result.receiptLatencies.length,
      ingressCpuMicrosPerMessage: Number(((cpu.user + cpu.system) / Math.max(1, accepted)).toFixed(1)),
      ingressSystemCpuMicrosPerMessage: Number((cpu.system / Math.max(1, accepted)).toFixed(1)),
      postgresCpuMicrosPerMessage: Number(((pgTicks * 10_000) / Math.max(1, accepted)).toFixed(1)),
      loadCpuMicrosPerMessage: Number((result.cpuMicros / Math.max(1, accepted)).toFixed(1)),
      loadAverage: `${loadAverageBefore} -> ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`,
    },
    null,
    2,
  ),
);
await loadExited;
await stop();
