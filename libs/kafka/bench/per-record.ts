// Benchmark (not a test): client CPU per record of TypedProducer and TypedConsumer (libs/kafka + kafkajs),
// the broker's CPU not included. Run (with .local/env sourced):
//   npx tsx --conditions=@smshub/source libs/kafka/bench/per-record.ts [--records 60000] [--round 300]
//     [--value-bytes 370] [--phases produce,batch,record] [--profile [--profile-dir DIR]] [--heap-profile]
//     [--unpatched]
// Creates a 6-partition topic; then, each phase in a fresh child process:
//   produce: `records` records (value of `value-bytes`, a 36-character key, tracing as the services run it:
//            no SDK) produced `round` at a time, each round awaited (a service's flow of produce() calls);
//   batch:   a new group reads them all with a TypedConsumer batch handler (onBatch);
//   record:  a new group reads them all with a record handler (on).
// CPU (process.cpuUsage) is counted from the first produce() / the first record handed over to the last,
// so start-up and the group join are not in it. `--profile` samples that window with the V8 profiler and
// prints the top self-time functions; `--heap-profile` samples what that window allocates (collected objects
// included) and prints the top allocation sites in bytes per record. `--unpatched` runs kafkajs's own code where libs/kafka patches it
// (the Produce encoder, the Fetch decoder), for before/after pairs. Deletes its topic at the end.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Session } from 'node:inspector';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '@smshub/logging';
import { createKafka, TypedConsumer, TypedProducer, type TopicCodec } from '../src/index.js';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const logger = createLogger({ service: 'kafka-per-record-bench', level: 'warn' });
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    records: { type: 'string', default: '60000' },
    round: { type: 'string', default: '300' },
    'value-bytes': { type: 'string', default: '370' },
    phases: { type: 'string', default: 'produce,batch,record' },
    profile: { type: 'boolean', default: false },
    /** Also write each phase's profiles to <dir>/<phase>.cpuprofile (DevTools, speedscope), .heapprofile. */
    'profile-dir': { type: 'string' },
    /** Allocation sites of the measured window (V8's sampling heap profiler, garbage included). */
    'heap-profile': { type: 'boolean', default: false },
    /** Comparison runs: kafkajs's own code instead of libs/kafka's patches of it (produce-encoder). */
    unpatched: { type: 'boolean', default: false },
  },
});
if (args.unpatched) {
  const require = createRequire(import.meta.url);
  const produce = require('kafkajs/src/protocol/requests/produce/index.js') as Record<
    string | symbol,
    unknown
  >;
  produce['protocol'] = produce[Symbol.for('smshub.kafkajs.produceEncoder')] ?? produce['protocol'];
  const fetch = require('kafkajs/src/protocol/requests/fetch/index.js') as Record<string | symbol, unknown>;
  fetch['protocol'] = fetch[Symbol.for('smshub.kafkajs.fetchDecoder.original')] ?? fetch['protocol'];
}
const records = Number(args.records);
const round = Number(args.round);
const valueBytes = Number(args['value-bytes']);

/** Bytes in, bytes out: the codec's own cost is not libs/kafka's. */
const codec = (name: string): TopicCodec<Buffer> => ({
  name,
  encode: (v) => v,
  decode: (b) => b as Buffer,
  key: (v) => v.toString('latin1', 0, 36),
});

/** The part of a V8 CPU profile read here (tools/bench/src/profile.ts maps it to sources; a library cannot import a tool). */
interface CpuProfile {
  nodes: {
    id: number;
    hitCount?: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  startTime: number;
  endTime: number;
}

/** Self time per function name and file, highest first, as percentages of the sampled time. */
function topSelf(profile: CpuProfile, n: number): string[] {
  const byKey = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    byKey.set(key, (byKey.get(key) ?? 0) + hits);
    total += hits;
  }
  return [...byKey]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${key}`);
}

function startProfile(): (() => Promise<CpuProfile>) | null {
  if (!args.profile) return null;
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  return () =>
    new Promise((resolve, reject) =>
      session.post('Profiler.stop', (err, r) => (err ? reject(err) : resolve(r.profile as CpuProfile))),
    );
}

/** The part of a V8 sampling heap profile read here. */
interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Allocated bytes per function name and file, highest first, per record. */
function topAllocations(head: HeapNode, n: number, records: number): string[] {
  const byKey = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode) => {
    const f = node.callFrame;
    if (node.selfSize > 0) {
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      byKey.set(key, (byKey.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const c of node.children) walk(c);
  };
  walk(head);
  return [`${(total / records).toFixed(0).padStart(6)} B/record allocated in all`].concat(
    [...byKey]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, bytes]) => `${(bytes / records).toFixed(1).padStart(6)} B  ${key}`),
  );
}

function startHeapProfile(): (() => Promise<HeapNode>) | null {
  if (!args['heap-profile']) return null;
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return () =>
    new Promise((resolve, reject) =>
      session.post('HeapProfiler.stopSampling', (err, r) =>
        err ? reject(err) : resolve((r.profile as { head: HeapNode }).head),
      ),
    );
}

/** Milliseconds of GC pauses (every kind) since the process started: the GC share of the window. */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

interface PhaseResult {
  phase: string;
  records: number;
  cpuUsPerRecord: number;
  /** GC pauses in the window, as a share of the window's CPU time. */
  gcShare: number;
  wallMs: number;
  top?: string[];
}

async function finish(
  phase: string,
  n: number,
  cpu0: NodeJS.CpuUsage,
  t0: number,
  stop: (() => Promise<CpuProfile>) | null,
  gc0: number,
  stopHeap: (() => Promise<HeapNode>) | null = null,
): Promise<PhaseResult> {
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  // GC entries are delivered asynchronously: let the last ones in.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const result: PhaseResult = {
    phase,
    records: n,
    cpuUsPerRecord: (cpu.user + cpu.system) / n,
    gcShare: (gcMs - gc0) / ((cpu.user + cpu.system) / 1000),
    wallMs,
  };
  if (stop) {
    const profile = await stop();
    if (args['profile-dir'])
      writeFileSync(join(args['profile-dir'], `${phase}.cpuprofile`), JSON.stringify(profile));
    result.top = topSelf(profile, 30);
  }
  if (stopHeap) {
    const head = await stopHeap();
    if (args['profile-dir'])
      writeFileSync(join(args['profile-dir'], `${phase}.heapprofile`), JSON.stringify({ head }));
    result.top = [...(result.top ?? []), ...topAllocations(head, 30, n)];
  }
  return result;
}

async function producePhase(topic: string): Promise<PhaseResult> {
  const kafka = createKafka({ brokers, clientId: `per-record-producer-${process.pid}` }, logger);
  const producer = new TypedProducer(kafka, logger);
  await producer.connect();
  const c = codec(topic);
  const values: Buffer[] = [];
  for (let i = 0; i < records; i++) {
    const v = Buffer.alloc(valueBytes, 0x61 + (i % 26));
    v.write(`${String(i).padStart(12, '0')}-0000-7000-8000-000000000000`, 'latin1');
    values.push(v);
  }
  // Warm-up (JIT, connections, metadata): not counted.
  await Promise.all(values.slice(0, 2000).map((v) => producer.produce(c, v)));
  const stop = startProfile();
  const stopHeap = startHeapProfile();
  const cpu0 = process.cpuUsage();
  const gc0 = gcMs;
  const t0 = performance.now();
  for (let i = 2000; i < records; i += round) {
    await Promise.all(values.slice(i, i + round).map((v) => producer.produce(c, v)));
  }
  const r = await finish('produce', records - 2000, cpu0, t0, stop, gc0, stopHeap);
  await producer.close();
  return r;
}

async function consumePhase(topic: string, mode: 'batch' | 'record'): Promise<PhaseResult> {
  const kafka = createKafka({ brokers, clientId: `per-record-${mode}-${process.pid}` }, logger);
  const producer = new TypedProducer(kafka, logger);
  await producer.connect();
  const consumer = new TypedConsumer(kafka, logger, {
    groupId: `${topic}-${mode}`,
    producer,
    partitionsConsumedConcurrently: 6,
  });
  let seen = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  let t0 = 0;
  let gc0 = 0;
  let stop: (() => Promise<CpuProfile>) | null = null;
  let stopHeap: (() => Promise<HeapNode>) | null = null;
  let bytes = 0;
  const first = () => {
    if (cpu0) return;
    stop = startProfile();
    stopHeap = startHeapProfile();
    cpu0 = process.cpuUsage();
    gc0 = gcMs;
    t0 = performance.now();
  };
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  if (mode === 'batch')
    consumer.onBatch(codec(topic), async (rs) => {
      first();
      for (const r of rs) bytes += r.value.length;
      seen += rs.length;
      if (seen >= records) done();
      await new Promise((r) => setImmediate(r));
    });
  else
    consumer.on(codec(topic), (r) => {
      first();
      bytes += r.value.length;
      if (++seen >= records) done();
    });
  await consumer.start();
  await all;
  const r = await finish(mode, seen, cpu0!, t0, stop, gc0, stopHeap);
  if (bytes < seen * valueBytes) throw new Error('short values');
  await consumer.stop();
  await producer.close();
  return r;
}

if (positionals[0] === 'child') {
  const [, phase, topic] = positionals;
  const r =
    phase === 'produce'
      ? await producePhase(topic!)
      : await consumePhase(topic!, phase === 'batch' ? 'batch' : 'record');
  console.log(JSON.stringify(r));
  process.exit(0);
}

const kafka = createKafka({ brokers, clientId: 'kafka-per-record-bench' }, logger);
const topic = `kafka_per_record_bench_${Date.now().toString(36)}`;
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: [{ topic, numPartitions: 6, replicationFactor: -1 }],
});
const load0 = loadavg();
try {
  for (const phase of args.phases.split(',')) {
    if (phase !== 'produce' && !args.phases.includes('produce'))
      throw new Error('the consume phases read what the produce phase wrote: include produce');
    const out = await new Promise<string>((resolve, reject) => {
      let text = '';
      const child = fork(
        fileURLToPath(import.meta.url),
        ['child', phase, topic, ...process.argv.slice(2).filter((a) => a !== 'child')],
        { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
      );
      child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${phase} exited ${code}`))));
    });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as PhaseResult;
    console.log(
      `${r.phase.padEnd(8)} ${r.records} records: ${r.cpuUsPerRecord.toFixed(2)} CPU-µs/record (GC ${(100 * r.gcShare).toFixed(1)} %), ` +
        `${Math.round(r.records / (r.wallMs / 1000))} records/s`,
    );
    if (r.top) console.log(r.top.map((l) => `    ${l}`).join('\n'));
  }
  console.log(
    `records ${records}, round ${round}, value ${valueBytes} B; load average before ` +
      `${load0.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}
