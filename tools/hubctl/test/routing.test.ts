// hubctl routing end to end: the real routing and stats services as their own processes (fresh database,
// their own Kafka namespace) and the real CLI as a child process. What an operator sees: a dry run naming
// the rule, the chosen connector and why, and the connectors not eligible; the learnt estimates of an
// adaptive rule; a rule's hits after a real message was routed.
import { randomBytes, randomUUID as uuidv7 } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeliveryStatus,
  namespacedTopics,
  SmsDelivery,
  SmsSubmitted,
  TrafficType,
  topics,
} from '@smshub/contracts';
import { createPool, migrate, type Pool } from '@smshub/db';
import { createKafka, ensureTopics, TypedProducer } from '@smshub/kafka';
import { bundleHubctl, runBundled, type CliResult } from './cli-bundle.js';
import {
  createTestDatabase,
  freePort,
  HubProcess,
  repoRoot,
  testKafkaAdmin,
  testKafkaBrokers,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@smshub/testing';

const root = repoRoot();
const token = randomBytes(24).toString('base64url');
let db: TestDatabase;
let pool: Pool;
let workDir: string;
/** hubctl bundled once (cli-bundle.ts): each run starts in a fraction of tsx's time. */
let cli = '';
const services: HubProcess[] = [];
let routingPort = 0;
let statsPort = 0;
let producer: TypedProducer;
let names: ReturnType<typeof namespacedTopics<typeof topics>>;

function hubctl(...args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HUBCTL_ROUTING_ADDR: `127.0.0.1:${routingPort}`,
    HUBCTL_STATS_ADDR: `127.0.0.1:${statsPort}`,
    HUBCTL_TOKEN: token,
  };
  return runBundled(cli, args, env);
}

async function receipts(connectorId: string, n: number, delivered: number): Promise<void> {
  const at = Date.now();
  for (let i = 0; i < n; i++)
    await producer.produce(
      names.delivery,
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

function service(name: string, port: number, env: NodeJS.ProcessEnv): HubProcess {
  const p = new HubProcess(
    name,
    ['--conditions=@smshub/source', '--import', 'tsx', path.join(root, `services/${name}/src/main.ts`)],
    { ...env, GRPC_PORT: String(port) },
    Number(env.HTTP_PORT),
    path.join(workDir, `${name}.log`),
  );
  services.push(p);
  return p;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'hubctl-routing-'));
  cli = await bundleHubctl(workDir);
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 2 });
  const namespace = uniqueName('hubctl-rt');
  names = namespacedTopics(topics, namespace);
  const admin = await testKafkaAdmin();
  try {
    await Promise.all([migrate(pool), ensureTopics(admin, Object.values(names), 1)]);
  } finally {
    await admin.disconnect();
  }
  await pool.query(
    `INSERT INTO routing_number_prefixes (prefix, country, mcc, mnc, operator) VALUES ('4477', 'GB', '234', '30', 'EE')`,
  );
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
  await pool.query(
    `INSERT INTO routing_rules (id, countries, strategy, strategy_currency, strategy_options)
     VALUES ('r_otp', '{GB}', 'adaptive', 'EUR', '{"exploration": 0, "minSamples": 20}')`,
  );
  await pool.query(
    `INSERT INTO routing_rule_candidates (rule_id, position, connector_id, weight)
     VALUES ('r_otp', 0, 'con_cheap', 1), ('r_otp', 1, 'con_dear', 1), ('r_otp', 2, 'con_off', 1)`,
  );

  const logger = {
    level: 'silent',
    isLevelEnabled: () => false,
    child: () => logger,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    fatal: () => undefined,
  } as unknown as Parameters<typeof createKafka>[1];
  producer = new TypedProducer(
    createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('hubctl-rt'), ssl: false }, logger),
    logger,
  );
  await producer.connect();
  // con_cheap delivers 60 %, con_dear all: OTP's 95 % level is met by con_dear only.
  await receipts('con_cheap', 30, 18);
  await receipts('con_dear', 30, 30);

  routingPort = await freePort();
  statsPort = await freePort();
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    KAFKA_NAMESPACE: namespace,
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    ADMIN_TOKEN: token,
  };
  delete base.OTEL_EXPORTER_OTLP_ENDPOINT;
  const routing = service('routing', routingPort, {
    ...base,
    HTTP_PORT: String(await freePort()),
    ROUTING_REPLICA_ID: 'rt-1',
  });
  const stats = service('stats', statsPort, { ...base, HTTP_PORT: String(await freePort()) });
  routing.start();
  stats.start();
  await Promise.all([routing.waitReady(90_000), stats.waitReady(90_000)]);
}, 180_000);

afterAll(async () => {
  for (const s of services) await s.stop('SIGTERM', 10_000);
  await producer?.close();
  await pool?.end();
  await db?.drop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('hubctl routing', { timeout: 240_000 }, () => {
  it('dry-runs a message: the rule, the learnt choice and why, the connectors not eligible', async () => {
    // The receipts are read at start; wait until the estimates show them.
    const est = await waitFor(
      async () => {
        const r = await hubctl(
          'routing',
          'estimates',
          '--rule',
          'r_otp',
          '--destination',
          '234-30',
          '-o',
          'json',
        );
        if (r.code !== 0) throw new Error(r.stderr);
        const json = JSON.parse(r.stdout) as { estimates?: { connectorId: string; samples: number }[] };
        const dear = json.estimates?.find((e) => e.connectorId === 'con_dear');
        return dear && dear.samples > 20 ? json : undefined;
      },
      { what: 'the receipts learnt', timeoutMs: 60_000 },
    );
    expect(est.estimates!.map((e) => e.connectorId)).toEqual(['con_cheap', 'con_dear']);

    const table = await hubctl('routing', 'estimates', '--rule', 'r_otp', '--destination', '+447712345123');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/234-30\s+│\s+otp\s+│\s+con_dear\s+│\s+9\d\.\d%.+│ yes/);
    expect(table.stdout).toContain('EUR 0.003');

    const run = await hubctl(
      'routing',
      'dry-run',
      '--account',
      'acc_1',
      '--to',
      '+447712345123',
      '--from',
      'ACME',
      '--text',
      'Your code is 1234',
      '--traffic-type',
      'otp',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('r_otp (adaptive)');
    expect(run.stdout).toMatch(/chosen\s+│?\s*con_dear/);
    expect(run.stdout).toContain('exploitation: most delivered per EUR meeting the level 95%');
    expect(run.stdout).toMatch(/con_off\s+│?\s*EUR 0\.0005\s+│?\s*disabled/);

    const json = await hubctl(
      'routing',
      'dry-run',
      '--account',
      'acc_1',
      '--to',
      '447712345123',
      '-o',
      'json',
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      outcome: 'routed',
      ruleId: 'r_otp',
      replicaId: 'rt-1',
      chosenConnectorId: expect.any(String),
    });
  });

  it('lists rule hits after a real message was routed', async () => {
    const messageId = uuidv7();
    await producer.produce(
      names.submitted,
      SmsSubmitted.fromPartial({
        messageId,
        accountId: 'acc_1',
        systemId: 'cust1',
        source: { ton: 5, npi: 0, address: 'ACME' },
        destination: { ton: 1, npi: 1, address: '447712345123' },
        shortMessage: Buffer.from('Your code is 1234', 'ascii'),
        receivedAt: new Date(),
        customerMessageId: messageId,
        trafficType: TrafficType.TRAFFIC_TYPE_OTP,
      }),
    );
    const hits = await waitFor(
      async () => {
        const r = await hubctl('routing', 'hits', '-o', 'json');
        if (r.code !== 0) throw new Error(r.stderr);
        const j = JSON.parse(r.stdout) as { rules?: { ruleId: string; hitsLastHour: string }[] };
        return j.rules?.find((x) => x.ruleId === 'r_otp') ? j : undefined;
      },
      { what: 'the hit of r_otp', timeoutMs: 60_000 },
    );
    expect(hits.rules!.find((x) => x.ruleId === 'r_otp')).toMatchObject({
      hitsLastHour: '1',
      kind: 'routing',
    });
    const table = await hubctl('routing', 'hits', '--window', '6h');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/r_otp\s+│?\s*routing\s+│?\s*1\s+│?\s*1\s+│?\s*1/);
  });
});
