// hubctl dead-letters end to end: the real admin process (fresh database, its own Kafka namespace), a
// consumer group in this test that dead-letters a record, and the real CLI as a child process: the group
// and its dead letter listed (tables and -o json), the fault fixed, the replay handled by that group once,
// a second replay skipped.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespacedTopics, SmsSubmitted, topics } from '@smshub/contracts';
import { createPool, migrate, type Pool } from '@smshub/db';
import { createKafka, ensureTopics, KafkaLibError, TypedConsumer, TypedProducer } from '@smshub/kafka';
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
const logger = createLogger({ service: 'hubctl-dl-test', level: 'silent' as 'info' });
let db: TestDatabase;
let pool: Pool;
let workDir: string;
/** hubctl bundled once (cli-bundle.ts): each run starts in a fraction of tsx's time. */
let cli = '';
let admin: HubProcess;
let grpcPort = 0;
let producer: TypedProducer;
let consumer: TypedConsumer;
let group = '';
let broken = true;
const handled: string[] = [];

function hubctl(...args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HUBCTL_ADMIN_ADDR: `127.0.0.1:${grpcPort}`,
    HUBCTL_TOKEN: token,
  };
  return runBundled(cli, args, env);
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'hubctl-dl-'));
  cli = await bundleHubctl(workDir);
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 2 });
  const namespace = uniqueName('hubctl-dl');
  group = `${namespace}.routing`;
  const names = namespacedTopics(topics, namespace);
  const kafkaAdmin = await testKafkaAdmin();
  try {
    await Promise.all([migrate(pool), ensureTopics(kafkaAdmin, Object.values(names), 1)]);
  } finally {
    await kafkaAdmin.disconnect();
  }
  const kafka = createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('hubctl-dl') }, logger);
  producer = new TypedProducer(kafka, logger);
  await producer.connect();
  consumer = new TypedConsumer(kafka, logger, {
    groupId: group,
    producer,
    retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
    commitIntervalMs: 100,
  }).on(names.submitted, (r) => {
    if (broken && r.value.messageId === 'msg-poison')
      throw new KafkaLibError('no route', { retriable: false });
    handled.push(r.value.messageId);
  });
  await consumer.start();
  for (const id of ['msg-fine', 'msg-poison'])
    await producer.produce(
      names.submitted,
      SmsSubmitted.fromPartial({ messageId: id, shortMessage: Buffer.from('hello') }),
    );

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
  await Promise.all([
    admin.waitReady(90_000),
    waitFor(() => handled.includes('msg-fine'), { what: 'the good record handled', timeoutMs: 60_000 }),
  ]);
}, 180_000);

afterAll(async () => {
  await admin?.stop('SIGTERM', 10_000);
  await consumer?.stop();
  await producer?.close();
  await pool?.end();
  await db?.drop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('hubctl dead-letters', { timeout: 120_000 }, () => {
  it('lists the group and its dead letter, replays it into the group once, and skips a second replay', async () => {
    const groups = await waitFor(
      async () => {
        const r = await hubctl('dead-letters', 'groups');
        return r.code === 0 && r.stdout.includes(group) ? r : undefined;
      },
      { what: 'the group in dead-letters groups', timeoutMs: 30_000 },
    );
    expect(groups.stdout).toMatch(/GROUP\s+.*COUNT\s+.*REPLAYED/);
    expect(groups.stdout.split('\n').find((l) => l.includes(group))).toMatch(/\s1\s+.*\s0\s/);

    const list = await hubctl('dead-letters', 'list', group);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('KafkaLibError: no route');
    expect(list.stdout).toContain('msg-poison');
    expect(list.stdout).not.toContain('hello');

    const json = await hubctl('dead-letters', 'list', group, '-o', 'json');
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { deadLetters: { offset?: string; messageId: string }[] };
    // proto3 JSON: offset 0 is the default, so it is left out.
    expect(parsed.deadLetters).toEqual([
      expect.objectContaining({ messageId: 'msg-poison', errorType: 'KafkaLibError', attempts: 1 }),
    ]);
    expect(parsed.deadLetters[0]!.offset ?? '0').toBe('0');

    const usage = await hubctl('dead-letters', 'replay', group);
    expect(usage.code).toBe(64);

    broken = false;
    const replay = await hubctl('dead-letters', 'replay', group, '0');
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain(`replayed 1 dead letters of ${group}`);
    await waitFor(() => handled.includes('msg-poison'), { what: 'the replayed record handled' });

    const again = await hubctl('dead-letters', 'replay', group, '--all');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('replayed 0 dead letters');
    expect(again.stdout).toContain('skipped 1 replayed before');
    expect(handled.filter((id) => id === 'msg-poison')).toHaveLength(1);
  });
});
