// hubctl connectors status / lag / whoami end to end: the real admin process (fresh database, its own Kafka
// namespace) and the real CLI as a child process. Two egress replicas' connector-state records are
// produced on egress.connector-state.v1 (one fresh, one reported long ago: stale), a hub consumer group
// commits part of a topic (lag), and the bootstrap token asks who it is.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectorState,
  namespacedGroup,
  namespacedTopics,
  SessionBindState,
  SmsSubmitted,
  topics,
} from '@smshub/contracts';
import { createPool, migrate, type Pool } from '@smshub/db';
import { createKafka, ensureTopics, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
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
const logger = createLogger({ service: 'hubctl-live-test', level: 'silent' as 'info' });
let db: TestDatabase;
let pool: Pool;
let workDir: string;
/** hubctl bundled once (cli-bundle.ts): each run starts in a fraction of tsx's time. */
let cli = '';
let admin: HubProcess;
let grpcPort = 0;
let producer: TypedProducer;
let namespace = '';
/** The routing group's lag on sms.submitted.v1 (offset 2 committed on partition 0 only). */
let expectedLag = 0;
let names: ReturnType<typeof namespacedTopics<typeof topics>>;

function hubctl(...args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HUBCTL_ADMIN_ADDR: `127.0.0.1:${grpcPort}`,
    HUBCTL_TOKEN: token,
  };
  return runBundled(cli, args, env);
}

function state(replicaId: string, reportedAt: Date, o: Partial<ConnectorState> = {}): ConnectorState {
  return ConnectorState.fromPartial({
    connectorId: 'con_live',
    replicaId,
    reportedAt,
    reportIntervalMs: 60_000,
    enabled: true,
    sessions: [
      {
        bindType: 'transmitter',
        index: 0,
        state: SessionBindState.SESSION_BIND_STATE_BOUND,
        since: reportedAt,
        windowInUse: 3,
      },
    ],
    windowInUse: 3,
    windowSize: 10,
    submitsPerSecond: 42,
    maxSubmitRate: 100,
    throttledLastMinute: 4,
    failoversLastMinute: 1,
    liveReplicas: 2,
    ...o,
  });
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'hubctl-live-'));
  cli = await bundleHubctl(workDir);
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 2 });
  namespace = uniqueName('hubctl-live');
  names = namespacedTopics(topics, namespace);
  const kafkaAdmin = await testKafkaAdmin();
  try {
    await Promise.all([migrate(pool), ensureTopics(kafkaAdmin, Object.values(names), 1)]);
  } finally {
    await kafkaAdmin.disconnect();
  }
  const kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('hubctl-live') }, logger);
  producer = new TypedProducer(kafka, logger);
  await producer.connect();
  // Replica r-old reported 10 minutes ago (died without its tombstone): read while admin catches up, it
  // counts as old as it says. r-new is read after the catch-up.
  await producer.produce(
    names.connectorState,
    state('r-old', new Date(Date.now() - 600_000), { lastError: 'bind refused' }),
  );

  // The routing group committed 2 of the records of sms.submitted.v1: behind by the rest.
  for (let i = 0; i < 5; i++)
    await producer.produce(names.submitted, SmsSubmitted.fromPartial({ messageId: `msg-${i}` }));
  const offsets = await testKafkaAdmin();
  try {
    await offsets.setOffsets({
      groupId: namespacedGroup('smshub-routing', namespace),
      topic: names.submitted.name,
      partitions: [{ partition: 0, offset: '2' }],
    });
    // Partition 0 is behind by its end minus 2; a partition never committed on, by its whole log.
    for (const p of await offsets.fetchTopicOffsets(names.submitted.name))
      expectedLag += p.partition === 0 ? Math.max(0, Number(p.high) - 2) : Number(p.high) - Number(p.low);
  } finally {
    await offsets.disconnect();
  }

  grpcPort = await freePort();
  const httpPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    KAFKA_NAMESPACE: namespace,
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    ADMIN_TOKEN: token,
    CONNECTOR_SECRET_KEY: randomBytes(32).toString('base64'),
  };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  admin = new HubProcess(
    'admin',
    ['--conditions=@smshub/source', '--import', 'tsx', path.join(root, 'services/admin/src/main.ts')],
    env,
    httpPort,
    path.join(workDir, 'admin.log'),
  );
  admin.start();
  await admin.waitReady(90_000);
}, 180_000);

afterAll(async () => {
  await admin?.stop('SIGTERM', 10_000);
  await producer?.close();
  await pool?.end();
  await db?.drop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('hubctl live state', { timeout: 120_000 }, () => {
  it('connectors status shows each replica, the dead one stale and left out of the totals', async () => {
    // Only once admin has read r-old (caught up) is r-new produced, so r-new is a later, fresh record.
    await waitFor(
      async () => {
        const r = await hubctl('connectors', 'status', '-o', 'json');
        return r.code === 0 && (JSON.parse(r.stdout) as { caughtUp?: boolean }).caughtUp === true
          ? r
          : undefined;
      },
      { what: 'admin caught up with the connector state topic', timeoutMs: 60_000 },
    );
    await producer.produce(names.connectorState, state('r-new', new Date()));
    const json = await waitFor(
      async () => {
        const r = await hubctl('connectors', 'status', '-o', 'json');
        if (r.code !== 0) return undefined;
        const parsed = JSON.parse(r.stdout) as {
          connectors?: { replicas?: { state: { replicaId: string }; stale?: boolean }[] }[];
        };
        return parsed.connectors?.[0]?.replicas?.length === 2 ? parsed : undefined;
      },
      { what: 'both replicas in connectors status', timeoutMs: 30_000 },
    );
    expect(json.connectors![0]).toMatchObject({
      connectorId: 'con_live',
      sessionsBound: 1,
      sessionsTotal: 1,
      windowInUse: 3,
      submitsPerSecond: 42,
      maxSubmitRate: 100,
    });
    expect(json.connectors![0]!.replicas!.map((r) => [r.state.replicaId, r.stale === true])).toEqual([
      ['r-new', false],
      ['r-old', true],
    ]);

    const table = await hubctl('connectors', 'status');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/CONNECTOR.*REPLICA.*SESSIONS.*WINDOW.*TPS\/MAX/);
    const lines = table.stdout.split('\n');
    expect(lines.find((l) => l.includes('r-old'))).toMatch(/r-old \(stale \d+s\).*bind refused/);
    expect(lines.find((l) => l.includes('r-new'))).toMatch(/tra#0 bound.*3\/10\W+42\/100\W+4\W+1\W/);
  });

  it('lag shows the hub group behind on its topic, and whoami the bootstrap token', async () => {
    const group = namespacedGroup('smshub-routing', namespace);
    const lag = await hubctl('lag');
    expect(lag.code, lag.stderr).toBe(0);
    expect(lag.stdout.split('\n').find((l) => l.includes(group))).toContain(
      `${names.submitted.name} ${expectedLag}`,
    );
    expect(expectedLag).toBeGreaterThanOrEqual(3);
    expect(lag.stdout).toContain(`total lag ${expectedLag}`);
    const one = await hubctl('lag', 'smshub-routing', '-o', 'json');
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({
      totalLag: String(expectedLag),
      groups: [{ group, lag: String(expectedLag) }],
    });
    const bad = await hubctl('lag', 'no such group!');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('consumer group name');

    const who = await hubctl('whoami', '-o', 'json');
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({ tokenKind: 'bootstrap', roles: ['admin'] });
    expect((JSON.parse(who.stdout) as { permissions: string[] }).permissions).toContain('ops.read');
  });
});
