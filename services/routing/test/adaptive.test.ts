// The adaptive strategy over real Kafka and Postgres: routing learns from final statuses on
// sms.delivery.v1 and routes an OTP message to the connector with the most deliveries per EUR that meets the
// OTP service level; the cheapest connector wins again once its receipts recover; a second replica reading
// the same topic holds the same estimates.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeliveryStatus,
  RoutingStrategy,
  SmsDelivery,
  SmsSubmitted,
  TrafficType,
  topics as registry,
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
import { importPrefixCsv } from '../src/prefix-import.js';
import { migrateForRouting } from './migrations.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const HALF_LIFE = 120_000;
const MIN = 60_000;

let db: TestDatabase;
let pool: Pool;
let topics: typeof registry;
let kafka: Kafka;
let producer: TypedProducer;
let logger: Logger;
const cores: RoutingCore[] = [];
const consumers: TypedConsumer[] = [];
const routed = new Map<string, SmsRouted>();
const submittedGroup = uniqueName('routing-adaptive');

async function consumer(o: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer> {
  const c = new TypedConsumer(kafka, logger, { ...o, producer });
  await ensureTestTopics([c.deadLetterTopic]);
  consumers.push(c);
  return c;
}

async function startCore(replicaId: string, groupId = submittedGroup): Promise<RoutingCore> {
  const core = createRoutingCore({
    config: {
      replicaId,
      groupId,
      configGroupPrefix: uniqueName('adaptive-config'),
      statsGroupPrefix: uniqueName('adaptive-stats'),
      adaptiveGroupPrefix: uniqueName('adaptive-learn'),
      adaptiveHalfLifeMs: HALF_LIFE,
      portedCache: { ttlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 1000 },
    },
    logger,
    producer,
    consumer,
    pool,
    topics,
  });
  cores.push(core);
  await core.start();
  return core;
}

/** `n` final statuses of `connectorId` to EE (234-30), OTP, `delivered` of them DELIVRD, done at `at`. */
async function receipts(connectorId: string, n: number, delivered: number, at: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await producer.produce(
      topics.delivery,
      SmsDelivery.fromPartial({
        context: {
          messageId: uuidv7(),
          accountId: 'acc_1',
          trafficType: TrafficType.TRAFFIC_TYPE_OTP,
          receivedAt: new Date(at - 2000),
          destinationInfo: { countryCode: 'GB', mcc: '234', mnc: '30' },
        },
        status:
          i < delivered
            ? DeliveryStatus.DELIVERY_STATUS_DELIVERED
            : DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE,
        final: true,
        doneAt: new Date(at),
        connectorId,
        segments: 1,
        revision: 1,
        updatedAt: new Date(at),
      }),
    );
  }
}

async function submitOtp(receivedAt: Date): Promise<SmsRouted> {
  const messageId = uuidv7();
  await producer.produce(
    topics.submitted,
    SmsSubmitted.fromPartial({
      messageId,
      accountId: 'acc_1',
      systemId: 'cust1',
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: '447712345123' },
      dataCoding: 0,
      shortMessage: Buffer.from('Your code is 1234', 'ascii'),
      receivedAt,
      customerMessageId: messageId,
      trafficType: TrafficType.TRAFFIC_TYPE_OTP,
    }),
  );
  return waitFor(() => routed.get(messageId), {
    what: `the routed event of ${messageId}`,
    timeoutMs: 20_000,
  });
}

const samples = (core: RoutingCore, id: string, now: number) => {
  const e = core.adaptive.lookup(id, '234-30', 'OTP', now);
  return e ? e.successes + e.failures : 0;
};

beforeAll(async () => {
  logger = createLogger({
    service: 'routing-adaptive-test',
    level: (process.env['TEST_LOG_LEVEL'] as 'info') ?? ('silent' as 'info'),
  });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 5 });
  await migrateForRouting(pool);
  await importPrefixCsv(pool, await readFile(path.join(here, '../data/sample-prefixes.csv'), 'utf8'));
  for (const [id, micro] of [
    ['con_cheap', 1000],
    ['con_mid', 1500],
    ['con_dear', 3000],
  ] as const) {
    await pool.query(
      `INSERT INTO egress_connectors (id, name, enabled, host, port, system_id, password_secret_ref, max_submit_rate)
       VALUES ($1, $1, true, '127.0.0.1', 2776, 'hub', 'file:/run/secrets/x', 100)`,
      [id],
    );
    await pool.query(
      `INSERT INTO rating_rates (id, owner_kind, owner_id, country, price_amount, price_scale, currency, effective_from)
       VALUES ($1, 'connector', $2, 'GB', $3, 6, 'EUR', now() - interval '1 day')`,
      [`br_${id}`, id, micro],
    );
  }
  // Exploration off in this rule, so that every decision of the test is the learnt one.
  await pool.query(
    `INSERT INTO routing_rules (id, countries, strategy, strategy_currency, strategy_options)
     VALUES ('r_otp', '{GB}', 'adaptive', 'EUR', '{"exploration": 0, "minSamples": 20}')`,
  );
  await pool.query(
    `INSERT INTO routing_rule_candidates (rule_id, position, connector_id, weight)
     VALUES ('r_otp', 0, 'con_cheap', 1), ('r_otp', 1, 'con_mid', 1), ('r_otp', 2, 'con_dear', 1)`,
  );

  topics = await createIsolatedTopics(registry);
  kafka = createKafka(
    { brokers: testKafkaBrokers(), clientId: uniqueName('routing-adaptive-test'), ssl: false },
    logger,
  );
  producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 10_000 });
  await producer.connect();
  const watch = await consumer({ groupId: uniqueName('watch'), fromBeginning: true });
  watch.on(topics.routed, (r) => void routed.set(r.value.message!.messageId, r.value));
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

describe('adaptive routing', () => {
  it('learns from final receipts, routes OTP by delivered per EUR under the level, and sees a recovery', async () => {
    const now = Date.now();
    const early = now - 20 * MIN;
    // Twenty minutes ago: the cheapest delivered 60 %, the middle one 98 %, the dearest 100 %.
    await receipts('con_cheap', 50, 30, early);
    await receipts('con_mid', 50, 49, early);
    await receipts('con_dear', 50, 50, early);
    const core = await startCore('r0');
    await waitFor(
      () => ['con_cheap', 'con_mid', 'con_dear'].every((id) => samples(core, id, early) >= 49.9) || undefined,
      { what: 'the receipts learnt', timeoutMs: 30_000 },
    );

    // A message at that time: the cheapest misses the OTP level (95 %), con_mid is the best value meeting it.
    const r1 = await submitOtp(new Date(early + 1000));
    expect(r1.strategy).toBe(RoutingStrategy.ROUTING_STRATEGY_ADAPTIVE);
    expect(r1.candidates.map((c) => c.connectorId)).toEqual(['con_mid', 'con_dear', 'con_cheap']);
    expect(r1.candidates[0]?.reason).toMatch(
      /^adaptive exploitation: most delivered per EUR meeting the level 95%\/p95 10000 ms; P\(deliver\) 9\d\.\d%/,
    );
    expect(r1.candidates[0]?.reason).toMatch(/price 1500 EUR micro/);
    expect(r1.candidates[2]?.reason).toMatch(/below level/);

    // The cheapest recovered a minute ago: its old failures weigh 2^-9.5 now, and it wins again.
    await receipts('con_cheap', 40, 40, now - MIN);
    await waitFor(() => samples(core, 'con_cheap', now - MIN) >= 40 || undefined, {
      what: 'the recovery learnt',
      timeoutMs: 30_000,
    });
    const r2 = await submitOtp(new Date(now));
    expect(r2.candidates[0]?.connectorId).toBe('con_cheap');
    expect(r2.candidates[0]?.reason).toMatch(/meeting the level/);
  }, 120_000);

  it('a second replica (or a restart) holds the same estimates: a pure function of sms.delivery.v1', async () => {
    const first = cores[0]!;
    const second = await startCore('r1', uniqueName('routing-adaptive-r1'));
    const now = Date.now();
    for (const id of ['con_cheap', 'con_mid', 'con_dear']) {
      const a = first.adaptive.lookup(id, '234-30', 'OTP', now)!;
      const b = await waitFor(
        () => {
          const e = second.adaptive.lookup(id, '234-30', 'OTP', now);
          return e && Math.abs(e.successes + e.failures - (a.successes + a.failures)) < 1e-9 ? e : undefined;
        },
        { what: `replica r1's estimate of ${id}`, timeoutMs: 30_000 },
      );
      expect(b.successes).toBeCloseTo(a.successes, 9);
      expect(b.failures).toBeCloseTo(a.failures, 9);
      expect(b.p95LatencyMs).toBe(a.p95LatencyMs);
    }
  }, 120_000);
});
