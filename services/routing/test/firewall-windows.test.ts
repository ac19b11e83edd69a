// The firewall's velocity and duplicate windows across routing replicas and restarts, over real Kafka and
// PostgreSQL: two routing cores in one consumer group share a velocity rule's limit exactly; a new core
// after both stopped still sees the windows; a redelivered batch is not counted twice.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SmsSubmitted,
  TrafficType,
  topics as registry,
  type SmsRejected,
  type SmsRouted,
} from '@smshub/contracts';
import { createPool, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer, type ConsumerOptions } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import {
  createIsolatedTopics,
  createTestDatabase,
  ensureTestTopics,
  testKafkaAdmin,
  testKafkaBrokers,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@smshub/testing';
import type { Kafka } from 'kafkajs';
import { createRoutingCore, type RoutingCore } from '../src/core.js';
import { PgFirewallWindows } from '../src/firewall-store.js';
import { InMemorySharedWindows, type StatefulCheck } from '../src/domain/shared-windows.js';
import { importPrefixCsv } from '../src/prefix-import.js';
import { migrateForRouting } from './migrations.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const LIMIT = 10;

let db: TestDatabase;
let pool: Pool;
let topics: typeof registry;
let kafka: Kafka;
let producer: TypedProducer;
let logger: Logger;
const consumers: TypedConsumer[] = [];
const cores: RoutingCore[] = [];
const group = uniqueName('routing-fw');
const routed = new Map<string, SmsRouted>();
const rejected = new Map<string, SmsRejected>();

async function consumer(o: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer> {
  const c = new TypedConsumer(kafka, logger, { ...o, producer });
  await ensureTestTopics([c.deadLetterTopic]);
  consumers.push(c);
  return c;
}

/** A routing core (replica `replicaId`) in the shared group; `decided` counts the events it published. */
function startCore(replicaId: string): { core: RoutingCore; decided: () => number } {
  let n = 0;
  const counting = new Proxy(producer, {
    get(target, prop, receiver) {
      if (prop === 'produceRaw')
        return (...args: Parameters<TypedProducer['produceRaw']>) => {
          n++;
          return target.produceRaw(...args);
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const core = createRoutingCore({
    config: {
      replicaId,
      groupId: group,
      configGroupPrefix: `${group}-config`,
      statsGroupPrefix: `${group}-stats`,
      portedCache: { ttlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 1000 },
      consumer: { sessionTimeoutMs: 10_000 },
    },
    logger,
    producer: counting,
    consumer,
    pool,
    topics,
  });
  cores.push(core);
  return { core, decided: () => n };
}

async function submit(accountId: string, destination: string, text: string): Promise<string> {
  const messageId = uuidv7();
  await producer.produce(
    topics.submitted,
    SmsSubmitted.fromPartial({
      messageId,
      accountId,
      systemId: accountId,
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: destination },
      dataCoding: 0,
      shortMessage: Buffer.from(text, 'ascii'),
      receivedAt: new Date(),
      customerMessageId: messageId,
      trafficType: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
    }),
  );
  return messageId;
}

const outcome = (id: string) =>
  waitFor(() => routed.get(id) ?? rejected.get(id), { what: `the outcome of ${id}`, timeoutMs: 30_000 });

/** Members of the submitted group that hold at least one partition. */
async function membersWithPartitions(): Promise<number> {
  const admin = await testKafkaAdmin();
  try {
    const { groups } = await admin.describeGroups([group]);
    return (groups[0]?.members ?? []).filter((m) => m.memberAssignment.length > 8).length;
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  logger = createLogger({
    service: 'routing-fw-test',
    level: (process.env['TEST_LOG_LEVEL'] as 'info') ?? ('silent' as 'info'),
  });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 8 });
  await migrateForRouting(pool);
  await importPrefixCsv(pool, await readFile(path.join(here, '../data/sample-prefixes.csv'), 'utf8'));
  await pool.query(
    `INSERT INTO egress_connectors (id, name, enabled, host, port, system_id, password_secret_ref, max_submit_rate)
     VALUES ('con_a', 'con_a', true, '127.0.0.1', 2776, 'hub', 'file:/run/secrets/x', 100)`,
  );
  await pool.query(`INSERT INTO routing_rules (id, countries, strategy) VALUES ('r_gb', '{GB}', 'priority')`);
  await pool.query(
    `INSERT INTO routing_rule_candidates (rule_id, position, connector_id, weight) VALUES ('r_gb', 0, 'con_a', 1)`,
  );
  await pool.query(
    `INSERT INTO routing_firewall_rules (id, kind, account_ids, params) VALUES
       ('fw_velocity', 'velocity_account', '{acc_v}', $1),
       ('fw_dup', 'duplicate', '{acc_d}', '{"windowSeconds": 600}')`,
    [JSON.stringify({ limit: LIMIT, windowSeconds: 600 })],
  );

  topics = await createIsolatedTopics(registry);
  kafka = createKafka(
    { brokers: testKafkaBrokers(), clientId: uniqueName('routing-fw'), ssl: false },
    logger,
  );
  producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 10_000 });
  await producer.connect();
  const watch = await consumer({ groupId: uniqueName('watch'), fromBeginning: true });
  watch.on(topics.routed, (r) => void routed.set(r.value.message!.messageId, r.value));
  watch.on(topics.rejected, (r) => void rejected.set(r.value.message!.messageId, r.value));
  const assigned = watch.waitForAssignment();
  await watch.start();
  await assigned;
}, 120_000);

afterAll(async () => {
  for (const c of cores) await c.stop().catch(() => undefined);
  for (const c of consumers) await c.stop().catch(() => undefined);
  await producer?.close();
  await pool?.end();
  await db?.drop();
  if (topics) {
    const admin = await testKafkaAdmin();
    try {
      const existing = new Set(await admin.listTopics());
      const mine = [
        ...Object.values(topics).map((t) => t.name),
        ...consumers.map((c) => c.deadLetterTopic),
      ].filter((n, i, all) => existing.has(n) && all.indexOf(n) === i);
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    } finally {
      await admin.disconnect();
    }
  }
}, 60_000);

describe('firewall windows across replicas and restarts', () => {
  it(`two replicas in one group admit exactly ${LIMIT} of ${2 * LIMIT} messages of a sender limited to ${LIMIT} per window; a new replica after both stopped keeps the window`, async () => {
    const a = startCore('r-a');
    const b = startCore('r-b');
    await Promise.all([a.core.start(), b.core.start()]);
    await waitFor(async () => (await membersWithPartitions()) === 2, {
      what: 'both replicas to hold partitions',
      timeoutMs: 60_000,
    });

    const ids: string[] = [];
    for (let i = 0; i < 2 * LIMIT; i++)
      ids.push(await submit('acc_v', `4477123460${String(i).padStart(2, '0')}`, `code ${i}`));
    const outcomes = await Promise.all(ids.map(outcome));
    const passed = outcomes.filter((o) => 'candidates' in o);
    const refused = outcomes.filter((o): o is SmsRejected => 'ruleId' in o);
    expect(passed).toHaveLength(LIMIT);
    expect(refused).toHaveLength(LIMIT);
    for (const r of refused)
      expect(r).toMatchObject({ ruleId: 'fw_velocity', error: { code: 'RATE_LIMITED' } });
    // Both replicas decided some of them (the messages' random keys spread them over 6 partitions).
    expect(a.decided()).toBeGreaterThan(0);
    expect(b.decided()).toBeGreaterThan(0);
    expect(a.decided() + b.decided()).toBe(2 * LIMIT);

    // The duplicate rule's first message, before the restart.
    const first = await submit('acc_d', '447712345777', 'Your code is 4242');
    expect('candidates' in (await outcome(first))).toBe(true);

    await a.core.stop();
    await b.core.stop();
    const c = startCore('r-c');
    await c.core.start();

    const over = await submit('acc_v', '447712345999', 'one more');
    expect(await outcome(over)).toMatchObject({ ruleId: 'fw_velocity' });
    const again = await submit('acc_d', '447712345777', 'Your code is 4242');
    const dup = await outcome(again);
    expect(dup).toMatchObject({ ruleId: 'fw_dup', error: { code: 'DUPLICATE' } });
    expect((dup as SmsRejected).reason).toContain(first);
    // Another sender is not limited by acc_v's window.
    const other = await submit('acc_o', '447712345555', 'hello');
    expect('candidates' in (await outcome(other))).toBe(true);
  }, 180_000);

  it('a redelivered batch is decided the same way and not counted twice', async () => {
    const windows = new PgFirewallWindows(pool, { rememberMs: 600_000, cleanupIntervalMs: 0 }, logger);
    const check = (id: string): StatefulCheck => ({
      hubMessageId: id,
      destination: { e164: '+447700900001', country: 'GB' },
      duplicates: [],
      velocity: [
        { ruleId: 'v', ruleKey: 'v@60000', key: 'acc_r', limit: 3, windowMs: 60_000, reason: 'over' },
      ],
    });
    const batch = ['m1', 'm2', 'm3', 'm4'].map(check);
    const now = Date.now();
    const first = await windows.decide(batch, now);
    expect(first.map((v) => v === null)).toEqual([true, true, true, false]);
    const redelivered = await windows.decide(batch, now + 1_000);
    expect(redelivered.map((v) => v === null)).toEqual([true, true, true, false]);
    const { rows } = await pool.query<{ n: number }>(
      `SELECT sum(n)::int AS n FROM routing_firewall_counters WHERE rule_key = 'v@60000' AND key = 'acc_r'`,
    );
    expect(rows[0]?.n).toBe(3);
    // Expired rows go; live ones stay.
    expect(
      await new PgFirewallWindows(
        pool,
        { rememberMs: 1, cleanupIntervalMs: 0 },
        logger,
        () => now + 3_600_000,
      ).cleanup(),
    ).toBeGreaterThan(0);
    const left = await pool.query(`SELECT 1 FROM routing_firewall_admitted WHERE hub_message_id = 'm1'`);
    expect(left.rowCount).toBe(0);
  });

  it('decides as the in-memory windows do, batch after batch (duplicates, several velocity rules, redeliveries, sliding windows)', async () => {
    const pg = new PgFirewallWindows(pool, { rememberMs: 600_000, cleanupIntervalMs: 0 }, logger);
    const mem = new InMemorySharedWindows(600_000);
    let seed = 42;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed >>> 16) % n;
    };
    const tag = uniqueName('p');
    const sent: StatefulCheck[] = [];
    let t = Date.now();
    let rejectedCount = 0;
    for (let b = 0; b < 30; b++) {
      t += rand(3) * 7_000; // sometimes the same bucket, sometimes later ones (6 s buckets)
      const batch: StatefulCheck[] = [];
      for (let i = 0, n = 1 + rand(20); i < n; i++) {
        // now and then a message seen before (a redelivery: the same message, so the same checks)
        if (sent.length > 0 && rand(8) === 0) {
          batch.push(sent[rand(sent.length)]!);
          continue;
        }
        const id = `${tag}-${b}-${i}`;
        const account = `acc${rand(3)}`;
        const c: StatefulCheck = {
          hubMessageId: id,
          destination: { e164: '+447712345678', country: 'GB' },
          duplicates:
            rand(2) === 0
              ? [
                  {
                    ruleId: 'd',
                    ruleKey: `${tag}-d@30000`,
                    key: `text${rand(4)}`,
                    windowMs: 30_000,
                    reason: (f) => `dup of ${f}`,
                  },
                ]
              : [],
          velocity: [
            {
              ruleId: 'va',
              ruleKey: `${tag}-va@60000`,
              key: account,
              limit: 7,
              windowMs: 60_000,
              reason: 'account',
            },
            ...(rand(2) === 0
              ? [
                  {
                    ruleId: 'vp',
                    ruleKey: `${tag}-vp@20000`,
                    key: '4477',
                    limit: 9,
                    windowMs: 20_000,
                    reason: 'prefix',
                  },
                ]
              : []),
          ],
        };
        sent.push(c);
        batch.push(c);
      }
      const expected = await mem.decide(batch, t);
      const got = await pg.decide(batch, t);
      const show = (v: Array<{ ruleId: string; reason: string } | null>) =>
        v.map((x) => (x ? `${x.ruleId}:${x.reason}` : 'ok'));
      expect(show(got), `batch ${b}`).toEqual(show(expected));
      rejectedCount += got.filter((v) => v !== null).length;
    }
    // The sequence exercised both outcomes.
    expect(rejectedCount).toBeGreaterThan(10);
    expect(rejectedCount).toBeLessThan(sent.length - 10);
  });
});
