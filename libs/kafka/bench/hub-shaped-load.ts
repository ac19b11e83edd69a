// Benchmark (not a test): the hub's Kafka traffic without the hub, to measure what the broker and the
// clients spend per message and how many produce and fetch requests a message costs.
// Run (against a broker of your own: its pid is read for its CPU):
//   npx tsx --conditions=@smshub/source libs/kafka/bench/hub-shaped-load.ts --brokers 127.0.0.1:PORT \
//     --broker-pid PID [--rate 720] [--seconds 30] [--warmup 5] [--idle 10] [--linger 2] [--ingress-linger 0]
//     [--json] [--default-min-bytes 1] [--default-max-wait 500] [--commit-interval 1000]
// The shape follows docs/performance.md ("Records per message"): per message, one record on each of six
// 6-partition topics from the producer of the service that writes it (ingress, routing, egress twice,
// dlr, rating: five TypedProducers), read by the same consumer groups as in the hub with their fetch
// options (14 records fetched per message; --default-min-bytes / --default-max-wait replace those of
// routing's submitted, routing's adaptive and webhooks: 32 KiB / 50 ms, 64 KiB / 500 ms, 64 KiB / 200 ms
// as in the hub since session 10), plus `--idle`
// groups on a topic nobody writes (configuration changes, balances, schedules...). Records are ~370 bytes
// (a hub record), keyed by a message id. Messages are paced evenly (every 5 ms). `--linger` is the linger of
// every producer (the library's 2 ms by default), `--ingress-linger` replaces it for ingress's (the hub's
// is 0); the hub's routing, egress, dlr and rating produce once per consumed batch, which e.g. `--linger 50`
// comes close to (their fetches wait up to 50 ms).
// Prints, for the measured window: the broker's CPU-µs per message (from /proc/PID/stat), this process's
// (all producers and consumers: the clients' share), and the requests per message by API and by client
// (kafkajs's REQUEST instrumentation events). Topics are deleted at the end.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '@smshub/logging';
import {
  createKafka,
  ensureTopics,
  TypedConsumer,
  TypedProducer,
  type Kafka,
  type ProducerOptions,
  type TopicCodec,
  withAdminRetries,
} from '../src/index.js';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string', default: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092' },
    'broker-pid': { type: 'string' },
    rate: { type: 'string', default: '720' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    idle: { type: 'string', default: '10' },
    linger: { type: 'string' },
    'ingress-linger': { type: 'string' },
    'commit-interval': { type: 'string' },
    'default-min-bytes': { type: 'string' },
    'default-max-wait': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const brokerPid = values['broker-pid'];
const logger = createLogger({ service: 'kafka-hub-load', level: 'warn' });
const run = `hubload-${Date.now().toString(36)}`;

const codec = (name: string): TopicCodec<Buffer> => ({
  name,
  encode: (v) => v,
  decode: (b) => b as Buffer,
  key: () => '',
});
const T = {
  submitted: codec(`${run}.submitted`),
  routed: codec(`${run}.routed`),
  dispatched: codec(`${run}.dispatched`),
  receipt: codec(`${run}.receipt`),
  delivery: codec(`${run}.delivery`),
  rated: codec(`${run}.rated`),
  idle: codec(`${run}.idle`),
};
type TopicName = keyof typeof T;

/** Requests seen by kafkajs's instrumentation, by client name and API. */
const requests = new Map<string, Map<string, number>>();
const durations = new Map<string, number>();
let counting = false;
function countRequests(
  client: string,
  on: (listener: (e: { payload: { apiName: string; duration: number } }) => void) => void,
) {
  on((e) => {
    if (!counting) return;
    durations.set(e.payload.apiName, (durations.get(e.payload.apiName) ?? 0) + e.payload.duration);
    const m = requests.get(client) ?? new Map<string, number>();
    m.set(e.payload.apiName, (m.get(e.payload.apiName) ?? 0) + 1);
    requests.set(client, m);
  });
}

function cpuTicksOf(pid: string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100 per second)
}

const kafka: Kafka = createKafka({ brokers: values.brokers.split(','), clientId: run }, logger);
const admin = kafka.admin();
await admin.connect();
await ensureTopics(
  admin,
  Object.values(T).map((t) => ({
    name: t.name,
    partitions: t === T.idle ? 1 : 6,
    retentionMs: 3600_000,
    compacted: false,
  })),
  { replicationFactor: 1, minInsyncReplicas: 1 },
);
await withAdminRetries(() => admin.fetchTopicMetadata({ topics: Object.values(T).map((t) => t.name) }));

const lingerOpt: ProducerOptions = values.linger !== undefined ? { lingerMs: Number(values.linger) } : {};
const producers = {
  ingress: new TypedProducer(kafka, logger, {
    definiteOutcome: true,
    ...lingerOpt,
    ...(values['ingress-linger'] !== undefined && { lingerMs: Number(values['ingress-linger']) }),
  }),
  routing: new TypedProducer(kafka, logger, lingerOpt),
  egress: new TypedProducer(kafka, logger, lingerOpt),
  dlr: new TypedProducer(kafka, logger, lingerOpt),
  rating: new TypedProducer(kafka, logger, { definiteOutcome: true, ...lingerOpt }),
};
for (const [name, p] of Object.entries(producers)) {
  await p.connect();
  const inner = (
    p as unknown as {
      producer: { on: (e: string, l: (e: never) => void) => void; events: { REQUEST: string } };
    }
  ).producer;
  countRequests(`producer ${name}`, (l) => inner.on(inner.events.REQUEST, l));
}
const writer: Record<Exclude<TopicName, 'idle'>, TypedProducer> = {
  submitted: producers.ingress,
  routed: producers.routing,
  dispatched: producers.egress,
  receipt: producers.egress,
  delivery: producers.dlr,
  rated: producers.rating,
};

const dflt = {
  ...(values['default-min-bytes'] !== undefined && { minBytes: Number(values['default-min-bytes']) }),
  ...(values['default-max-wait'] !== undefined && { maxWaitMs: Number(values['default-max-wait']) }),
};
/** The hub's message-flow groups, their topics and fetch options (services/*: consumer options). */
const groups: { name: string; topics: TopicName[]; minBytes?: number; maxWaitMs?: number }[] = [
  { name: 'routing', topics: ['submitted'], minBytes: 32 * 1024, maxWaitMs: 50, ...dflt },
  {
    name: 'dlr',
    topics: ['submitted', 'routed', 'dispatched', 'receipt', 'rated'],
    minBytes: 512 * 1024,
    maxWaitMs: 100,
  },
  { name: 'egress', topics: ['routed'], minBytes: 32 * 1024, maxWaitMs: 50 },
  { name: 'stats', topics: ['routed', 'rated'], minBytes: 64 * 1024, maxWaitMs: 250 },
  { name: 'rating', topics: ['dispatched', 'delivery'], minBytes: 64 * 1024, maxWaitMs: 250 },
  { name: 'ingress-receipts', topics: ['delivery'], minBytes: 64 * 1024, maxWaitMs: 50 },
  { name: 'routing-adaptive', topics: ['delivery'], minBytes: 64 * 1024, maxWaitMs: 500, ...dflt },
  { name: 'webhooks', topics: ['delivery'], minBytes: 64 * 1024, maxWaitMs: 200, ...dflt },
];
for (let i = 0; i < Number(values.idle); i++) groups.push({ name: `idle-${i}`, topics: ['idle'] });
// Each group's dead-letter and replay topics, made here and waited for (a consumer subscribes to its replay
// topic right after creating it, which a busy broker may not host yet).
const groupTopics = groups.flatMap((g) => [`${run}.${g.name}.dlq`, `${run}.${g.name}.replay`]);
await ensureTopics(
  admin,
  groupTopics.map((name) => ({ name, partitions: 1, retentionMs: 3600_000, compacted: false })),
  { replicationFactor: 1, minInsyncReplicas: 1 },
);
await withAdminRetries(() => admin.fetchTopicMetadata({ topics: groupTopics }));

let consumed = 0;
const consumers: TypedConsumer[] = [];
for (const g of groups) {
  const c = new TypedConsumer(kafka, logger, {
    groupId: `${run}.${g.name}`,
    producer: producers.routing,
    fromBeginning: false,
    ...(values['commit-interval'] !== undefined && { commitIntervalMs: Number(values['commit-interval']) }),
    partitionsConsumedConcurrently: g.name === 'dlr' ? 6 : 1,
    ...(g.minBytes !== undefined && { minBytes: g.minBytes }),
    ...(g.maxWaitMs !== undefined && { maxWaitMs: g.maxWaitMs }),
  });
  for (const t of g.topics)
    c.onBatch(T[t], (records) => {
      consumed += records.length;
    });
  const inner = (
    c as unknown as {
      consumer: { on: (e: string, l: (e: never) => void) => void; events: { REQUEST: string } };
    }
  ).consumer;
  countRequests(`group ${g.name}`, (l) => inner.on(inner.events.REQUEST, l));
  consumers.push(c);
}
await Promise.all(consumers.map((c) => Promise.all([c.waitForAssignment(60_000), c.start()])));

const pad = Buffer.alloc(330, 'x');
let sent = 0;
let failed = 0;
const t0 = performance.now();
const ticker = setInterval(() => {
  const due = Math.floor(((performance.now() - t0) / 1000) * rate);
  for (; sent < due; sent++) {
    const id = randomUUID();
    const value = Buffer.concat([Buffer.from(id), pad]);
    for (const [topic, p] of Object.entries(writer)) {
      p.produce(T[topic as TopicName], value, { key: id }).catch(() => failed++);
    }
  }
}, 5);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
await sleep(warmup * 1000);
const load0 = loadavg()[0]!;
const sent0 = sent;
const consumed0 = consumed;
const broker0 = brokerPid ? cpuTicksOf(brokerPid) : 0;
const self0 = process.cpuUsage();
counting = true;
await sleep(seconds * 1000);
counting = false;
const self = process.cpuUsage(self0);
const broker1 = brokerPid ? cpuTicksOf(brokerPid) : 0;
const messages = sent - sent0;
const fetched = consumed - consumed0;
const load1 = loadavg()[0]!;
clearInterval(ticker);

const perMsg = (n: number) => Math.round((n / messages) * 1000) / 1000;
const byApi = new Map<string, number>();
const byClient: Record<string, Record<string, number>> = {};
for (const [client, m] of requests) {
  byClient[client] = {};
  for (const [api, n] of m) {
    byApi.set(api, (byApi.get(api) ?? 0) + n);
    byClient[client]![api] = perMsg(n);
  }
}
const result = {
  rate,
  seconds,
  messages,
  recordsFetchedPerMessage: perMsg(fetched),
  brokerCpuUsPerMessage: brokerPid ? Math.round(((broker1 - broker0) * 10_000) / messages) : null,
  clientsCpuUsPerMessage: Math.round((self.user + self.system) / messages),
  requestsPerMessage: Object.fromEntries([...byApi].map(([api, n]) => [api, perMsg(n)])),
  requestsPerMessageByClient: byClient,
  failed,
  load: [load0, load1].map((l) => Math.round(l * 100) / 100),
};

for (const c of consumers) await c.stop();
for (const p of Object.values(producers)) await p.close();
await admin
  .deleteTopics({ topics: [...Object.values(T).map((t) => t.name), ...groupTopics] })
  .catch(() => undefined);
await admin.deleteGroups(groups.map((g) => `${run}.${g.name}`)).catch(() => undefined);
await admin.disconnect();

if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `${messages} messages at ${rate}/s over ${seconds} s (load ${result.load.join(' -> ')}); ` +
      `records fetched per message ${result.recordsFetchedPerMessage}; failed ${failed}`,
  );
  console.log(
    `broker ${result.brokerCpuUsPerMessage ?? '?'} CPU-us per message; clients (this process) ${result.clientsCpuUsPerMessage}`,
  );
  console.log('requests per message:', JSON.stringify(result.requestsPerMessage));
  console.log(
    'mean duration (ms):',
    JSON.stringify(Object.fromEntries([...durations].map(([a, d]) => [a, Math.round(d / byApi.get(a)!)]))),
  );
  for (const [client, m] of Object.entries(byClient)) console.log(`  ${client}: ${JSON.stringify(m)}`);
}
process.exit(0);
