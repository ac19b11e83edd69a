// webhooks' cost per sms.delivery.v1 record (one or more per message; every one reaches webhooks) when the
// accounts have no webhook, which is most of the traffic. N records (a realistic context: addresses,
// timestamps, a receipt text, one part) of 50 accounts are produced to an isolated topic first; then the
// webhooks core (createWebhooks, in this process) starts and reads them; CPU of this process (user + system)
// is measured from start() until the group's committed offsets reach the end. The start (gRPC server, group
// join) is in the figure too, the same in every run: compare runs of the same N.
//   set -a && . .local/env && set +a
//   npx tsx --conditions=@smshub/source services/webhooks/bench/delivery-bench.ts [records=50000] [--src <dir>]
// --src: another copy of services/webhooks/src (e.g. the previous commit's, `git archive`) to compare with.
import { randomBytes, randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { type SmsDelivery, topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { createIsolatedTopics, createTestDatabase, testKafkaAdmin, uniqueName } from '@smshub/testing';
import type { createWebhooks as CreateWebhooks } from '../src/webhooks.js';
import { benchDelivery } from './sample-delivery.js';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 50_000);
const srcArg = process.argv.indexOf('--src');
const srcDir =
  srcArg >= 0 ? path.resolve(process.argv[srcArg + 1]!) : path.resolve(import.meta.dirname, '../src');
const { createWebhooks } = (await import(path.join(srcDir, 'webhooks.ts'))) as {
  createWebhooks: typeof CreateWebhooks;
};

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const logger = createLogger({ service: 'webhooks-bench', level: 'warn' });
const db = await createTestDatabase(process.env.DATABASE_URL);
const pool = createPool({ connectionString: db.url, max: 10 });
const migrations = await mkdtemp(path.join(tmpdir(), 'webhooks-bench-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
  if (/^(0001|0610|07\d\d)_.*\.sql$/.test(f))
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrations, f));
await migrate(pool, { dir: migrations });
const topics = await createIsolatedTopics({ delivery: registry.delivery }, { maxPartitions: 6, brokers });
const kafka = createKafka({ clientId: uniqueName('webhooks-bench'), brokers }, logger);
const producer = new TypedProducer(kafka, logger);
await producer.connect();

const accounts = Array.from({ length: 50 }, (_, i) => `bench-account-${i}`);
const batch: SmsDelivery[] = [];
for (let i = 0; i < N; i++) {
  batch.push(benchDelivery(randomUUID(), accounts[i % accounts.length]!));
  if (batch.length === 500 || i === N - 1) {
    await Promise.all(batch.splice(0).map((e) => producer.produce(topics.delivery, e)));
  }
}

const groupId = uniqueName('webhooks-bench');
const webhooks = createWebhooks({
  options: {
    grpcPort: 0,
    secretKeys: [randomBytes(32)],
    concurrency: 64,
    perAccount: 4,
    timeoutMs: 5_000,
    backoff: { baseMs: 300, maxMs: 2_000 },
    retryForMs: 60_000,
    pollMs: 500,
    retentionDays: 30,
    groupId,
  },
  logger,
  consumer: (o) =>
    Promise.resolve(
      new TypedConsumer(kafka, logger, { ...o, fromBeginning: true, producer, commitIntervalMs: 200 }),
    ),
  pool,
  topics,
});
const admin = await testKafkaAdmin(brokers);
const load0 = loadavg()[0]!;
const cpu0 = process.cpuUsage();
const t0 = Date.now();
await webhooks.start();
for (;;) {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topics.delivery.name] });
  const done = offsets[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  if (done >= N) break;
  await new Promise((r) => setTimeout(r, 250));
}
const cpu = process.cpuUsage(cpu0);
const seconds = (Date.now() - t0) / 1000;
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  `${N} records in ${seconds.toFixed(1)} s (${srcDir}): CPU ${cpuMs.toFixed(0)} ms, ` +
    `${((cpuMs * 1000) / N).toFixed(1)} CPU-us per record; load ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`,
);
await webhooks.stop();
await producer.close();
await admin
  .deleteTopics({ topics: [topics.delivery.name, `${groupId}.dlq`, `${groupId}.dlq.replay`] })
  .catch(() => undefined);
await admin.disconnect();
await pool.end();
await db.drop();
