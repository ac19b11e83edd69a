// `npm run bench -- hold`: the scheduler as a real process (libs/testing startHub, services: scheduler) on the
// local Kafka and PostgreSQL.
//   1. 1,000 messages due in the same second, published on sms.scheduled.v1 a few seconds before: the
//      release lag of each (the released record's Kafka timestamp minus its due time): p50, p99, max.
//   2. 1,000,000 messages held (written straight into scheduler_held with SQL, due in 1-2 hours: the
//      consumer path is what step 1 measured), then again 1,000 due in the same second: the lag with a
//      million held, and the scheduler's resident memory (VmRSS now, VmHWM peak) before and after.
// Prints the figures and the load average. Not a test: nothing passes or fails.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { HoldReason, namespacedTopics, SmsSubmitted, topics } from '@smshub/contracts';
import { createTestDatabase, startHub, waitFor } from '@smshub/testing';

const N_DUE = Number(process.env.HOLD_BENCH_DUE ?? 1000);
const N_HELD = Number(process.env.HOLD_BENCH_HELD ?? 1_000_000);

function memoryMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 102.4) / 10, hwm: Math.round(kb('VmHWM') / 102.4) / 10 };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

function message(dueAt: Date): SmsSubmitted {
  const id = randomUUID();
  return SmsSubmitted.fromPartial({
    messageId: id,
    accountId: 'bench',
    systemId: 'bench',
    customerMessageId: id,
    source: { ton: 5, npi: 0, address: 'BENCH' },
    destination: { ton: 1, npi: 1, address: '447700900123' },
    shortMessage: Buffer.from('held for the bench'),
    receivedAt: new Date(),
    validityUntil: new Date(Date.now() + 6 * 3600_000),
    scheduleAt: dueAt,
    holdUntil: dueAt,
    holdReason: HoldReason.HOLD_REASON_SCHEDULE,
  });
}

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const db = await createTestDatabase(process.env.DATABASE_URL);
console.log('starting the scheduler (startHub: ops setup, ops demo, services/scheduler)...');
const hub = await startHub({
  kafkaBrokers: brokers.join(','),
  databaseUrl: db.url,
  services: ['scheduler'],
  simulator: false,
  readyTimeoutMs: 240_000,
  env: { LOG_LEVEL: 'warn' },
});
const pid = hub.process('scheduler').pid!;
const ns = namespacedTopics(topics, hub.namespace);
const kafka = new Kafka({ clientId: 'hold-bench', brokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true });
await producer.connect();
const seen = new Map<string, number>();
const consumer = kafka.consumer({ groupId: `hold-bench-${randomUUID()}` });
await consumer.connect();
await consumer.subscribe({ topic: ns.submitted.name, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ message: m }) => {
    if (m.key) seen.set(m.key.toString(), Number(m.timestamp));
  },
});
const pool = new pg.Pool({ connectionString: db.url, max: 4 });

async function dueBatch(label: string): Promise<void> {
  // Due at the start of a whole second, far enough ahead for every record to be stored first.
  const due = new Date(Math.ceil((Date.now() + 8_000) / 1000) * 1000);
  const msgs = Array.from({ length: N_DUE }, () => message(due));
  for (let i = 0; i < msgs.length; i += 200)
    await producer.send({
      topic: ns.scheduled.name,
      acks: -1,
      messages: msgs.slice(i, i + 200).map((m) => ({
        key: m.messageId,
        value: Buffer.from(ns.scheduled.encode(m)),
      })),
    });
  const publishedBy = Date.now();
  await waitFor(() => msgs.every((m) => seen.has(m.messageId)) || undefined, {
    what: `${N_DUE} releases`,
    timeoutMs: 120_000,
    intervalMs: 20,
  });
  const lags = msgs.map((m) => seen.get(m.messageId)! - due.getTime()).sort((a, b) => a - b);
  console.log(
    `${label}: ${N_DUE} due at ${due.toISOString()} (published ${((due.getTime() - publishedBy) / 1000).toFixed(1)} s before): ` +
      `release lag p50 ${pct(lags, 50)} ms, p99 ${pct(lags, 99)} ms, max ${lags.at(-1)} ms, min ${lags[0]} ms`,
  );
}

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`load average ${load()}; scheduler pid ${pid}, memory ${JSON.stringify(memoryMb(pid))} MB`);
await dueBatch('empty table');
console.log(`scheduler memory ${JSON.stringify(memoryMb(pid))} MB`);

// A million held, due in 1-2 hours (never during the bench).
const record = Buffer.from(SmsSubmitted.encode(message(new Date(Date.now() + 3600_000))).finish());
const t0 = Date.now();
for (let off = 0; off < N_HELD; off += 100_000) {
  await pool.query(
    `INSERT INTO scheduler_held (message_id, account_id, system_id, customer_message_id, source, destination,
                                 due_at, validity_until, record)
     SELECT 'bench-' || g, 'bench', 'bench', 'bench-' || g, 'BENCH', '447700900123',
            now() + interval '1 hour' + g * interval '3 ms', now() + interval '6 hours', $3
       FROM generate_series($1::int, $2::int) g`,
    [off, Math.min(N_HELD, off + 100_000) - 1, record],
  );
}
await pool.query('ANALYZE scheduler_held');
const held = (await pool.query(`SELECT count(*)::int AS n FROM scheduler_held WHERE state = 'held'`)).rows[0]
  .n;
console.log(`${held} held (inserted in ${((Date.now() - t0) / 1000).toFixed(1)} s); load average ${load()}`);
await dueBatch(`${held} held`);
await dueBatch(`${held} held, again`);
console.log(
  `scheduler memory ${JSON.stringify(memoryMb(pid))} MB (rss now, hwm = peak); load average ${load()}`,
);

await consumer.disconnect();
await producer.disconnect();
await pool.end();
await hub.stop();
await db.drop();
