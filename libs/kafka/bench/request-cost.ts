// Benchmark (not a test): the broker's CPU per request, by kind: a produce of one small record (acks=all,
// idempotent), an offset commit of one partition, and a fetch answered at once with one record. CPU time
// (not wall time) of the broker process, so a loaded machine slows the run but moves the figures less.
// Run against a broker of your own (its pid is read from /proc):
//   npx tsx --conditions=@smshub/source libs/kafka/bench/request-cost.ts --brokers 127.0.0.1:PORT \
//     --broker-pid PID [--requests 3000]
// Each kind runs `--requests` requests one after another (one in flight), after 300 of warm-up; the figure
// is the broker's CPU over them divided by their number (idle broker CPU subtracted: measured for 3 s
// before, per second).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string', default: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092' },
    'broker-pid': { type: 'string' },
    requests: { type: 'string', default: '3000' },
  },
});
const pid = values['broker-pid'];
if (!pid) throw new Error('--broker-pid is needed (the broker of your own whose CPU is read)');
const n = Number(values.requests);
const ticks = (): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
const run = `reqcost-${Date.now().toString(36)}`;
const kafka = new Kafka({ clientId: run, brokers: values.brokers.split(','), logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  topics: [{ topic: run, numPartitions: 1, replicationFactor: 1 }],
  waitForLeaders: true,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idle0 = ticks();
const t0 = performance.now();
await sleep(3000);
const idlePerMs = (ticks() - idle0) / (performance.now() - t0);

async function measure(what: string, once: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 300; i++) await once(i);
  const c0 = ticks();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) await once(300 + i);
  const wall = performance.now() - w0;
  const used = ticks() - c0 - idlePerMs * wall;
  console.log(
    `${what}: ${Math.round((used * 10_000) / n)} broker CPU-us per request (${n} in ${Math.round(wall)} ms)`,
  );
}

const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
const value = Buffer.alloc(370, 'x');
await measure('produce, 1 record, acks=all', () =>
  producer.send({ topic: run, acks: -1, messages: [{ key: 'k', value }] }),
);

// Offset commits through a group member (the same request kafkajs sends after a batch).
const consumer = kafka.consumer({ groupId: `${run}-g`, maxWaitTimeInMs: 100 });
await consumer.connect();
await consumer.subscribe({ topic: run, fromBeginning: true });
let joined = false;
consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
while (!joined) await sleep(50);
consumer.pause([{ topic: run }]);
await measure('offset commit, 1 partition', (i) =>
  consumer.commitOffsets([{ topic: run, partition: 0, offset: String(i + 1) }]),
);
await consumer.disconnect();

// Fetches answered at once: read the topic's records one request per record (maxBytes of one batch).
const fetcher = kafka.consumer({
  groupId: `${run}-f`,
  minBytes: 1,
  maxWaitTimeInMs: 500,
  maxBytes: 400,
  maxBytesPerPartition: 400,
});
await fetcher.connect();
await fetcher.subscribe({ topic: run, fromBeginning: true });
let fetches = 0;
fetcher.on(fetcher.events.FETCH, () => fetches++);
let done: () => void = () => undefined;
const finished = new Promise<void>((r) => (done = r));
let c0 = 0;
let w0 = 0;
let started = false;
await fetcher.run({
  autoCommit: false,
  eachBatch: async ({ batch }) => {
    if (!started && fetches >= 300) {
      started = true;
      c0 = ticks();
      w0 = performance.now();
      fetches = 0;
    }
    if (started && fetches >= n - 50) done();
    void batch;
  },
});
await finished;
const wall = performance.now() - w0;
console.log(
  `fetch, answered with 1 record batch: ${Math.round(((ticks() - c0 - idlePerMs * wall) * 10_000) / fetches)} broker CPU-us per request (${fetches} in ${Math.round(wall)} ms)`,
);
await fetcher.disconnect();
await producer.disconnect();
await admin.deleteTopics({ topics: [run] }).catch(() => undefined);
await admin.disconnect();
console.log(`load average ${loadavg()[0]!.toFixed(2)}`);
process.exit(0);
