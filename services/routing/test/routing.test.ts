// The routing service over real Kafka and Postgres: a fresh database (accounts, egress connectors,
// routing and rating tables), isolated topics, the core built in-process.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeAction,
  ConfigChange,
  NumberLookupSource,
  ResourceKind,
  RoutingStrategy,
  SmsSubmitted,
  TrafficType,
  topics as registry,
  type SmsRejected,
  type SmsRouted,
} from '@smshub/contracts';
import { createPool, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer, type ConsumerOptions } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import { metricsRegistry } from '@smshub/telemetry';
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

let db: TestDatabase;
let pool: Pool;
let topics: typeof registry;
let kafka: Kafka;
let producer: TypedProducer;
let logger: Logger;
let core: RoutingCore;
const consumers: TypedConsumer[] = [];
const groups = {
  submitted: uniqueName('routing'),
  config: uniqueName('routing-config'),
  stats: uniqueName('routing-stats'),
};
const routed = new Map<string, SmsRouted>();
const rejected = new Map<string, SmsRejected>();

/** A consumer whose dead-letter topic exists with a leader before it starts (its start then creates nothing). */
async function consumer(o: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer> {
  const c = new TypedConsumer(kafka, logger, { ...o, producer });
  await ensureTestTopics([c.deadLetterTopic]);
  consumers.push(c);
  return c;
}

async function addConnector(id: string, enabled = true): Promise<void> {
  await pool.query(
    `INSERT INTO egress_connectors (id, name, enabled, host, port, system_id, password_secret_ref, max_submit_rate)
     VALUES ($1, $1, $2, '127.0.0.1', 2776, 'hub', 'file:/run/secrets/x', 100)`,
    [id, enabled],
  );
}

async function addBuyRate(
  id: string,
  connectorId: string,
  where: { prefix?: string; mccMnc?: string; country?: string },
  micro: number,
): Promise<void> {
  await pool.query(
    `INSERT INTO rating_rates (id, owner_kind, owner_id, prefix, mcc_mnc, country, price_amount, price_scale, currency,
                               effective_from)
     VALUES ($1, 'connector', $2, $3, $4, $5, $6, 6, 'EUR', now() - interval '1 day')`,
    [id, connectorId, where.prefix ?? null, where.mccMnc ?? null, where.country ?? null, micro],
  );
}

async function submit(destination: string, text: string, source = 'ACME'): Promise<string> {
  const messageId = uuidv7();
  await producer.produce(
    topics.submitted,
    SmsSubmitted.fromPartial({
      messageId,
      accountId: 'acc_1',
      systemId: 'cust1',
      source: { ton: 5, npi: 0, address: source },
      destination: { ton: 1, npi: 1, address: destination },
      dataCoding: 0,
      // GSM 7-bit unpacked: ASCII letters, digits and space have the same codes.
      shortMessage: Buffer.from(text, 'ascii'),
      receivedAt: new Date(),
      customerMessageId: messageId,
      trafficType: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
    }),
  );
  return messageId;
}

const connectorsOf = (r: SmsRouted) => r.candidates.map((c) => c.connectorId);

/** The routed event of `id`; fails at once (with the reason) when the message was rejected instead. */
async function routedEvent(id: string): Promise<SmsRouted> {
  const outcome = await waitFor(() => routed.get(id) ?? rejected.get(id), {
    what: `the outcome of ${id}`,
    timeoutMs: 20_000,
  });
  if ('candidates' in outcome) return outcome;
  throw new Error(`expected ${id} to be routed, it was rejected: ${outcome.reason}`);
}

async function rejectedEvent(id: string): Promise<SmsRejected> {
  const outcome = await waitFor(() => routed.get(id) ?? rejected.get(id), {
    what: `the outcome of ${id}`,
    timeoutMs: 20_000,
  });
  if ('ruleId' in outcome) return outcome;
  throw new Error(`expected ${id} to be rejected, it was routed to ${connectorsOf(outcome).join(', ')}`);
}

beforeAll(async () => {
  logger = createLogger({
    service: 'routing-test',
    level: (process.env['TEST_LOG_LEVEL'] as 'info') ?? ('silent' as 'info'),
  });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 5 });
  // The shared accounts table, egress's connectors, rating's rates and routing's own tables.
  await migrateForRouting(pool);

  await importPrefixCsv(pool, await readFile(path.join(here, '../data/sample-prefixes.csv'), 'utf8'));
  await addConnector('con_a');
  await addConnector('con_b');
  await addConnector('con_off', false);
  // con_b is cheapest on EE (234-30), but dearer than con_a by country; con_off is cheapest but disabled.
  await addBuyRate('br_a_gb', 'con_a', { country: 'GB' }, 5000);
  await addBuyRate('br_b_ee', 'con_b', { mccMnc: '23430' }, 4000);
  await addBuyRate('br_b_gb', 'con_b', { country: 'GB' }, 6000);
  await addBuyRate('br_off_gb', 'con_off', { country: 'GB' }, 1000);
  await pool.query(
    `INSERT INTO routing_rules (id, countries, strategy, strategy_currency) VALUES ('r_gb', '{GB}', 'least_cost', 'EUR')`,
  );
  await pool.query(
    `INSERT INTO routing_rule_candidates (rule_id, position, connector_id, weight)
     VALUES ('r_gb', 0, 'con_a', 1), ('r_gb', 1, 'con_b', 1), ('r_gb', 2, 'con_off', 1)`,
  );
  // A number ported from EE (by prefix 4477) to O2 (234-10).
  await pool.query(
    `INSERT INTO routing_ported_numbers (e164, mcc, mnc) VALUES ('447712345999', '234', '10')`,
  );
  await pool.query(
    `INSERT INTO routing_firewall_rules (id, kind, params, reason)
     VALUES ('fw_casino', 'keyword', '{"keywords": ["casino"]}', 'gambling promotion')`,
  );

  topics = await createIsolatedTopics(registry);
  kafka = createKafka(
    { brokers: testKafkaBrokers(), clientId: uniqueName('routing-test'), ssl: false },
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

  core = createRoutingCore({
    config: {
      replicaId: 'r0',
      groupId: groups.submitted,
      configGroupPrefix: groups.config,
      statsGroupPrefix: groups.stats,
      portedCache: { ttlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 1000 },
      // As main.ts's default: every partition of sms.submitted.v1 handled at once.
      consumer: { partitionsConsumedConcurrently: 6 },
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
  await core?.stop();
  for (const c of consumers) await c.stop().catch(() => undefined);
  await producer?.close();
  await pool?.end();
  await db?.drop();
  if (topics) {
    // The isolated topics and the dead-letter topics of every group this file created.
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

describe('routing service', () => {
  it('routes a submitted message by least cost, without the disabled connector', async () => {
    const id = await submit('447712345123', 'Your code is 1234');
    const r = await routedEvent(id);
    expect(connectorsOf(r)).toEqual(['con_b', 'con_a']);
    expect(r.strategy).toBe(RoutingStrategy.ROUTING_STRATEGY_LEAST_COST);
    expect(r.candidates[0]).toMatchObject({
      ruleId: 'r_gb',
      expectedCost: { currencyCode: 'EUR', minorUnits: 4000n, scale: 6 },
    });
    expect(r.candidates[1]?.expectedCost?.minorUnits).toBe(5000n);
    expect(r.destinationInfo).toMatchObject({
      countryCode: 'GB',
      mcc: '234',
      mnc: '30',
      matchedPrefix: '4477',
      ported: false,
      source: NumberLookupSource.NUMBER_LOOKUP_SOURCE_PREFIX_TABLE,
    });
    expect(r.message?.shortMessage).toEqual(Buffer.from('Your code is 1234', 'ascii'));
    expect(rejected.has(id)).toBe(false);
  });

  it('uses the ported network of a number from Postgres, which changes the cheapest connector', async () => {
    const id = await submit('447712345999', 'Your code is 5678');
    const r = await routedEvent(id);
    expect(r.destinationInfo).toMatchObject({
      mcc: '234',
      mnc: '10',
      ported: true,
      source: NumberLookupSource.NUMBER_LOOKUP_SOURCE_PORTED_NUMBERS,
    });
    expect(connectorsOf(r)).toEqual(['con_a', 'con_b']);
    expect(r.candidates[1]?.expectedCost?.minorUnits).toBe(6000n);
  });

  it('forgets a cached portability answer when the ported number changes', async () => {
    await pool.query(`UPDATE routing_ported_numbers SET mnc = '30' WHERE e164 = '447712345999'`);
    expect(core.numbers.peek('+447712345999')).toMatchObject({ mccMnc: '234-10' });
    await producer.produce(
      topics.configChanges,
      ConfigChange.fromPartial({
        changeId: uuidv7(),
        kind: ResourceKind.RESOURCE_KIND_PORTED_NUMBER,
        resourceId: '447712345999',
        action: ChangeAction.CHANGE_ACTION_UPDATED,
        revision: 2n,
        changedAt: new Date(),
        actor: 'test',
      }),
    );
    await waitFor(() => core.numbers.peek('+447712345999') === undefined, { what: 'the cache entry to go' });
    const id = await submit('447712345999', 'Your code is 2468');
    const r = await routedEvent(id);
    expect(r.destinationInfo).toMatchObject({ mnc: '30', ported: true });
    expect(connectorsOf(r)).toEqual(['con_b', 'con_a']);
  });

  it('rejects a message the firewall blocks, with the rule id and the customer error', async () => {
    const id = await submit('447712345124', 'Big wins at the Casino tonight');
    const r = await rejectedEvent(id);
    expect(r.ruleId).toBe('fw_casino');
    expect(r.error).toMatchObject({ code: 'FIREWALL_CONTENT', receiptError: 13 });
    expect(r.error?.message).not.toMatch(/casino|fw_/i);
    expect(r.reason).toMatch(/gambling promotion/);
    expect(r.message?.messageId).toBe(id);
    expect(routed.has(id)).toBe(false);
    const metrics = await metricsRegistry.getSingleMetricAsString('smshub_routing_rejected_total');
    expect(metrics).toMatch(/category="firewall_content",rule="fw_casino"} [1-9]/);
  });

  it('routes by a rule changed in Postgres after a config change, without a restart', async () => {
    const before = core.snapshot()!.tables.version;
    await pool.query(
      `UPDATE routing_rules SET strategy = 'priority', strategy_currency = NULL WHERE id = 'r_gb'`,
    );
    await pool.query(`DELETE FROM routing_rule_candidates WHERE rule_id = 'r_gb'`);
    await pool.query(
      `INSERT INTO routing_rule_candidates (rule_id, position, connector_id) VALUES ('r_gb', 0, 'con_a'), ('r_gb', 1, 'con_b')`,
    );
    await producer.produce(
      topics.configChanges,
      ConfigChange.fromPartial({
        changeId: uuidv7(),
        kind: ResourceKind.RESOURCE_KIND_ROUTING_RULE,
        resourceId: 'r_gb',
        action: ChangeAction.CHANGE_ACTION_UPDATED,
        revision: 2n,
        changedAt: new Date(),
        actor: 'test',
      }),
    );
    await waitFor(() => core.snapshot()!.tables.version !== before, {
      what: 'the reload',
      timeoutMs: 20_000,
    });
    const id = await submit('447712345123', 'Your code is 9999');
    const r = await routedEvent(id);
    expect(r.strategy).toBe(RoutingStrategy.ROUTING_STRATEGY_PRIORITY);
    expect(connectorsOf(r)).toEqual(['con_a', 'con_b']);
    expect(r.candidates.map((c) => c.reason)).toEqual(['priority 1', 'priority 2']);
  });

  it('keeps the tables in force when a change makes the configuration invalid', async () => {
    const before = core.snapshot()!.tables.version;
    await pool.query(`UPDATE routing_firewall_rules SET params = '{"pattern": "(unclosed"}', kind = 'content_regex'
                       WHERE id = 'fw_casino'`);
    await producer.produce(
      topics.configChanges,
      ConfigChange.fromPartial({
        changeId: uuidv7(),
        kind: ResourceKind.RESOURCE_KIND_FIREWALL_RULE,
        resourceId: 'fw_casino',
        action: ChangeAction.CHANGE_ACTION_UPDATED,
        revision: 2n,
        changedAt: new Date(),
        actor: 'test',
      }),
    );
    await waitFor(
      async () =>
        /outcome="invalid"} [1-9]/.test(
          await metricsRegistry.getSingleMetricAsString('smshub_routing_reloads_total'),
        ),
      { what: 'the refused reload', timeoutMs: 20_000 },
    );
    expect(core.snapshot()!.tables.version).toBe(before);
    const id = await submit('447712345125', 'Casino night is on');
    const r = await rejectedEvent(id);
    expect(r.ruleId).toBe('fw_casino');
  });
});
