// CPU of routing's sms.delivery.v1 consumer per record, over real Kafka with the real AdaptiveStore and
// GreyRouteMonitor, in three forms run alternated in this process:
//   before: the handler of session 6 (the whole SmsDelivery decoded by the generated decoder; every record
//           put in two WeakSets; the monitor's async onDelivery awaited per record), copied below;
//   full:   today's handler (src/delivery-consumer.ts) on records decoded by the generated decoder;
//   view:   today's handler on routing's slim view (src/delivery-view.ts), as the service runs it.
// Run (needs KAFKA_BROKERS, e.g. `set -a; . .local/env; set +a`):
//   npx tsx --conditions=@smshub/source services/routing/bench/delivery-bench.ts [records=20000] [rounds=3]
// Produces `records` final DELIVERED statuses shaped like dlr's (full message context, one part) to a topic
// of its own (2 partitions), then reads them once with each form as a warm-up and `rounds` times each,
// alternated, each time with a fresh group from the beginning: this process's CPU time (user + system) from
// the group's assignment until the handler has seen every record, per record. Prints every run and the
// medians; not a test.
import { randomBytes } from 'node:crypto';
import {
  SmsDelivery,
  DeliveryStatus,
  SubmitChannel,
  TrafficType,
  topics as registry,
} from '@smshub/contracts';
import {
  createKafka,
  TypedConsumer,
  TypedProducer,
  type BatchHandler,
  type ConsumedRecord,
} from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import type { Pool } from '@smshub/db';
import { v7 as uuidv7 } from 'uuid';
import { AdaptiveStore } from '../src/adaptive-store.js';
import { deliveryBatchHandler } from '../src/delivery-consumer.js';
import { deliveryViewCodec, type DeliveryView } from '../src/delivery-view.js';
import { DEFAULT_GREY_ROUTE_CONFIG, GreyRouteMonitor } from '../src/grey-routes.js';
import { SuspicionStore } from '../src/suspicion-store.js';

const total = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 3);
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
      accountId: 'acc_bank_1',
      systemId: 'bank1',
      customerMessageId: randomBytes(8).toString('hex'),
      source: { address: 'BANKNAME', ton: 5, npi: 0 },
      destination: { address: `4479${String(11_000_000 + i).padStart(8, '0')}`, ton: 1, npi: 1 },
      registeredDelivery: 1,
      receivedAt: new Date(now - 5_000),
      receiptText: Buffer.from('Your code is 123456'),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
      validityUntil: new Date(now + 86_400_000),
      trafficType: i % 3 === 0 ? TrafficType.TRAFFIC_TYPE_OTP : TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
      destinationInfo: { mcc, mnc, countryCode: 'GB', matchedPrefix: '4479', ported: false, source: 1 },
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    connectorId: `con_${i % 3}`,
    segments: 1,
    revision: 2,
    doneAt: new Date(now - 1_000),
    updatedAt: new Date(now - 1_000),
    parts: [
      {
        partNumber: 1,
        status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
        connectorId: `con_${i % 3}`,
        supplierMessageId: randomBytes(8).toString('hex'),
        doneAt: new Date(now - 1_000),
      },
    ],
  });
  pending.push(producer.produce(topic, value));
  if (pending.length >= 2_000) await Promise.all(pending.splice(0));
}
await Promise.all(pending);
console.log(`produced ${total} final statuses`);

/** Session 6's handler (before delivery-view.ts), as it was, on full SmsDelivery values. */
function handlerBefore(
  adaptive: AdaptiveStore,
  greyRoutes: { onDelivery(d: SmsDelivery): Promise<void> },
  onLearnt: () => void,
): BatchHandler<SmsDelivery> {
  const learnt = new WeakSet<ConsumedRecord<SmsDelivery>>();
  const observed = new WeakSet<ConsumedRecord<SmsDelivery>>();
  return async (records) => {
    let any = false;
    for (const r of records) {
      if (learnt.has(r)) continue;
      learnt.add(r);
      if (adaptive.apply(r.value)) any = true;
    }
    if (any) onLearnt();
    for (const r of records) {
      if (observed.has(r)) continue;
      await greyRoutes.onDelivery(r.value);
      observed.add(r);
    }
  };
}

type Mode = 'before' | 'full' | 'view';

async function run(mode: Mode): Promise<number> {
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
  const counted =
    <T>(handle: BatchHandler<T>): BatchHandler<T> =>
    async (records) => {
      await handle(records);
      seen += records.length;
      if (seen === total) done();
    };
  if (mode === 'before')
    consumer.onBatch(
      topic,
      counted(
        // The monitor's onDelivery was an async method: a promise per record.
        handlerBefore(adaptive, { onDelivery: async (d) => grey.onDelivery(d) }, () => learnt++),
      ),
    );
  else if (mode === 'full')
    consumer.onBatch(topic, counted<SmsDelivery>(deliveryBatchHandler(adaptive, grey, () => learnt++)));
  else
    consumer.onBatch(
      deliveryViewCodec(topic),
      counted<DeliveryView>(deliveryBatchHandler(adaptive, grey, () => learnt++)),
    );
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

const modes: Mode[] = ['before', 'full', 'view'];
const results: Record<Mode, number[]> = { before: [], full: [], view: [] };
// Warm-up (compilation, connections): one run of each, not counted.
for (const mode of modes) await run(mode);
for (let i = 0; i < rounds; i++) {
  for (const mode of modes) {
    const us = await run(mode);
    results[mode].push(us);
    console.log(`${mode}: ${us.toFixed(1)} CPU-µs per record`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const { loadavg } = await import('node:os');
console.log(
  `median over ${rounds} runs each, CPU-µs per record: ${modes.map((m) => `${m} ${median(results[m]).toFixed(1)}`).join(', ')}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
await producer.close();
await admin.deleteTopics({ topics: [topic.name] });
await admin.disconnect();
