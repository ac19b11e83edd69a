// Benchmark (not a test): the CPU of a process whose Kafka clients are connected and idle, as most of a
// hub process's consumers are most of the time. Run (with .local/env sourced):
//   npx tsx --conditions=@smshub/source libs/kafka/bench/idle-connections.ts [--consumers 6] [--seconds 20]
//     [--max-wait MS] [--heartbeat MS] [--brokers H:P --broker-pid PID] [--unpatched]
// Starts a TypedProducer and `consumers` TypedConsumers (each its own group on an empty topic; their fetch
// wait `--max-wait`, default the library's, and heartbeat interval `--heartbeat`), waits for their
// assignments and 3 s more, then prints the process's CPU-ms per second over `seconds`, the requests per
// second by API (counted at kafkajs's Connection.send) and the number of broker connections; with
// `--broker-pid` (a broker of your own, deploy/local/kafka.sh with SMSHUB_LOCAL_DIR) the broker's CPU-ms
// per second too. `--unpatched` restores kafkajs's own request-timeout check (every 100 ms per
// connection) for before/after pairs.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '@smshub/logging';
import { createKafka, TypedConsumer, TypedProducer, type TopicCodec } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    consumers: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '20' },
    unpatched: { type: 'boolean', default: false },
    'max-wait': { type: 'string' },
    heartbeat: { type: 'string' },
    brokers: { type: 'string', default: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092' },
    'broker-pid': { type: 'string' },
  },
});
const requests = new Map<string, number>();
let counting = false;
const Connection = createRequire(import.meta.url)('kafkajs/src/network/connection.js') as {
  prototype: { send: (this: unknown, arg: { request: { apiName: string } }) => Promise<unknown> };
};
const send = Connection.prototype.send;
Connection.prototype.send = function (this: unknown, arg) {
  if (counting) requests.set(arg.request.apiName, (requests.get(arg.request.apiName) ?? 0) + 1);
  return send.call(this, arg);
};
/** The broker's CPU ticks (1/100 s), when `--broker-pid` names it. */
function brokerTicks(): number {
  if (!args['broker-pid']) return NaN;
  const stat = readFileSync(`/proc/${args['broker-pid']}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
if (args.unpatched) {
  const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
    prototype: Record<symbol | string, unknown>;
  };
  const original = RequestQueue.prototype[Symbol.for('smshub.kafkajs.requestQueue.timeoutCheck.original')];
  if (original) RequestQueue.prototype['scheduleRequestTimeoutCheck'] = original;
}
const brokers = args.brokers.split(',');
const logger = createLogger({ service: 'kafka-idle-bench', level: 'warn' });
const kafka = createKafka({ brokers, clientId: 'kafka-idle-bench' }, logger);
const topic = `kafka_idle_bench_${Date.now().toString(36)}`;
const codec: TopicCodec<Buffer> = {
  name: topic,
  encode: (v) => v,
  decode: (b) => b as Buffer,
  key: () => 'k',
};
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: [{ topic, numPartitions: 1, replicationFactor: -1 }],
});
const producer = new TypedProducer(kafka, logger);
await producer.connect();
const consumers: TypedConsumer[] = [];
let connections = 0;
try {
  for (let i = 0; i < Number(args.consumers); i++) {
    const c = new TypedConsumer(kafka, logger, {
      groupId: `${topic}-${i}`,
      producer,
      ...(args['max-wait'] !== undefined && { maxWaitMs: Number(args['max-wait']) }),
      ...(args.heartbeat !== undefined && { heartbeatIntervalMs: Number(args.heartbeat) }),
    }).on(codec, () => undefined);
    const assigned = c.waitForAssignment();
    await c.start();
    await assigned;
    consumers.push(c);
  }
  await producer.produce(codec, Buffer.from('x')); // the producer's connection too
  await new Promise((r) => setTimeout(r, 3000));
  const load0 = loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const broker0 = brokerTicks();
  const t0 = performance.now();
  counting = true;
  await new Promise((r) => setTimeout(r, Number(args.seconds) * 1000));
  counting = false;
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  const broker = brokerTicks() - broker0;
  connections = (process as unknown as { _getActiveHandles(): unknown[] })
    ._getActiveHandles()
    .filter((h) => (h as { constructor?: { name?: string } }).constructor?.name === 'Socket').length;
  console.log(
    `${args.unpatched ? 'unpatched' : 'patched'}: ${consumers.length} idle consumers + a producer, ` +
      `${connections} sockets, max wait ${args['max-wait'] ?? 'default'}, heartbeat ${args.heartbeat ?? 'default'}: ` +
      `${((cpu.user + cpu.system) / ms).toFixed(2)} CPU-ms/s over ${args.seconds} s` +
      (args['broker-pid'] ? `, broker ${((broker * 10_000) / ms).toFixed(2)} CPU-ms/s` : '') +
      `; requests/s ${[...requests]
        .sort()
        .map(([api, n]) => `${api} ${((n * 1000) / ms).toFixed(2)}`)
        .join(', ')}; ` +
      `load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`,
  );
} finally {
  for (const c of consumers) await c.stop();
  await producer.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}
