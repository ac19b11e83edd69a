// CPU of routing's sms.delivery.v1 consumer per record: the record handler routing had (libs/kafka's
// per-record path: retries, span scope, heartbeat, a promise per record) against the batch handler it has
// now (src/delivery-consumer.ts), both over real Kafka with the real AdaptiveStore and GreyRouteMonitor.
// Run (needs KAFKA_BROKERS, e.g. `set -a; . .local/env; set +a`):
//   npx tsx --conditions=@smshub/source services/routing/bench/delivery-bench.ts [records=20000] [pairs=3]
// Produces `records` final DELIVERED statuses to a topic of its own (2 partitions), then reads them once with each handler
// as a warm-up and `pairs` times each, alternated (record, batch, record, batch, ...), each time with a fresh group
// from the beginning: this process's CPU time (user + system) from the group's assignment until the
// handler has seen every record, per record. Prints every run and the medians; not a test.
import { randomBytes } from 'node:crypto';
import { SmsDelivery, DeliveryStatus, TrafficType, topics as registry } from '@smshub/contracts';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import type { Pool } from '@smshub/db';
import { v7 as uuidv7 } from 'uuid';
import { AdaptiveStore } from '../src/adaptive-store.js';
import { deliveryBatchHandler } from '../src/delivery-consumer.js';
import { DEFAULT_GREY_ROUTE_CONFIG, GreyRouteMonitor } from '../src/grey-routes.js';
import { SuspicionStore } from '../src/suspicion-store.js';

const total = Number(process.argv[2] ?? 20_000);
const pairs = Number(process.argv[3] ?? 3);
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const logger = createLogger({ service: 'routing-delivery-bench', level: 'warn' });
const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const topic = { ...registry.delivery, name: `bench_delivery_${suffix}`, partitions: 2 };
const kafka = createKafka({ brokers, clientId: `routing-delivery-bench-${suffix}`, ssl: false }, logger);
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: [{ topic: topic.name, numPartitions: topic.partitions, replicationFactor: 1 }],
});
const producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 30_000 });
await producer.connect();

const now = Date.now();
const networks = [
  ['234', '10'],
  ['234', '15'],
  ['262', '01'],
  ['208', '01'],
] as const;
const pending: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const [mcc, mnc] = networks[i % networks.length]!;
  const value = SmsDelivery.fromPartial({
    context: {
      messageId: uuidv7(),
      accountId: 'acc',
      receivedAt: new Date(now - 5_000),
      trafficType: i % 3 === 0 ? TrafficType.TRAFFIC_TYPE_OTP : TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
      destinationInfo: { mcc, mnc, countryCode: 'GB' },
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    connectorId: `con_${i % 3}`,
    segments: 1,
    revision: 2,
    doneAt: new Date(now - 1_000),
    updatedAt: new Date(now - 1_000),
    parts: [{ partNumber: 1, status: DeliveryStatus.DELIVERY_STATUS_DELIVERED, connectorId: `con_${i % 3}` }],
  });
  pending.push(producer.produce(topic, value));
  if (pending.length >= 2_000) await Promise.all(pending.splice(0));
}
await Promise.all(pending);
console.log(`produced ${total} final statuses`);

async function run(mode: 'record' | 'batch'): Promise<number> {
  const adaptive = new AdaptiveStore(3_600_000);
  const grey = new GreyRouteMonitor({
    pool: {} as Pool, // only a probe's receipt (channel PROBE) is written; none here
    producer,
    topics: { routed: registry.routed, suspicion: registry.suspicion },
    logger,
    clock: Date.now,
    prefixes: () => undefined,
    suspicions: new SuspicionStore(),
    config: DEFAULT_GREY_ROUTE_CONFIG,
  });
  const consumer = new TypedConsumer(kafka, logger, {
    groupId: `bench_delivery_${mode}_${uuidv7()}`,
    fromBeginning: true,
    producer,
  });
  let seen = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  let learnt = 0;
  if (mode === 'record')
    consumer.on(topic, (r) => {
      if (adaptive.apply(r.value)) learnt++;
      if (++seen === total) done();
      return grey.onDelivery(r.value);
    });
  else {
    const handle = deliveryBatchHandler(adaptive, grey, () => learnt++);
    consumer.onBatch(topic, async (records) => {
      await handle(records);
      seen += records.length;
      if (seen === total) done();
    });
  }
  const assigned = consumer.waitForAssignment();
  await consumer.start();
  await assigned;
  const cpu = process.cpuUsage();
  await all;
  const used = process.cpuUsage(cpu);
  await consumer.stop();
  if (adaptive.book.size === 0 || learnt === 0) throw new Error(`${mode}: nothing learnt`);
  return (used.user + used.system) / total;
}

const results: Record<'record' | 'batch', number[]> = { record: [], batch: [] };
// Warm-up (compilation, connections): one run of each, not counted.
for (const mode of ['record', 'batch'] as const) await run(mode);
for (let i = 0; i < pairs; i++) {
  for (const mode of ['record', 'batch'] as const) {
    const us = await run(mode);
    results[mode].push(us);
    console.log(`${mode}: ${us.toFixed(1)} CPU-µs per record`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const { loadavg } = await import('node:os');
console.log(
  `median over ${pairs} runs each: record handler ${median(results.record).toFixed(1)} µs, batch handler ${median(results.batch).toFixed(1)} µs per record; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
await producer.close();
await admin.deleteTopics({ topics: [topic.name] });
await admin.disconnect();
