// Accepted POST /v1/messages per second and latency of ONE http-api process with Kafka acks=all, against the
// running broker and Postgres (KAFKA_BROKERS, DATABASE_URL; `set -a; . .local/env; set +a`).
// Not a test: it prints figures. `npm run bench -- http` runs it.
//
//   npx tsx --conditions=@smshub/source services/http-api/bench/http-bench.ts [seconds=15] [connections=128]
//
// A throwaway database (every migration), topics with the registry's layout under unique names, an account
// with a customer API key, and http-api built in this process from its core (as main.ts wires it). The load
// generator (autocannon, keep-alive, one request in flight per connection) runs in a child process
// (http-load.ts), so this process's CPU is the service's own (its Kafka producer included).
// Phases: a warm-up (not counted), a saturation phase (as fast as answered), then a phase at half the
// saturated rate, requests evenly spaced (open loop, latency from each request's due time: see
// http-load.ts), whose latency percentiles are the ones to read; then the same rate as autocannon paces
// it (bursts; for comparison with earlier runs). Each phase also reports the Kafka produce round trip
// (kafkajs's request instrumentation) and this process's event-loop delay, where a p99 comes from.
// HTTP_BENCH_PROFILE=<file.cpuprofile> writes a V8 CPU profile of this process during the saturation phase.
// HTTP_BENCH_AUTOCANNON_RATE=0 skips the comparison phase at autocannon's pacing.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateSecret, hashSecret } from '@smshub/auth';
import { topics as registry } from '@smshub/contracts';
import { createPool, migrate } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { metricsRegistry } from '@smshub/telemetry';
import { createIsolatedTopics, createTestDatabase, profileTo, uniqueName } from '@smshub/testing';
import { createHttpApi, DEFAULT_OPTIONS } from '../src/index.js';
import { HTTP_API_PRODUCER_OPTIONS } from '../src/durable-accept.js';

const seconds = Number(process.argv[2] ?? 15);
const connections = Number(process.argv[3] ?? 128);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('DATABASE_URL is required (set -a; . .local/env; set +a)');
const logger = createLogger({ service: 'http-api-bench', level: 'warn' });
const db = await createTestDatabase(adminUrl);
const pool = createPool({ connectionString: db.url, max: 10 });
await migrate(pool);
// The registry's partition counts (6 for the flow topics), as a deployment has them.
const topics = await createIsolatedTopics(registry, { maxPartitions: 64, brokers });
const kafka = createKafka({ brokers, clientId: uniqueName('http-bench'), ssl: false }, logger);
// The produce round trips (ms) of every kafkajs producer TypedProducer makes (it makes a new one after a
// failed batch): kafkajs's REQUEST instrumentation event, Produce requests only.
const produceRoundTrips: number[] = [];
const makeProducer = kafka.producer.bind(kafka);
kafka.producer = (config) => {
  const p = makeProducer(config);
  p.on(p.events.REQUEST, (e) => {
    if (e.payload.apiName === 'Produce') produceRoundTrips.push(e.payload.duration);
  });
  return p;
};
const producer = new TypedProducer(kafka, logger, HTTP_API_PRODUCER_OPTIONS);
await producer.connect();
const consumers: TypedConsumer[] = [];
const api = createHttpApi({
  options: {
    ...DEFAULT_OPTIONS,
    replicaId: uniqueName('bench'),
    port: 0,
    groupPrefix: uniqueName('bench'),
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
// Server-side time of each accepted POST /v1/messages (request received -> answer sent; Fastify's
// elapsedTime): what the service itself adds, without the load generator's or the network's queueing.
const serverTimes: number[] = [];
api.server.addHook('onResponse', (req, reply, done) => {
  if (reply.statusCode === 202) serverTimes.push(reply.elapsedTime);
  done();
});
const { port } = await api.start();
const url = `http://127.0.0.1:${port}`;

// A postpaid account whose TPS limit is far above what one process can take, and its customer API key.
const hash = '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const { rows } = await pool.query<{ id: string }>(
  `INSERT INTO accounts (system_id, password_hash, tps_limit, currency)
   VALUES ('bench', $1, 1000000, 'EUR') RETURNING id::text`,
  [hash],
);
const key = generateSecret();
await pool.query(
  `INSERT INTO auth_tokens (id, token_hash, name, role, account_id) VALUES ($1, $2, 'bench', 'customer', $3)`,
  [randomUUID(), hashSecret(key), rows[0]!.id],
);
await api.accounts.reload();

interface PhaseResult {
  seconds: number;
  requests: number;
  accepted: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; p999?: number; max: number; mean: number };
  sendLagMs?: { p50: number; p99: number; max: number };
  cpuMicros: number;
}
const client = fork(fileURLToPath(new URL('./http-load.ts', import.meta.url)));
const fromClient = <T>(type: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }): void => {
      if (m.type === 'error') reject(new Error(`load generator: ${m.message}`));
      if (m.type !== type) return;
      client.off('message', onMessage);
      resolve(m as T);
    };
    client.on('message', onMessage);
    client.once('exit', (code) => reject(new Error(`the load generator exited (code ${code})`)));
  });
await fromClient('ready');

/** CPU ticks (utime + stime, all threads) of this process, from /proc. */
async function procTicks(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
const TICK_MICROS = 10_000; // CLK_TCK is 100 on Linux

/** Produce requests the service's Kafka producer sent so far, and the records they carried. */
async function produceBatches(): Promise<{ requests: number; records: number }> {
  const m = await metricsRegistry.getSingleMetric('smshub_kafka_produce_batch_records')?.get();
  // A histogram's values carry their series name (_bucket, _sum, _count).
  const values = (m?.values ?? []) as { metricName?: string; value: number }[];
  const value = (suffix: string): number =>
    values.find((v) => v.metricName === `smshub_kafka_produce_batch_records${suffix}`)?.value ?? 0;
  return { requests: value('_count'), records: value('_sum') };
}

const pct = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : 0;
};

async function phase(p: {
  seconds: number;
  connections: number;
  rate?: number;
  pacer?: 'even' | 'autocannon';
}) {
  produceRoundTrips.length = 0;
  serverTimes.length = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const batches0 = await produceBatches();
  const ticks0 = await procTicks();
  const cpu0 = process.cpuUsage();
  const done = fromClient<PhaseResult>('done');
  client.send({ url, key, ...p });
  const r = await done;
  loopDelay.disable();
  const cpu = process.cpuUsage(cpu0);
  const ticks = (await procTicks()) - ticks0;
  const batches1 = await produceBatches();
  const requests = batches1.requests - batches0.requests;
  const per = (micros: number): number => Number((micros / Math.max(1, r.accepted)).toFixed(1));
  return {
    connections: p.connections,
    ...(p.rate ? { targetPerSecond: p.rate, pacer: p.pacer ?? 'even' } : {}),
    seconds: r.seconds,
    accepted: r.accepted,
    rejectedNon2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    acceptedPerSecond: Math.round(r.accepted / r.seconds),
    latencyMs: r.latencyMs,
    // Group commit: one produce request in flight, its records the requests that waited for it; at
    // saturation the time between produce requests is the Kafka acks=all round trip.
    kafkaProduceRequests: requests,
    kafkaRecordsPerProduceRequest: Number(
      ((batches1.records - batches0.records) / Math.max(1, requests)).toFixed(1),
    ),
    kafkaMsBetweenProduceRequests: Number(((r.seconds * 1000) / Math.max(1, requests)).toFixed(1)),
    serverMs: {
      p50: Number(pct(serverTimes, 0.5).toFixed(1)),
      p99: Number(pct(serverTimes, 0.99).toFixed(1)),
      max: Number(pct(serverTimes, 1).toFixed(1)),
    },
    ...(r.sendLagMs && { loadGeneratorSendLagMs: r.sendLagMs }),
    // Produce request round trip as kafkajs measures it (sent -> answered, acks=all).
    kafkaProduceRoundTripMs: {
      p50: pct(produceRoundTrips, 0.5),
      p99: pct(produceRoundTrips, 0.99),
      max: pct(produceRoundTrips, 1),
    },
    // How late this process's event loop ran a 1 ms timer (GC, long tasks, CPU starvation).
    eventLoopDelayMs: {
      p50: Number((loopDelay.percentile(50) / 1e6).toFixed(1)),
      p99: Number((loopDelay.percentile(99) / 1e6).toFixed(1)),
      max: Number((loopDelay.max / 1e6).toFixed(1)),
    },
    // This process: the service and its Kafka producer (the load generator is the child process).
    serviceCpuMicrosPerAccepted: per(cpu.user + cpu.system),
    serviceCpuMicrosPerAcceptedFromProc: per(ticks * TICK_MICROS),
    serviceCpuCores: Number(((cpu.user + cpu.system) / 1e6 / r.seconds).toFixed(2)),
    loadGeneratorCpuMicrosPerAccepted: per(r.cpuMicros),
  };
}

await phase({ seconds: 3, connections }); // warm-up: connections, JIT, Kafka metadata
const stopProfile = await profileTo(process.env.HTTP_BENCH_PROFILE);
const saturation = await phase({ seconds, connections });
await stopProfile();
const half = Math.max(1, Math.round(saturation.acceptedPerSecond / 2));
const halfRate = await phase({ seconds, connections, rate: half, pacer: 'even' });
const halfRateAutocannon =
  process.env.HTTP_BENCH_AUTOCANNON_RATE === '0'
    ? undefined
    : await phase({ seconds, connections, rate: half, pacer: 'autocannon' });
client.send({ type: 'exit' });

console.log(
  JSON.stringify(
    {
      bench: 'http-api: POST /v1/messages, one process, keep-alive, Kafka acks=all',
      saturation,
      halfRate,
      ...(halfRateAutocannon && { halfRateAutocannon }),
      targets: {
        acceptedPerSecond: '>= 3000',
        p99AtHalfRateMs: '<= 20',
        met: {
          acceptedPerSecond: saturation.acceptedPerSecond >= 3000,
          p99AtHalfRate: halfRate.latencyMs.p99 <= 20,
        },
      },
      loadAverage: { before: loadBefore, after: load() },
      cores: (await readFile('/proc/cpuinfo', 'utf8')).split('\n').filter((l) => l.startsWith('processor'))
        .length,
      node: process.version,
      kafka: 'acks=all, idempotent producer, registry partitions, shared local broker',
    },
    null,
    2,
  ),
);

await api.stop();
await Promise.all(consumers.map((c) => c.stop().catch(() => undefined)));
await producer.close();
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics: Object.values(topics).map((t) => t.name) }).catch(() => undefined);
await admin.disconnect();
await pool.end();
await db.drop();
