// hubctl webhooks end to end: the real webhooks service as its own process (fresh database, its own Kafka
// namespace), a real receiver on loopback, and the real CLI as a child process. What an operator sees:
// the signing secret printed once, a failed delivery's attempts listed, a replay delivered and signed with
// that secret. (The service's own behaviour is tested in services/webhooks/test.)
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, namespacedTopics, SmsDelivery, topics } from '@smshub/contracts';
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
let service: HubProcess;
let grpcPort = 0;
let producer: TypedProducer;
let deliveryTopic: string;

/** The receiver: every request it got, and what it answers (a status per path). */
const received: { path: string; body: string; signature: string }[] = [];
let answer: (path: string) => number = () => 200;
let receiver: Server;
let receiverPort = 0;

function hubctl(...args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HUBCTL_WEBHOOKS_ADDR: `127.0.0.1:${grpcPort}`,
    HUBCTL_TOKEN: token,
  };
  return runBundled(cli, args, env);
}

/** One final sms.delivery.v1 of `accountId` for message `messageId`, as dlr publishes it. */
async function delivery(messageId: string, accountId: string): Promise<void> {
  const value = SmsDelivery.fromPartial({
    context: {
      messageId,
      accountId,
      customerMessageId: messageId,
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: '447400123456' },
      receivedAt: new Date(),
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    segments: 1,
    revision: 1,
    updatedAt: new Date(),
    doneAt: new Date(),
  });
  await producer.produceRaw(deliveryTopic, messageId, Buffer.from(SmsDelivery.encode(value).finish()));
}

/** True when `header` (t=<s>,v1=<hex>...) carries HMAC-SHA256(secret, `${t}.${body}`), as docs/webhooks.md says. */
function signedWith(secret: string, header: string, body: string): boolean {
  const parts = header.split(',').map((p) => p.split('=') as [string, string]);
  const t = parts.find(([k]) => k === 't')?.[1];
  const mac = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
  return parts.some(([k, v]) => k === 'v1' && v === mac);
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'hubctl-webhooks-'));
  cli = await bundleHubctl(workDir);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body, signature: String(req.headers['smshub-signature'] ?? '') });
      res.writeHead(answer(req.url ?? '')).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverPort = (receiver.address() as { port: number }).port;

  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 2 });
  const namespace = uniqueName('hubctl-wh');
  const names = namespacedTopics(topics, namespace);
  deliveryTopic = names.delivery.name;
  const admin = await testKafkaAdmin();
  try {
    await Promise.all([migrate(pool), ensureTopics(admin, Object.values(names), 1)]);
  } finally {
    await admin.disconnect();
  }
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
    createKafka({ brokers: testKafkaBrokers(), clientId: uniqueName('hubctl-wh'), ssl: false }, logger),
    logger,
  );
  await producer.connect();

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
    WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
    // Give up quickly, so that a failed delivery can be listed and replayed within the test.
    WEBHOOK_RETRY_BASE_MS: '100',
    WEBHOOK_RETRY_MAX_MS: '200',
    WEBHOOK_RETRY_FOR_MS: '1000',
    WEBHOOK_POLL_MS: '100',
  };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  service = new HubProcess(
    'webhooks',
    ['--conditions=@smshub/source', '--import', 'tsx', path.join(root, 'services/webhooks/src/main.ts')],
    env,
    httpPort,
    path.join(workDir, 'webhooks.log'),
  );
  service.start();
  await service.waitReady(90_000);
}, 180_000);

afterAll(async () => {
  await service?.stop('SIGTERM', 10_000);
  await producer?.close();
  await pool?.end();
  await db?.drop();
  await new Promise((resolve) => receiver?.close(resolve));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('hubctl webhooks', { timeout: 240_000 }, () => {
  it('sets an endpoint (secret printed once), lists the attempts of a failed delivery and replays it', async () => {
    const accountId = `acc_${randomBytes(3).toString('hex')}`;
    const urlPath = `/${accountId}`;
    const set = await hubctl(
      'webhooks',
      'set',
      '--account',
      accountId,
      '--url',
      `http://127.0.0.1:${receiverPort}${urlPath}`,
    );
    expect(set.code, set.stderr).toBe(0);
    const secret = /signing secret: (whsec_\S+)/.exec(set.stdout)?.[1];
    expect(secret).toBeDefined();
    const get = await hubctl('webhooks', 'get', '--account', accountId);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toContain(urlPath);
    expect(get.stdout).not.toContain('whsec_');

    // The service consumes sms.delivery.v1 from the latest offset once it joined: a first delivery,
    // sent again under a new id until it shows up, says it is consuming.
    answer = (p) => (p === urlPath ? 500 : 200);
    let m = '';
    await waitFor(
      async () => {
        if (m && received.some((r) => r.path === urlPath && r.body.includes(m))) return true;
        m = randomUUID();
        await delivery(m, accountId);
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 2_000, what: 'the first delivery attempted' },
    );
    const attempts = await waitFor(
      async () => {
        const r = await hubctl('webhooks', 'attempts', '--message', m);
        return r.code === 0 && /failed/.test(r.stdout) ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'the delivery given up (failed)' },
    );
    expect(attempts.stdout).toMatch(/HTTP 500/);
    const listed = await hubctl('-o', 'json', 'webhooks', 'attempts', '--message', m);
    expect(listed.code, listed.stderr).toBe(0);
    const json = JSON.parse(listed.stdout) as { deliveries: { id: string }[] };

    answer = () => 200;
    const before = received.length;
    const replay = await hubctl('webhooks', 'replay', json.deliveries[0]!.id);
    expect(replay.code, replay.stderr).toBe(0);
    const last = await waitFor(
      () => received.slice(before).find((r) => r.path === urlPath && r.body.includes(m)),
      { timeoutMs: 30_000, what: 'the replayed delivery' },
    );
    expect(signedWith(secret!, last.signature, last.body)).toBe(true);
    expect(signedWith('whsec_other', last.signature, last.body)).toBe(false);
    await waitFor(
      async () => /delivered/.test((await hubctl('webhooks', 'attempts', '--message', m)).stdout),
      { timeoutMs: 30_000, intervalMs: 1_000, what: 'attempts list the delivery as delivered' },
    );

    // An unknown message: exit 1 with the server's words.
    const none = await hubctl('webhooks', 'attempts', '--message', randomUUID());
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no webhook deliveries/);
  });
});
