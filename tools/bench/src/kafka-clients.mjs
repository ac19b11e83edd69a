// Micro-benchmark for issue 17's "another Kafka client" question: CPU per record of kafkajs vs
// @platformatic/kafka producing and consuming the same N records (~300 B, the size of an sms.submitted.v1
// record) in batches of 500 with an idempotent acks=all producer (as libs/kafka's), then reading them back
// with a fresh consumer group from the earliest offset (fetch limits as libs/kafka's: 1 MiB, 256 KiB a
// partition). Not part of the workspace: @platformatic/kafka is not a dependency. Run it in a scratch
// directory outside the repository (docs/performance.md "Kafka client"):
//   mkdir /tmp/kclient && cd /tmp/kclient && npm init -y && npm install kafkajs@2.2.4 @platformatic/kafka@1.35.0
//   cp <repo>/tools/bench/src/kafka-clients.mjs . && KAFKA_BROKERS=... node kafka-clients.mjs kafkajs 50000
//   (then platformatic, alternating). Plain JavaScript (.mjs, like cpu-profile.mjs) so that the workspace's
// typecheck does not need the package.
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [client, nArg] = process.argv.slice(2);
const N = Number(nArg ?? 50_000);
const BATCH = 500;
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topic = `kbench-${client}-${randomUUID().slice(0, 8)}`;
const payloads = Array.from({ length: 64 }, () => randomBytes(300));
const keys = Array.from({ length: 64 }, () => randomUUID());

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function kafkajsRun() {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ clientId: 'kbench', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let c0 = cpu();
  let t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++)
      messages.push({ key: keys[j % 64], value: payloads[j % 64] });
    await producer.send({ topic, messages, acks: -1 });
  }
  const produce = { cpu: cpu() - c0, ms: performance.now() - t0 };
  await producer.disconnect();
  const consumer = kafka.consumer({
    groupId: `kbench-${randomUUID()}`,
    maxBytes: 1024 * 1024,
    maxBytesPerPartition: 256 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  c0 = cpu();
  t0 = performance.now();
  await new Promise((resolve) => {
    consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        let bytes = 0;
        for (const m of batch.messages) bytes += m.value.length;
        seen += batch.messages.length;
        if (seen >= N && bytes >= 0) resolve();
      },
    });
  });
  const consume = { cpu: cpu() - c0, ms: performance.now() - t0 };
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  return { produce, consume };
}

async function platformaticRun() {
  const { Admin, Producer, Consumer, ProduceAcks } = await import('@platformatic/kafka');
  const admin = new Admin({ clientId: 'kbench', bootstrapBrokers: brokers });
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  // wait for the leaders
  for (let i = 0; i < 50; i++) {
    try {
      const md = await admin.metadata({ topics: [topic] });
      const t = md.topics.get(topic);
      if (t && t.partitionsCount === 3) break;
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const producer = new Producer({
    clientId: 'kbench',
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
  });
  let c0 = cpu();
  let t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++)
      messages.push({ topic, key: Buffer.from(keys[j % 64]), value: payloads[j % 64] });
    await producer.send({ messages });
  }
  const produce = { cpu: cpu() - c0, ms: performance.now() - t0 };
  await producer.close();
  const consumer = new Consumer({
    groupId: `kbench-${randomUUID()}`,
    clientId: 'kbench',
    bootstrapBrokers: brokers,
    maxBytes: 1024 * 1024,
    maxBytesPerPartition: 256 * 1024,
  });
  let seen = 0;
  c0 = cpu();
  t0 = performance.now();
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
  await new Promise((resolve) => {
    stream.on('data', (m) => {
      seen++;
      if (seen >= N && m.value.length >= 0) resolve();
    });
  });
  const consume = { cpu: cpu() - c0, ms: performance.now() - t0 };
  await stream.close();
  await consumer.close();
  await admin.deleteTopics({ topics: [topic] });
  await admin.close();
  return { produce, consume };
}

const r = client === 'kafkajs' ? await kafkajsRun() : await platformaticRun();
const us = (x) => (x.cpu / N).toFixed(1);
console.log(
  `${client.padEnd(12)} N=${N} produce ${us(r.produce)} cpu-us/rec (${(N / (r.produce.ms / 1000)).toFixed(0)} rec/s)  ` +
    `consume ${us(r.consume)} cpu-us/rec (${(N / (r.consume.ms / 1000)).toFixed(0)} rec/s)  total ${((r.produce.cpu + r.consume.cpu) / N).toFixed(1)} cpu-us/rec`,
);
process.exit(0);
