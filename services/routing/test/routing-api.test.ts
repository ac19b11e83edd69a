// RoutingService over real Kafka, PostgreSQL and gRPC: the dry run answers what the engine would do (the
// adaptive rule's learnt choice with every connector and why not, a firewall refusal naming its rule) and
// has no side effect (nothing on sms.routed.v1, the velocity window not counted: a real message after two
// dry runs is still admitted by a limit-1 rule); the learnt estimates of a rule; prices only for admin;
// finance and customer tokens refused.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerInterceptor, generateSecret, hashSecret, ROLES, type Role } from '@smshub/auth';
import {
  DeliveryStatus,
  DryRunRequest,
  GetEstimatesRequest,
  RoutingServiceClient,
  SmsDelivery,
  SmsSubmitted,
  TrafficType,
  topics as registry,
  type DryRunResponse,
  type GetEstimatesResponse,
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
import { startRoutingApi, type GrpcServer } from '../src/grpc.js';
import { importPrefixCsv } from '../src/prefix-import.js';
import { migrateForRouting } from './migrations.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_TOKEN = 'routing-api-test-admin-token-0123';

let db: TestDatabase;
let pool: Pool;
let topics: typeof registry;
let kafka: Kafka;
let producer: TypedProducer;
let logger: Logger;
let core: RoutingCore;
let server: GrpcServer;
const tokens = {} as Record<Role, string>;
const consumers: TypedConsumer[] = [];
const routed = new Map<string, SmsRouted>();
const rejected = new Map<string, SmsRejected>();
const clients: RoutingServiceClient[] = [];

async function consumer(o: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer> {
  const c = new TypedConsumer(kafka, logger, { ...o, producer });
  await ensureTestTopics([c.deadLetterTopic]);
  consumers.push(c);
  return c;
}

function client(role: Role) {
  const c = new RoutingServiceClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), {
    interceptors: [bearerInterceptor(tokens[role])],
  });
  clients.push(c);
  return {
    dryRun: (r: Partial<DryRunRequest>) =>
      new Promise<DryRunResponse>((resolve, reject) =>
        c.dryRun(DryRunRequest.fromPartial(r), (err, res) => (err ? reject(err) : resolve(res))),
      ),
    estimates: (r: Partial<GetEstimatesRequest>) =>
      new Promise<GetEstimatesResponse>((resolve, reject) =>
        c.getEstimates(GetEstimatesRequest.fromPartial(r), (err, res) => (err ? reject(err) : resolve(res))),
      ),
  };
}

/** `n` final OTP statuses of `connectorId` to EE (234-30), `delivered` of them DELIVRD, now. */
async function receipts(connectorId: string, n: number, delivered: number): Promise<void> {
  const at = Date.now();
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

async function submit(accountId: string, text: string): Promise<string> {
  const messageId = uuidv7();
  await producer.produce(
    topics.submitted,
    SmsSubmitted.fromPartial({
      messageId,
      accountId,
      systemId: 'cust1',
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: '447712345123' },
      dataCoding: 0,
      shortMessage: Buffer.from(text, 'ascii'),
      receivedAt: new Date(),
      customerMessageId: messageId,
      trafficType: TrafficType.TRAFFIC_TYPE_OTP,
    }),
  );
  return messageId;
}

beforeAll(async () => {
  logger = createLogger({
    service: 'routing-api-test',
    level: (process.env['TEST_LOG_LEVEL'] as 'info') ?? ('silent' as 'info'),
  });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 5 });
  await migrateForRouting(pool, '0610');
  await importPrefixCsv(pool, await readFile(path.join(here, '../data/sample-prefixes.csv'), 'utf8'));
  for (const [id, micro, enabled] of [
    ['con_cheap', 1000, true],
    ['con_dear', 3000, true],
    ['con_off', 500, false],
  ] as const) {
    await pool.query(
      `INSERT INTO egress_connectors (id, name, enabled, host, port, system_id, password_secret_ref, max_submit_rate)
       VALUES ($1, $1, $2, '127.0.0.1', 2776, 'hub', 'file:/run/secrets/x', 100)`,
      [id, enabled],
    );
    await pool.query(
      `INSERT INTO rating_rates (id, owner_kind, owner_id, country, price_amount, price_scale, currency, effective_from)
       VALUES ($1, 'connector', $2, 'GB', $3, 6, 'EUR', now() - interval '1 day')`,
      [`br_${id}`, id, micro],
    );
  }
  // Exploration at the maximum share (20 %): a dry run must still answer the exploiting choice.
  await pool.query(
    `INSERT INTO routing_rules (id, countries, strategy, strategy_currency, strategy_options)
     VALUES ('r_otp', '{GB}', 'adaptive', 'EUR', '{"exploration": 0.2, "minSamples": 20}')`,
  );
  await pool.query(
    `INSERT INTO routing_rule_candidates (rule_id, position, connector_id, weight)
     VALUES ('r_otp', 0, 'con_cheap', 1), ('r_otp', 1, 'con_dear', 1), ('r_otp', 2, 'con_off', 1)`,
  );
  await pool.query(
    `INSERT INTO routing_firewall_rules (id, kind, account_ids, params) VALUES
       ('fw_words', 'keyword', '{}', '{"keywords": ["casino"]}'),
       ('fw_once', 'velocity_account', '{acc_v}', '{"limit": 1, "windowSeconds": 600}')`,
  );
  const account = await pool.query<{ id: string }>(
    `INSERT INTO accounts (system_id, password_hash, currency) VALUES ('api-cust', '$argon2id$test', 'EUR') RETURNING id`,
  );
  for (const role of ROLES) {
    const secret = generateSecret();
    await pool.query(
      'INSERT INTO auth_tokens (id, token_hash, name, role, account_id) VALUES ($1, $2, $3, $4, $5)',
      [randomUUID(), hashSecret(secret), role, role, role === 'customer' ? account.rows[0]!.id : null],
    );
    tokens[role] = secret;
  }

  topics = await createIsolatedTopics(registry);
  kafka = createKafka(
    { brokers: testKafkaBrokers(), clientId: uniqueName('routing-api-test'), ssl: false },
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

  // con_cheap delivers 60 %, con_dear 100 %: OTP's level (95 %) is met by con_dear only.
  await receipts('con_cheap', 40, 24);
  await receipts('con_dear', 40, 40);
  core = createRoutingCore({
    config: {
      replicaId: 'api-1',
      groupId: uniqueName('routing-api'),
      configGroupPrefix: uniqueName('api-config'),
      statsGroupPrefix: uniqueName('api-stats'),
      adaptiveGroupPrefix: uniqueName('api-learn'),
      portedCache: { ttlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 1000 },
    },
    logger,
    producer,
    consumer,
    pool,
    topics,
  });
  await core.start();
  server = await startRoutingApi(core, pool, logger, {
    replicaId: 'api-1',
    port: 0,
    adminToken: ADMIN_TOKEN,
  });
  const now = Date.now();
  await waitFor(
    () => {
      const e = core.adaptive.lookup('con_dear', '234-30', 'OTP', now);
      return e && e.successes + e.failures > 39 ? true : undefined;
    },
    { what: 'the receipts learnt', timeoutMs: 30_000 },
  );
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop();
  await core?.stop().catch(() => undefined);
  for (const c of consumers) await c.stop().catch(() => undefined);
  await producer?.close();
  await pool?.end();
  await db?.drop();
  if (topics) {
    const admin = await testKafkaAdmin();
    await admin
      .deleteTopics({ topics: Object.values(topics).map((t) => (t as { name: string }).name) })
      .catch(() => undefined);
    await admin.disconnect();
  }
});

describe('RoutingService', () => {
  it('dry-runs an adaptive decision: the learnt choice, every connector and why, without side effects', async () => {
    const admin = client('admin');
    const req = {
      accountId: 'acc_v',
      source: 'ACME',
      destination: '+447712345123',
      text: 'Your code is 1234',
      trafficType: TrafficType.TRAFFIC_TYPE_OTP,
    };
    // Many runs: at a 20 % exploration share, a drawn id would explore in some of them.
    const runs = await Promise.all(Array.from({ length: 10 }, () => admin.dryRun(req)));
    for (const r of runs) {
      expect(r.chosenConnectorId).toBe('con_dear');
      expect(r.chosenReason).toMatch(/^adaptive exploitation: most delivered per EUR meeting the level 95%/);
    }
    const r = runs[0]!;
    expect(r).toMatchObject({
      outcome: 'routed',
      e164: '+447712345123',
      country: 'GB',
      mccMnc: '234-30',
      ruleId: 'r_otp',
      strategy: 'adaptive',
      replicaId: 'api-1',
      firewall: { rejected: false, statefulRuleIds: ['fw_once'] },
    });
    expect(r.candidates.map((c) => [c.connectorId, c.eligible, c.position])).toEqual([
      ['con_dear', true, 1],
      ['con_cheap', true, 2],
      ['con_off', false, 0],
    ]);
    expect(r.candidates[0]!.price).toEqual({ currencyCode: 'EUR', minorUnits: 3000n, scale: 6 });
    expect(r.candidates[2]!.reason).toBe('disabled');

    // No side effect: the limit-1 velocity rule of acc_v still admits a real message, and the only
    // routed record is that message's.
    const id = await submit('acc_v', 'Your code is 1234');
    const real = await waitFor(() => routed.get(id), { what: 'the real message routed', timeoutMs: 20_000 });
    expect(real.candidates[0]!.connectorId).toBe('con_dear');
    expect([...routed.keys()]).toEqual([id]);
    expect(rejected.size).toBe(0);
  });

  it('names the firewall rule that would refuse a message, and the receipt the customer would get', async () => {
    const r = await client('operations').dryRun({
      accountId: 'acc_1',
      source: 'ACME',
      destination: '447712345123',
      text: 'Win at the CASINO tonight',
    });
    expect(r).toMatchObject({
      outcome: 'rejected',
      firewall: { rejected: true, ruleId: 'fw_words', reason: 'keyword "CASINO"' },
      rejectCategory: 'firewall_content',
      customerStat: 'REJECTD',
      ruleId: '',
    });
    const bad = await client('admin').dryRun({ accountId: 'acc_1', destination: '12' });
    expect(bad).toMatchObject({ outcome: 'rejected', rejectCategory: 'invalid_number' });
  });

  it('shows a rule’s learnt estimates; prices for admin only', async () => {
    const admin = await client('admin').estimates({ ruleId: 'r_otp', destination: '+447712345123' });
    const otp = admin.estimates.filter((e) => e.trafficType === TrafficType.TRAFFIC_TYPE_OTP);
    expect(otp.map((e) => e.connectorId)).toEqual(['con_cheap', 'con_dear']);
    const [cheap, dear] = otp;
    expect(cheap).toMatchObject({ destination: '234-30', trusted: true, meetsLevel: false });
    // 40 receipts, decayed with a 5-minute half-life since they were sent: 38.8 after 13 s of a loaded machine.
    expect(cheap!.samples).toBeGreaterThan(36);
    expect(cheap!.deliveryProbability).toBeGreaterThan(0.55);
    expect(cheap!.deliveryProbability).toBeLessThan(0.7);
    expect(dear).toMatchObject({ meetsLevel: true, price: { currencyCode: 'EUR', minorUnits: 3000n } });
    expect(dear!.deliveredPerUnit).toBeGreaterThan(300);
    expect(admin.explorationShare).toBeCloseTo(0.2);

    const ops = await client('operations').estimates({ ruleId: 'r_otp', destination: '234-30' });
    const opsDear = ops.estimates.find((e) => e.connectorId === 'con_dear')!;
    expect(opsDear).toMatchObject({ meetsLevel: true, trusted: true });
    expect(opsDear.price).toBeUndefined();
    const opsRun = await client('operations').dryRun({ accountId: 'acc_1', destination: '+447712345123' });
    expect(opsRun.candidates.every((c) => c.price === undefined)).toBe(true);
    expect(opsRun.chosenReason).not.toMatch(/EUR micro/);

    await expect(client('admin').estimates({ ruleId: 'nope' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it('refuses finance and customer tokens', async () => {
    for (const role of ['finance', 'customer'] as const)
      await expect(
        client(role).dryRun({ accountId: 'acc_1', destination: '+447712345123' }),
      ).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });
});
