// CPU and PostgreSQL statements of the stats roll-up per message: the records routing and rating
// publish for `messages` messages (95 % sms.routed.v1, 5 % sms.rejected.v1, a billing.rated.v1 for each
// routed one: ~2 records per message, as in the hub) are produced to topics of their own (6 partitions
// each), then the stats core (createStats: the consumer, the roll-up writer, the rule-hit writer) reads
// them from the start in a fresh database. Measured from the group's assignment until every record is
// in stats_offsets: this process's CPU (user + system), the statements it sent (every pg query, BEGIN
// and COMMIT included), the transactions (COMMITs), and the CPU of the database's PostgreSQL backends
// (/proc). Then checks the totals (submitted, rejected, delivered, rule hits) against what it produced.
// Run (needs KAFKA_BROKERS and DATABASE_URL, e.g. `set -a; . .local/env; set +a`):
//   npx tsx --conditions=@smshub/source services/stats/bench/consume-bench.ts [messages=20000] [rate]
// With a rate (messages per second) the messages are produced at that pace while stats reads them, as in
// the hub (a few records per partition per fetch): the statements and transactions per message are then
// the live figures; the CPU figure includes the producer's.
// STATS_BENCH_IMPL=<path to a stats.ts> measures another version of the core (e.g. the previous commit's
// src/ copied next to this one) so that before/after can be run alternated, one process each.
// STATS_BENCH_PROFILE=<file> writes a CPU profile of the consuming phase. Prints one line; not a test.
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  BillingRated,
  RatedStatus,
  SmsRejected,
  SmsRouted,
  TrafficType,
  topics as registry,
} from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { createTestDatabase } from '@smshub/testing';
import type { createStats as CreateStats } from '../src/stats.js';
// A bench helper of dlr's (CPU of one database's PostgreSQL backends from /proc), not a runtime import.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { PgCpu } from '../../dlr/bench/pg-cpu.js';

const messages = Number(process.argv[2] ?? 20_000);
const rate = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const impl = process.env['STATS_BENCH_IMPL'] ?? '../src/stats.js';
const { createStats } = (await import(impl)) as { createStats: typeof CreateStats };
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const logger = createLogger({ service: 'stats-consume-bench', level: 'warn' });
const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

// Every statement any pg client of this process sends (the probe's own are taken off below).
let statements = 0;
let commits = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  if (typeof args[0] === 'string' && /^\s*COMMIT/i.test(args[0])) commits++;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const db = await createTestDatabase(process.env['DATABASE_URL']);
const migrations = await mkdtemp(path.join(tmpdir(), 'stats-bench-migrations-'));
// STATS_BENCH_SKIP=0906,...: leaves those migrations out (a before/after pair of a migration, alternated)
const skip = (process.env['STATS_BENCH_SKIP'] ?? '').split(',').filter(Boolean);
for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
  if (/^(0001|0610|09\d\d)_.*\.sql$/.test(f) && !skip.some((v) => f.startsWith(`${v}_`)))
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrations, f));
const pool = createPool({ connectionString: db.url, max: 10 });
await migrate(pool, { dir: migrations });

const topics = {
  routed: { ...registry.routed, name: `bench_stats_routed_${suffix}`, partitions: 6 },
  rejected: { ...registry.rejected, name: `bench_stats_rejected_${suffix}`, partitions: 6 },
  rated: { ...registry.rated, name: `bench_stats_rated_${suffix}`, partitions: 6 },
};
const kafka = createKafka({ brokers, clientId: `stats-consume-bench-${suffix}`, ssl: false }, logger);
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: Object.values(topics).map((t) => ({ topic: t.name, numPartitions: 6, replicationFactor: 1 })),
});
const producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 30_000 });
await producer.connect();

// The flow: 40 accounts, 3 connectors, 4 networks, 3 traffic types, over the last 3 minutes.
const networks = [
  ['GB', '234', '10'],
  ['GB', '234', '15'],
  ['DE', '262', '01'],
  ['FR', '208', '01'],
] as const;
const trafficTypes = [
  TrafficType.TRAFFIC_TYPE_OTP,
  TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
  TrafficType.TRAFFIC_TYPE_MARKETING,
];
const now = Date.now();
const expected = { submitted: 0, rejected: 0, delivered: 0, ruleHits: 0, records: 0 };
/** The records of message `i` (routed and rated, or rejected), produced. */
function produceOne(i: number): Promise<void>[] {
  const out: Promise<void>[] = [];
  const [country, mcc, mnc] = networks[i % networks.length]!;
  const receivedAt = new Date(now - 180_000 + Math.floor((i / messages) * 170_000));
  const message = {
    messageId: randomUUID(),
    accountId: `acc-${i % 40}`,
    systemId: `esme${i % 40}`,
    source: { ton: 5, npi: 0, address: 'BANK' },
    destination: { ton: 1, npi: 1, address: `44740012${String(i % 10_000).padStart(4, '0')}` },
    registeredDelivery: 1,
    shortMessage: Buffer.from(`Your code is ${100_000 + (i % 900_000)}. Do not share it with anyone.`),
    trafficType: trafficTypes[i % 3]!,
    receivedAt,
  };
  const info = { countryCode: country, mcc, mnc };
  expected.submitted++;
  if (i % 20 === 19) {
    expected.rejected++;
    expected.ruleHits++;
    expected.records++;
    out.push(
      producer.produce(
        topics.rejected,
        SmsRejected.fromPartial({
          message,
          destinationInfo: info,
          reason: 'firewall',
          ruleId: 'fw-1',
          error: { code: 'FIREWALL_BLOCKED', message: 'blocked' },
          rejectedAt: new Date(receivedAt.getTime() + 2),
        }),
      ),
    );
  } else {
    const connectorId = `con_${i % 3}`;
    expected.ruleHits++;
    expected.records += 2;
    out.push(
      producer.produce(
        topics.routed,
        SmsRouted.fromPartial({
          message,
          destinationInfo: info,
          candidates: [
            {
              connectorId,
              ruleId: 'rule-1',
              reason: 'least cost',
              expectedCost: { currencyCode: 'EUR', minorUnits: 3_100n, scale: 6 },
              buyRateId: 'br-1',
            },
            { connectorId: `con_${(i + 1) % 3}`, ruleId: 'rule-1', reason: 'failover', buyRateId: 'br-2' },
          ],
          routedAt: new Date(receivedAt.getTime() + 2),
        }),
      ),
    );
    const delivered = i % 10 !== 3;
    if (delivered) expected.delivered++;
    const money = (v: bigint) => ({ currencyCode: 'EUR', minorUnits: v, scale: 6 });
    out.push(
      producer.produce(
        topics.rated,
        BillingRated.fromPartial({
          messageId: message.messageId,
          revision: 1,
          accountId: message.accountId,
          connectorId,
          supplierId: `sup-${connectorId}`,
          destinationCountry: country,
          destinationMccMnc: `${mcc}-${mnc}`,
          segments: 1,
          sell: money(40_000n),
          buy: money(31_000n),
          buyInSellCurrency: money(31_000n),
          margin: money(9_000n),
          fxRate: '1',
          status: RatedStatus.RATED_STATUS_CHARGED,
          deliveryStatus: delivered ? 'DELIVERY_STATUS_DELIVERED' : 'DELIVERY_STATUS_UNDELIVERABLE',
          trafficType: message.trafficType,
          submittedAt: receivedAt,
          doneAt: new Date(receivedAt.getTime() + 1_500 + (i % 7) * 300),
          ratedAt: new Date(),
        }),
      ),
    );
  }
  return out;
}

// Backlog mode: everything is produced before the stats core starts.
if (rate === undefined) {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < messages; i++) {
    pending.push(...produceOne(i));
    if (pending.length >= 2_000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

const groupId = `bench_stats_${suffix}`;
let joined: Promise<void> | undefined;
const consumers: TypedConsumer[] = [];
const stats = createStats({
  options: {
    grpcPort: 0,
    adminToken: 'stats-bench-admin-token-0123456789',
    retention: { minuteDays: 14, hourDays: 400, correctionDays: 3 },
    groupId,
  },
  logger,
  consumer: (o) => {
    const c = new TypedConsumer(kafka, logger, { ...o, producer });
    joined = c.waitForAssignment(60_000);
    consumers.push(c);
    return Promise.resolve(c);
  },
  pool,
  topics,
});

const probe = new pg.Client({ connectionString: db.url });
await probe.connect();
const pgCpu = await PgCpu.forConnection((sql) => probe.query<{ pid: number }>(sql), db.name);
let probeStatements = 0;
const probeQuery = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
  probeStatements++;
  return probe.query<R>(sql, params);
};
probeStatements = 2; // connect's pid query above, and the counting started before it
const startPromise = stats.start();
await joined;
pgCpu.sample();
// STATS_BENCH_PROFILE=<file>: a V8 CPU profile of the consuming phase only (.cpuprofile).
const profileFile = process.env['STATS_BENCH_PROFILE'];
const session = profileFile ? new Session() : undefined;
if (session) {
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
}
const cpu0 = process.cpuUsage();
const statements0 = statements - probeStatements;
const commits0 = commits;
const t0 = performance.now();
let polls = 0;
// Paced mode: the messages are produced at `rate` per second while the stats core reads them (the
// records arrive as in the hub, a few per partition per fetch).
let producing = rate !== undefined;
if (rate !== undefined)
  void (async () => {
    const start = Date.now();
    for (let i = 0; i < messages;) {
      const due = Math.min(messages, Math.floor(((Date.now() - start) / 1000) * rate));
      const batch: Promise<void>[] = [];
      while (i < due) batch.push(...produceOne(i++));
      await Promise.all(batch);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    producing = false;
  })();
for (;;) {
  const r = await probeQuery<{ routed: string; hits: string }>(
    `SELECT coalesce(sum(next_offset) FILTER (WHERE group_id = $1), 0) AS routed,
            coalesce(sum(next_offset) FILTER (WHERE group_id = $1 || ':rule-hits'), 0) AS hits
       FROM stats_offsets`,
    [groupId],
  );
  // /proc is read once a second (a few ms of this process each time; backends live as long as the pool's
  // idle timeout, so none is missed).
  if (++polls % 10 === 0) pgCpu.sample();
  if (
    !producing &&
    Number(r.rows[0]!.routed) === expected.records &&
    Number(r.rows[0]!.hits) === expected.ruleHits
  )
    break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
pgCpu.sample();
const cpu = process.cpuUsage(cpu0);
if (session && profileFile)
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(profileFile, JSON.stringify(res.profile));
  });
const wallMs = performance.now() - t0;
const sent = statements - probeStatements - statements0;
const txns = commits - commits0;
const pgUsed = pgCpu.used();
await startPromise;

const totals = await probeQuery<{ submitted: string; rejected: string; delivered: string }>(
  `SELECT sum(submitted) AS submitted, sum(rejected) AS rejected, sum(delivered) AS delivered
     FROM stats_minute_dim WHERE dim = 0`,
);
const hits = await probeQuery<{ n: string }>('SELECT coalesce(sum(hits), 0) AS n FROM stats_rule_minute');
const got = totals.rows[0]!;
const ok =
  Number(got.submitted) === expected.submitted &&
  Number(got.rejected) === expected.rejected &&
  Number(got.delivered) === expected.delivered &&
  Number(hits.rows[0]!.n) === expected.ruleHits;
const f = (n: number) => n.toFixed(1);
console.log(
  `${impl}: ` +
    `${messages} messages (${expected.records} records) in ${f(wallMs / 1000)} s: ` +
    `${rate === undefined ? 'stats' : `paced at ${rate}/s, stats and the producer`} ${f((cpu.user + cpu.system) / messages)} CPU-µs/msg, ` +
    `PostgreSQL backends ${f(pgUsed.backendsUs / messages)} µs/msg, ` +
    `${(sent / messages).toFixed(3)} statements/msg, ${(txns / messages).toFixed(4)} transactions/msg; ` +
    `totals ${ok ? 'match' : `DIFFER (got ${JSON.stringify(got)} hits ${hits.rows[0]!.n}, expected ${JSON.stringify(expected)})`}; ` +
    `load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);

await stats.stop();
await Promise.all(consumers.map((c) => c.stop().catch(() => undefined)));
await producer.close();
await admin
  .deleteTopics({
    topics: [...Object.values(topics).map((t) => t.name), `${groupId}.dlq`, `${groupId}.replay`],
  })
  .catch(() => undefined);
await admin.disconnect();
await probe.end();
await pool.end();
await db.drop();
await rm(migrations, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
