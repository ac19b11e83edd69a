// Grey-route verdicts over real Kafka and PostgreSQL, with the test playing egress, dlr and the probe
// handset: routing's probes pinned to con_late come back DELIVRD and their MO confirmations arrive seconds
// after the receipt -> LATE_DELIVERY suspicion with evidence; prompt confirmations afterwards clear it
// ("probes"). Receipts of con_instant all within 200 ms of the submit -> IMPLAUSIBLE_LATENCY, while
// con_real's spread is plausible. An OTP message of a rule that keeps the default is routed with the
// suspected connector last; a rule with demote_suspected = false keeps its order.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeliveryStatus,
  SmsDelivery,
  SmsInbound,
  SmsSubmitted,
  SubmitChannel,
  SuspicionReason,
  TrafficType,
  topics as registry,
  type RouteSuspicion,
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
import { DEFAULT_PROBE_POLICY } from '../src/domain/grey-routes.js';
import { importPrefixCsv } from '../src/prefix-import.js';
import { migrateForRouting } from './migrations.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROBE_NUMBER = '447412000001';

let db: TestDatabase;
let pool: Pool;
let topics: typeof registry;
let kafka: Kafka;
let producer: TypedProducer;
let logger: Logger;
let core: RoutingCore;
const consumers: TypedConsumer[] = [];
const routed = new Map<string, SmsRouted>();
const probes: SmsRouted[] = [];
const suspicions: RouteSuspicion[] = [];
/** How the handset answers con_late's probes: seconds after the receipt. */
let confirmAfterMs = 3_000;

async function consumer(o: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer> {
  const c = new TypedConsumer(kafka, logger, { ...o, producer });
  await ensureTestTopics([c.deadLetterTopic]);
  consumers.push(c);
  return c;
}

/** Plays egress + dlr + the probe handset for a probe: a DELIVRD status now, the MO `confirmAfterMs` later. */
async function answerProbe(p: SmsRouted): Promise<void> {
  const m = p.message!;
  const now = Date.now();
  await producer.produce(
    topics.delivery,
    SmsDelivery.fromPartial({
      context: {
        messageId: m.messageId,
        accountId: m.accountId,
        channel: SubmitChannel.SUBMIT_CHANNEL_PROBE,
        receivedAt: m.receivedAt,
        destination: m.destination,
      },
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      final: true,
      connectorId: p.candidates[0]!.connectorId,
      doneAt: new Date(now),
      updatedAt: new Date(now),
      segments: 1,
      revision: 1,
    }),
  );
  const token = /PRB-[0-9a-f]{12}/.exec(Buffer.from(m.shortMessage).toString('latin1'))![0];
  await producer.produce(
    topics.inbound,
    SmsInbound.fromPartial({
      messageId: uuidv7(),
      accountId: m.accountId,
      source: { ton: 1, npi: 1, address: PROBE_NUMBER },
      destination: m.source,
      text: `ACK ${token}`,
      receivedAt: new Date(now + confirmAfterMs),
    }),
  );
}

async function delivered(connectorId: string, latencies: number[]): Promise<void> {
  const now = Date.now();
  for (const l of latencies)
    await producer.produce(
      topics.delivery,
      SmsDelivery.fromPartial({
        context: {
          messageId: uuidv7(),
          accountId: 'acc_1',
          receivedAt: new Date(now - l),
          destinationInfo: { countryCode: 'GB', mcc: '234', mnc: '30' },
        },
        status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
        final: true,
        connectorId,
        doneAt: new Date(now),
        updatedAt: new Date(now),
        segments: 1,
        revision: 1,
      }),
    );
}

async function submitOtp(accountId: string): Promise<SmsRouted> {
  const messageId = uuidv7();
  await producer.produce(
    topics.submitted,
    SmsSubmitted.fromPartial({
      messageId,
      accountId,
      systemId: 'cust1',
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: '447412345123' },
      shortMessage: Buffer.from('Your code is 1234', 'ascii'),
      receivedAt: new Date(),
      customerMessageId: messageId,
      trafficType: TrafficType.TRAFFIC_TYPE_OTP,
    }),
  );
  return waitFor(() => routed.get(messageId), {
    what: `the routed event of ${messageId}`,
    timeoutMs: 20_000,
  });
}

const latest = (connectorId: string) => suspicions.filter((s) => s.connectorId === connectorId).at(-1);

beforeAll(async () => {
  logger = createLogger({
    service: 'routing-grey-test',
    level: (process.env['TEST_LOG_LEVEL'] as 'info') ?? ('silent' as 'info'),
  });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 5 });
  await migrateForRouting(pool);
  await importPrefixCsv(pool, await readFile(path.join(here, '../data/sample-prefixes.csv'), 'utf8'));
  for (const [id, micro] of [
    ['con_late', 1000],
    ['con_mid', 1500],
  ] as const) {
    await pool.query(
      `INSERT INTO egress_connectors (id, name, enabled, host, port, system_id, password_sealed, max_submit_rate)
       VALUES ($1, $1, true, '127.0.0.1', 2776, 'hub', 'x', 100)`,
      [id],
    );
    await pool.query(
      `INSERT INTO rating_rates (id, owner_kind, owner_id, country, price_amount, price_scale, currency, effective_from)
       VALUES ($1, 'connector', $2, 'GB', $3, 6, 'EUR', now() - interval '1 day')`,
      [`br_${id}`, id, micro],
    );
  }
  // Least cost (con_late first); r_keep (higher priority, one account) never demotes.
  await pool.query(
    `INSERT INTO routing_rules (id, countries, strategy, strategy_currency, priority, account_ids, demote_suspected)
     VALUES ('r_otp', '{GB}', 'least_cost', 'EUR', 1, '{}', NULL),
            ('r_keep', '{GB}', 'least_cost', 'EUR', 10, '{acc_keep}', false)`,
  );
  await pool.query(
    `INSERT INTO routing_rule_candidates (rule_id, position, connector_id, weight)
     VALUES ('r_otp', 0, 'con_late', 1), ('r_otp', 1, 'con_mid', 1),
            ('r_keep', 0, 'con_late', 1), ('r_keep', 1, 'con_mid', 1)`,
  );

  topics = await createIsolatedTopics(registry);
  kafka = createKafka(
    { brokers: testKafkaBrokers(), clientId: uniqueName('routing-grey-test'), ssl: false },
    logger,
  );
  producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 10_000 });
  await producer.connect();
  const watch = await consumer({ groupId: uniqueName('watch'), fromBeginning: true });
  watch.on(topics.routed, async (r) => {
    const m = r.value.message!;
    if (m.channel === SubmitChannel.SUBMIT_CHANNEL_PROBE) {
      probes.push(r.value);
      await answerProbe(r.value);
    } else routed.set(m.messageId, r.value);
  });
  watch.on(topics.suspicion, (r) => void suspicions.push(r.value));
  const assigned = watch.waitForAssignment();
  await watch.start();
  await assigned;

  core = createRoutingCore({
    config: {
      replicaId: 'g0',
      groupId: uniqueName('routing-grey'),
      configGroupPrefix: uniqueName('grey-config'),
      statsGroupPrefix: uniqueName('grey-stats'),
      adaptiveGroupPrefix: uniqueName('grey-learn'),
      suspicionGroupPrefix: uniqueName('grey-suspicion'),
      probeGroupId: uniqueName('grey-probes'),
      portedCache: { ttlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 1000 },
      greyRoutes: {
        probeAccountId: 'acc_probe',
        probeSender: '447700900555',
        tickMs: 200,
        probe: {
          ...DEFAULT_PROBE_POLICY,
          deadlineMs: 2_000,
          lateMs: 1_000,
          window: 5,
          minBad: 3,
          clearAfter: 2,
        },
        latency: { minSamples: 20, instantShare: 0.9, instantMs: 1000, minCv: 0.05 },
      },
    },
    logger,
    producer,
    consumer,
    pool,
    topics,
  });
  await core.start();
}, 120_000);

afterAll(async () => {
  await core?.stop().catch(() => undefined);
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

describe('grey-route verdicts', { timeout: 120_000 }, () => {
  it('suspects late delivery from probes confirmed long after DELIVRD, demotes it for OTP, clears it when probes pass', async () => {
    await pool.query(
      `INSERT INTO routing_probe_targets (id, connector_id, number, interval_s) VALUES ('t_late', 'con_late', $1, 1)`,
      [PROBE_NUMBER],
    );
    const s = await waitFor(() => (latest('con_late')?.suspected ? latest('con_late') : undefined), {
      timeoutMs: 60_000,
      what: 'con_late suspected',
    });
    expect(s.reasons).toEqual([SuspicionReason.SUSPICION_REASON_LATE_DELIVERY]);
    expect(s.probes?.late).toBeGreaterThanOrEqual(3);
    expect(s.summary).toMatch(/probes reached the handset late/);
    // Probes went to the probe number, pinned to con_late alone, from the probe sender.
    expect(probes[0]!.candidates.map((c) => c.connectorId)).toEqual(['con_late']);
    expect(probes[0]!.message!.source?.address).toBe('447700900555');
    expect(probes[0]!.destinationInfo?.countryCode).toBe('GB');

    await waitFor(() => core.suspicions.why('con_late'), { what: 'the suspicion read back by routing' });
    const otp = await submitOtp('acc_1');
    expect(otp.candidates.map((c) => c.connectorId)).toEqual(['con_mid', 'con_late']);
    expect(otp.candidates[1]!.reason).toMatch(/demoted: suspected grey route \(late delivery\)/);
    const kept = await submitOtp('acc_keep');
    expect(kept.candidates.map((c) => c.connectorId)).toEqual(['con_late', 'con_mid']);

    confirmAfterMs = 100;
    const cleared = await waitFor(
      () => (latest('con_late')?.suspected === false ? latest('con_late') : undefined),
      { timeoutMs: 60_000, what: 'con_late cleared by its probes' },
    );
    expect(cleared.clearedBy).toBe('probes');
    await pool.query(`UPDATE routing_probe_targets SET enabled = false`);
  });

  it('suspects receipts that are implausibly instant, not a plausible spread', async () => {
    await delivered(
      'con_real',
      Array.from({ length: 30 }, (_, i) => 1500 + ((i * 7919) % 30) * 900),
    );
    await delivered(
      'con_instant',
      Array.from({ length: 30 }, (_, i) => 150 + (i % 5) * 10),
    );
    const s = await waitFor(() => (latest('con_instant')?.suspected ? latest('con_instant') : undefined), {
      timeoutMs: 30_000,
      what: 'con_instant suspected',
    });
    expect(s.reasons).toEqual([SuspicionReason.SUSPICION_REASON_IMPLAUSIBLE_LATENCY]);
    expect(s.latency?.instantShare).toBe(1);
    expect(s.latency?.samples).toBeGreaterThanOrEqual(20); // published as soon as the window speaks
    // Once con_real's 30 receipts are all held, a later verdict pass (the one that suspects con_instant2)
    // has judged con_real too: a plausible spread, never suspected.
    await waitFor(() => core.greyRoutes!.latencySamples('con_real') === 30 || undefined, {
      what: "con_real's receipts read",
    });
    await delivered(
      'con_instant2',
      Array.from({ length: 30 }, () => 100),
    );
    await waitFor(() => latest('con_instant2')?.suspected, {
      timeoutMs: 30_000,
      what: 'con_instant2 suspected',
    });
    expect(latest('con_real')).toBeUndefined();
  });
});
