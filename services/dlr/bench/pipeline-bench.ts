// Benchmark: messages per second through the whole dlr service (submitted + dispatch + receipt per
// message -> join -> dlr.parts.v1 -> aggregation -> sms.delivery.v1, with the Postgres store).
// Run (needs KAFKA_BROKERS and DATABASE_URL, e.g. `set -a; . .local/env; set +a`):
//   npx tsx --conditions=@smshub/source services/dlr/bench/pipeline-bench.ts [messages=5000]
// Creates its own topics (6 partitions, like production) and database and removes them at the end.
// Prints figures; not a test.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DispatchOutcome,
  SmsDispatched,
  SmsReceiptRaw,
  SmsSubmitted,
  topics as registry,
} from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { createDlr } from '../src/dlr.js';
import type { DlrTopics } from '../src/topics.js';

const N = Number(process.argv[2] ?? 5_000);
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env['DATABASE_URL'];
if (!adminUrl) throw new Error('DATABASE_URL is required');

const suffix = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const logger = createLogger({ service: 'dlr-bench', level: 'warn' });
const kafka = createKafka({ brokers, clientId: `dlr-bench-${suffix}` }, logger);
const ids = [
  'submitted',
  'routed',
  'rejected',
  'dispatched',
  'receiptRaw',
  'partStatus',
  'delivery',
  'deliveryStats',
] as const;
const topics = Object.fromEntries(
  ids.map((id) => [id, { ...registry[id], name: `bench_dlr_${id}_${suffix}` }]),
) as unknown as DlrTopics;

const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: Object.values(topics).map((t) => ({
    topic: t.name,
    numPartitions: t.partitions,
    replicationFactor: 1,
  })),
});

const dbName = `dlr_bench_${suffix}`;
const adminPool = createPool({ connectionString: adminUrl, max: 1 });
await adminPool.query(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const pool = createPool({ connectionString: url.toString(), max: 10 });
const migrations = await mkdtemp(path.join(tmpdir(), 'dlr-bench-'));
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
  if (/^(0001|04\d\d)_.*\.sql$/.test(f))
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrations, f));
}
await migrate(pool, { dir: migrations });

const producer = new TypedProducer(kafka, logger, { lingerMs: 5 });
await producer.connect();
const groupId = `bench-dlr-${suffix}`;
const consumers: TypedConsumer[] = [];
let joined: Promise<void> | undefined;
const dlr = createDlr({
  options: {
    grpcPort: 0,
    parkTtlMs: 300_000,
    defaultValidityMs: 48 * 3_600_000,
    expiryGraceMs: 600_000,
    retentionDays: 30,
    statsIntervalMs: 30_000,
    intermediateReceipts: false,
    sweepIntervalMs: 5_000,
    retentionIntervalMs: 3_600_000,
    maxMessagesInMemory: 200_000,
    partitionConcurrency: Number(process.env['DLR_PARTITION_CONCURRENCY'] ?? 4),
    idSetting: () => ({ format: 'auto' }),
    groupId,
  },
  logger,
  producer,
  consumer: (o) => {
    const c = new TypedConsumer(kafka, logger, { ...o, producer });
    joined = c.waitForAssignment(60_000);
    consumers.push(c);
    return Promise.resolve(c);
  },
  pool,
  topics,
});

let finals = 0;
let done: () => void = () => undefined;
const allFinal = new Promise<void>((resolve) => (done = resolve));
const collector = new TypedConsumer(kafka, logger, { groupId: `${groupId}-collector`, producer }).onBatch(
  topics.delivery,
  (records) => {
    finals += records.filter((r) => r.value.final).length;
    if (finals >= N) done();
  },
);
const collectorJoined = collector.waitForAssignment(60_000);
await collector.start();
await collectorJoined;
await dlr.start();
await joined;

function uuidv7(): string {
  const b = randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const start = performance.now();
const sends: Promise<void>[] = [];
const now = new Date();
for (let i = 0; i < N; i++) {
  const hubId = uuidv7();
  const supplierHex = (0x10000000 + i).toString(16).toUpperCase();
  const decimal = String(0x10000000 + i);
  const context = {
    messageId: hubId,
    accountId: 'acc_bench',
    destination: { ton: 1, npi: 1, address: `4477009${String(i).padStart(5, '0')}` },
    receivedAt: now,
    destinationInfo: { mcc: '234', mnc: '15', matchedPrefix: '4477' },
  };
  sends.push(
    producer.produce(
      topics.submitted,
      SmsSubmitted.fromPartial({
        messageId: hubId,
        accountId: 'acc_bench',
        destination: context.destination,
        receivedAt: now,
      }),
    ),
    producer.produce(
      topics.dispatched,
      SmsDispatched.fromPartial({
        context,
        partNumber: 1,
        partTotal: 1,
        connectorId: 'con_bench',
        supplierMessageId: supplierHex,
        supplierMessageIdNormalised: decimal,
        attempt: 1,
        respondedAt: now,
        outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
        segments: 1,
      }),
    ),
    producer.produce(
      topics.receiptRaw,
      SmsReceiptRaw.fromPartial({
        receiptId: uuidv7(),
        connectorId: 'con_bench',
        receivedAt: new Date(),
        rawText: Buffer.from(
          `id:${decimal} sub:001 dlvrd:001 submit date:2611220700 done date:2611220701 stat:DELIVRD err:000`,
        ),
        supplierMessageIdNormalised: decimal,
      }),
    ),
  );
}
await Promise.all(sends);
const produced = performance.now();
await allFinal;
const end = performance.now();
const parked = await pool.query<{ n: string }>('SELECT count(*) AS n FROM dlr_parked_receipts');
// deliveries are produced just before their rows commit: give the last commits a moment
let rows = await pool.query<{ n: string }>('SELECT count(*) AS n FROM dlr_messages WHERE final');
for (let i = 0; i < 100 && Number(rows.rows[0]?.n) < N; i++) {
  await new Promise((r) => setTimeout(r, 50));
  rows = await pool.query<{ n: string }>('SELECT count(*) AS n FROM dlr_messages WHERE final');
}

console.log(`messages: ${N} (3 input events each, 6 partitions per topic, one dlr instance)`);
console.log(`produce: ${(produced - start).toFixed(0)} ms`);
console.log(
  `all final deliveries received: ${(end - start).toFixed(0)} ms -> ${((N / (end - start)) * 1000).toFixed(0)} messages/s`,
);
console.log(`final rows: ${rows.rows[0]?.n}; receipts still parked: ${parked.rows[0]?.n}`);

await dlr.stop();
await Promise.all([collector.stop(), ...consumers.map((c) => c.stop())]);
await producer.close();
await pool.end();
await adminPool.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
await adminPool.end();
await admin.deleteTopics({ topics: [...Object.values(topics).map((t) => t.name), `${groupId}.dlq`] });
await admin.disconnect();
await rm(migrations, { recursive: true, force: true });
