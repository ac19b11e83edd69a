// Benchmark (not a test): the memory of a consumer working through a backlog, with the fetch limits given.
// Run (with .local/env sourced):
//   npx tsx --conditions=@smshub/source libs/kafka/bench/backlog-memory.ts [records=200000] [maxBytes] [maxBytesPerPartition]
// Fills a 6-partition topic with records of ~370 bytes (the size of a hub message record), then a child
// process consumes it from the beginning with a TypedConsumer batch handler (decoding each record, as the
// services do) and reports its peak RSS (VmHWM), its CPU per record and the largest batch. Without limits
// given, the library default (FETCH_LIMITS_DEFAULT) applies; kafkajs's own default is 10485760 1048576.
// Deletes its topic at the end.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@smshub/logging';
import { createKafka, TypedConsumer, TypedProducer, type TopicCodec } from '../src/index.js';

interface Item {
  id: string;
  pad: string;
}
const codec = (name: string): TopicCodec<Item> => ({
  name,
  encode: (v) => Buffer.from(JSON.stringify(v)),
  decode: (b) => JSON.parse(Buffer.from(b).toString('utf8')) as Item,
  key: (v) => v.id,
});
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const logger = createLogger({ service: 'kafka-backlog-bench', level: 'warn' });

if (process.argv[2] === 'consume') {
  // The child: consume `total` records of `topic`, then print one JSON line.
  const [, , , topic, total, maxBytes, maxBytesPerPartition] = process.argv;
  const kafka = createKafka({ brokers, clientId: `backlog-consumer-${process.pid}` }, logger);
  const producer = new TypedProducer(kafka, logger);
  await producer.connect();
  const consumer = new TypedConsumer(kafka, logger, {
    groupId: `${topic}-g`,
    producer,
    partitionsConsumedConcurrently: 6,
    ...(maxBytes
      ? { fetch: { maxBytes: Number(maxBytes), maxBytesPerPartition: Number(maxBytesPerPartition) } }
      : {}),
  });
  let seen = 0;
  let largest = 0;
  consumer.onBatch(codec(topic!), async (records) => {
    seen += records.length;
    largest = Math.max(largest, records.length);
    await new Promise((r) => setImmediate(r));
  });
  const cpu0 = process.cpuUsage();
  await consumer.start();
  while (seen < Number(total)) await new Promise((r) => setTimeout(r, 50));
  const cpu = process.cpuUsage(cpu0);
  const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
  console.log(
    JSON.stringify({
      seen,
      largest,
      peakRssMb: Math.round(Number(hwm) / 1024),
      cpuUs: (cpu.user + cpu.system) / seen,
    }),
  );
  await consumer.stop();
  await producer.close();
  process.exit(0);
}

const total = Number(process.argv[2] ?? 200_000);
const [maxBytes, maxBytesPerPartition] = process.argv.slice(3, 5);
const kafka = createKafka({ brokers, clientId: 'kafka-backlog-bench' }, logger);
const topic = `kafka_backlog_bench_${Date.now().toString(36)}`;
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: [{ topic, numPartitions: 6, replicationFactor: 1 }],
});
try {
  const producer = new TypedProducer(kafka, logger, { maxBatchRecords: 1000 });
  await producer.connect();
  const pad = 'x'.repeat(330);
  for (let i = 0; i < total; i += 10_000) {
    const sends: Promise<void>[] = [];
    for (let j = i; j < Math.min(total, i + 10_000); j++)
      sends.push(producer.produce(codec(topic), { id: `r${j}`, pad }));
    await Promise.all(sends);
  }
  await producer.close();
  const load0 = loadavg()[0]!;
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    const child = fork(
      fileURLToPath(import.meta.url),
      ['consume', topic, String(total), ...(maxBytes ? [maxBytes, maxBytesPerPartition ?? maxBytes] : [])],
      { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
    );
    child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`consumer exited ${code}`))));
  });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as {
    seen: number;
    largest: number;
    peakRssMb: number;
    cpuUs: number;
  };
  console.log(
    `kafka backlog bench: ${r.seen} records of ~370 bytes, 6 partitions, fetch limits ` +
      `${maxBytes ? `${maxBytes} / ${maxBytesPerPartition ?? maxBytes}` : 'library default'}: consumer peak RSS ${r.peakRssMb} MB, ` +
      `largest batch ${r.largest} records, CPU ${r.cpuUs.toFixed(1)} µs/record; load average ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`,
  );
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}
