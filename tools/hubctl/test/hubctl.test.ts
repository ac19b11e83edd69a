// hubctl end to end: the real admin, dlr, rating and routing processes on a fresh database and their own
// Kafka namespace, and the real CLI as a child process; checks what an operator sees (stdout, stderr, exit
// code), and that routing applies a rule made with hubctl.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditEvent,
  MessageContext,
  namespacedTopics,
  SmsDelivery,
  SmsDispatched,
  SmsReceiptRaw,
  SmsRouted,
  SmsSubmitted,
  topics,
  type SmsRejected,
} from '@smshub/contracts';
import { createPool, migrate, type Pool } from '@smshub/db';
import { createKafka, ensureTopics, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { bundleHubctl, runBundled, type CliResult } from './cli-bundle.js';
import {
  createTestDatabase,
  freePort,
  HubProcess,
  repoRoot,
  selfSignedCert,
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
let certFile: string;
let keyFile: string;
const servers: HubProcess[] = [];
const ports = { admin: 0, messages: 0, settlement: 0 };
let namespace: string;

/** The CLI bundled once (cli-bundle.ts): each of the many invocations starts in a fraction of tsx's time. */
let cli: string;

/** Runs `hubctl <args>` (the bundled CLI) as a child process against the test servers. */
function hubctl(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HUBCTL_ADMIN_ADDR: `127.0.0.1:${ports.admin}`,
    HUBCTL_MESSAGES_ADDR: `127.0.0.1:${ports.messages}`,
    HUBCTL_SETTLEMENT_ADDR: `127.0.0.1:${ports.settlement}`,
    HUBCTL_TOKEN: token,
    // Only the admin API uses TLS in this test (dlr and rating listen in plaintext).
    ...(args[0] === 'messages' || args[0] === 'settlement' ? {} : { HUBCTL_CA: certFile }),
    ...opts.env,
  };
  return runBundled(cli, args, env, opts.stdin ?? '');
}

function server(
  name: string,
  dir: string,
  grpcPort: number,
  httpPort: number,
  namespace: string,
): HubProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    DATABASE_URL: db.url,
    KAFKA_NAMESPACE: namespace,
    LOG_LEVEL: 'warn',
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    ADMIN_TOKEN: token,
    CONNECTOR_SECRET_KEY: randomBytes(32).toString('base64'),
    RATING_REPLICA_ID: `${namespace}-rating`,
    ROUTING_REPLICA_ID: `${namespace}-routing`,
    // The admin API speaks TLS (a self-signed certificate for 127.0.0.1): hubctl connects with --ca.
    ...(name === 'admin' ? { ADMIN_TLS_CERT_FILE: certFile, ADMIN_TLS_KEY_FILE: keyFile } : {}),
  };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return new HubProcess(
    name,
    ['--conditions=@smshub/source', '--import', 'tsx', path.join(root, dir, 'src/main.ts')],
    env,
    httpPort,
    path.join(workDir, `${name}.log`),
  );
}

// One delivered message as dlr stores it (dlr_messages + dlr_timeline, protobuf payloads), and its CDR as
// rating stores it.
const accountForMessages = `acc-${randomBytes(3).toString('hex')}`;
const messageId = '0193a3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b'.replace('7b', randomBytes(1).toString('hex'));
const received = new Date(Date.now() - 60_000);
const at = (s: number) => new Date(received.getTime() + s * 1000);

async function seedMessage(): Promise<void> {
  const destination = { ton: 1, npi: 1, address: '447700900123' };
  const source = { ton: 5, npi: 0, address: 'ACME' };
  const context = MessageContext.fromPartial({
    messageId,
    accountId: accountForMessages,
    systemId: 'acme',
    customerMessageId: messageId,
    source,
    destination,
    receivedAt: received,
  });
  const submitted = SmsSubmitted.fromPartial({
    messageId,
    accountId: accountForMessages,
    systemId: 'acme',
    source,
    destination,
    shortMessage: Buffer.from('your code is 1234'),
    receivedAt: received,
    customerMessageId: messageId,
  });
  const events: [string, string, string, number, Date, Uint8Array][] = [
    ['submitted', 'submitted', 'sms.submitted.v1', 1, at(0), SmsSubmitted.encode(submitted).finish()],
    [
      'routed',
      'routed',
      'sms.routed.v1',
      2,
      at(1),
      SmsRouted.encode(
        SmsRouted.fromPartial({
          message: submitted,
          candidates: [{ connectorId: 'con_uk', ruleId: 'rr_uk', reason: 'cheapest for 447' }],
          routedAt: at(1),
        }),
      ).finish(),
    ],
    [
      'dispatch/1/1/con_uk',
      'dispatched',
      'sms.dispatched.v1',
      4,
      at(2),
      SmsDispatched.encode(
        SmsDispatched.fromPartial({
          context,
          partNumber: 1,
          partTotal: 1,
          connectorId: 'con_uk',
          supplierMessageId: '0a1b2c',
          attempt: 1,
          outcome: 1,
          segments: 1,
          submittedAt: at(2),
        }),
      ).finish(),
    ],
    [
      'receipt/r1',
      'receipt',
      'sms.receipt.raw.v1',
      5,
      at(5),
      SmsReceiptRaw.encode(
        SmsReceiptRaw.fromPartial({
          receiptId: randomUUID(),
          connectorId: 'con_uk',
          receivedAt: at(5),
          parsed: { id: '662316', stat: 'DELIVRD', err: '000' },
          supplierMessageIdNormalised: '662316',
        }),
      ).finish(),
    ],
    [
      'delivery/1',
      'delivery',
      'sms.delivery.v1',
      6,
      at(5),
      SmsDelivery.encode(
        SmsDelivery.fromPartial({
          context,
          status: 3,
          final: true,
          connectorId: 'con_uk',
          segments: 1,
          revision: 1,
          doneAt: at(5),
        }),
      ).finish(),
    ],
  ];
  await pool.query(
    `INSERT INTO dlr_messages (message_id, account_id, system_id, customer_message_id, destination, status, final,
       connector_id, parts_total, parts_delivered, segments, revision, received_at, done_at, context, state)
     VALUES ($1::uuid, $2, 'acme', $1::text, '447700900123', 3, true, 'con_uk', 1, 1, 1, 1, $3, $4, $5, '{}'::jsonb)`,
    [messageId, accountForMessages, received, at(5), Buffer.from(MessageContext.encode(context).finish())],
  );
  for (const [key, kind, topic, order, time, payload] of events) {
    await pool.query(
      `INSERT INTO dlr_timeline (message_id, event_key, topic, kind, event_time, flow_order, payload)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [messageId, key, topic, kind, time, order, Buffer.from(payload)],
    );
  }
  await pool.query(
    `INSERT INTO rating_cdrs (hub_message_id, account_id, connector_id, supplier_id, country, mcc_mnc, segments,
       outcome, status, billed_on, sell_minor, sell_currency, sell_charged, buy_minor, buy_currency, buy_charged,
       margin_minor, submitted_at, rated_at, record, published)
     VALUES ($1, $2, 'con_uk', 'sup_uk', 'GB', '234-15', 1, 'DELIVERED', 'RATED_STATUS_CHARGED', 'final',
       4, 'EUR', true, 2, 'EUR', true, 2, $3, $4, '\\x'::bytea, true)`,
    [messageId, accountForMessages, received, at(6)],
  );
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'hubctl-test-'));
  const tls = selfSignedCert();
  certFile = path.join(workDir, 'admin-cert.pem');
  keyFile = path.join(workDir, 'admin-key.pem');
  writeFileSync(certFile, tls.cert);
  writeFileSync(keyFile, tls.key, { mode: 0o600 });
  cli = await bundleHubctl(workDir);
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 2 });
  namespace = uniqueName('hubctl');
  const admin = await testKafkaAdmin();
  try {
    await Promise.all([
      migrate(pool),
      ensureTopics(admin, Object.values(namespacedTopics(topics, namespace)), 1),
    ]);
  } finally {
    await admin.disconnect();
  }
  await seedMessage();
  ports.admin = await freePort();
  ports.messages = await freePort();
  ports.settlement = await freePort();
  servers.push(
    server('admin', 'services/admin', ports.admin, await freePort(), namespace),
    server('dlr', 'services/dlr', ports.messages, await freePort(), namespace),
    server('rating', 'services/rating', ports.settlement, await freePort(), namespace),
    // No gRPC: routing only consumes and produces; it reloads its tables on every config change.
    server('routing', 'services/routing', 0, await freePort(), namespace),
  );
  for (const s of servers) s.start();
  await Promise.all(servers.map((s) => s.waitReady(90_000)));
}, 180_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGTERM', 10_000)));
  await pool?.end();
  await db?.drop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface RoutingAnswer {
  routed?: SmsRouted;
  rejected?: SmsRejected;
}

/**
 * The test's own producer and collector on the hub's namespaced topics (kafkajs logs nothing here):
 * `submit(sender)` sends one message of `accountId` to routing and returns routing's answer to it.
 */
async function routingProbe(accountId: string) {
  const quiet = {
    level: 'silent',
    isLevelEnabled: () => false,
    child: () => quiet,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    fatal: () => undefined,
  } as unknown as Parameters<typeof createKafka>[1];
  const t = namespacedTopics(topics, namespace);
  const kafka = createKafka({ clientId: uniqueName('hubctl-test'), brokers: testKafkaBrokers() }, quiet);
  const producer = new TypedProducer(kafka, quiet);
  await producer.connect();
  const answers = new Map<string, RoutingAnswer>();
  const collector = new TypedConsumer(kafka, quiet, {
    groupId: uniqueName('hubctl-test-routed'),
    producer,
    fromBeginning: true,
  })
    .on(t.routed, (r) => {
      answers.set(r.value.message?.messageId ?? '', { routed: r.value });
    })
    .on(t.rejected, (r) => {
      answers.set(r.value.message?.messageId ?? '', { rejected: r.value });
    });
  const close = async () => {
    await collector.stop();
    await producer.close();
  };
  try {
    const joined = collector.waitForAssignment(60_000);
    await collector.start();
    await joined;
  } catch (err) {
    await close();
    throw err;
  }
  return {
    async submit(sender: string, destination = '4930123456'): Promise<RoutingAnswer> {
      const id = randomUUID();
      await producer.produce(
        t.submitted,
        SmsSubmitted.fromPartial({
          messageId: id,
          accountId,
          systemId: 'acme',
          source: { ton: 5, npi: 0, address: sender },
          destination: { ton: 1, npi: 1, address: destination },
          shortMessage: Buffer.from('hello'),
          receivedAt: new Date(),
          customerMessageId: id,
        }),
      );
      return waitFor(() => answers.get(id), { timeoutMs: 15_000, what: `routing's answer for ${sender}` });
    },
    close,
  };
}

// Generous per-test timeout: each step is a process start, slow when the shared machine is busy.
describe('hubctl against the real servers', { timeout: 150_000 }, () => {
  it('creates, lists, gets, updates and deletes an account', async () => {
    const created = await hubctl(
      [
        'accounts',
        'create',
        '--name',
        'ACME Bank',
        '--currency',
        'EUR',
        '--billing-mode',
        'prepaid',
        '--smpp',
        'system_id=acme1,max_binds=2',
        '--password-stdin',
        '-o',
        'json',
      ],
      { stdin: 'pw123456\n' },
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const account = JSON.parse(created.stdout) as {
      id: string;
      revision: string;
      smppCredentials: unknown[];
    };
    expect(account).toMatchObject({
      name: 'ACME Bank',
      currencyCode: 'EUR',
      billingMode: 'BILLING_MODE_PREPAID',
      revision: '1',
    });
    expect(created.stdout).not.toContain('pw123456');
    const id = account.id;

    const [list, get] = await Promise.all([hubctl(['accounts', 'list']), hubctl(['accounts', 'get', id])]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ID\s+│ NAME/);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain('ACME Bank');
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/smpp_credentials\[0\]\.system_id\s+│ acme1/);

    const updated = await hubctl([
      'accounts',
      'update',
      id,
      '--state',
      'suspended',
      '--expected-revision',
      '1',
      '-o',
      'json',
    ]);
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({
      id,
      state: 'ACCOUNT_STATE_SUSPENDED',
      name: 'ACME Bank',
      revision: '2',
    });

    const stale = await hubctl(['accounts', 'update', id, '--name', 'Old view', '--expected-revision', '1']);
    expect(stale.code).toBe(75);
    expect(stale.stderr).toMatch(/^hubctl: conflict: /);

    const password = await hubctl(['accounts', 'set-password', id, 'acme1', '--password-stdin'], {
      stdin: 'newpw123\n',
    });
    expect(password.code).toBe(0);
    expect(password.stdout).toContain('password of acme1');
    expect(password.stdout + password.stderr).not.toContain('newpw123');

    const deleted = await hubctl(['accounts', 'delete', id]);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted account ${id}\n` });
    const gone = await hubctl(['accounts', 'get', id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^hubctl: not found: /);
    expect(gone.stdout).toBe('');
  });

  it('creates, lists, gets, updates and deletes a connector (bind password from stdin)', async () => {
    const id = `con_${randomBytes(3).toString('hex')}`;
    const created = await hubctl(
      [
        'connectors',
        'create',
        id,
        '--name',
        'Test supplier',
        '--supplier',
        'sup_t',
        '--enabled',
        '--currency',
        'EUR',
        '--bind',
        'host=127.0.0.1,port=2776,system_id=hub,sessions=1',
        '--max-submit-rate',
        '50',
        '--password-stdin',
      ],
      { stdin: 'bindpw1\n' },
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created connector ${id}`);
    expect(created.stdout).not.toContain('bindpw1');

    const list = await hubctl(['connectors', 'list', '--supplier', 'sup_t', '-o', 'json']);
    expect(list.code).toBe(0);
    const connectors = (JSON.parse(list.stdout) as { connectors: { id: string; enabled?: boolean }[] })
      .connectors;
    expect(connectors.map((c) => c.id)).toEqual([id]);
    expect(connectors[0]!.enabled).toBe(true);

    const updated = await hubctl([
      'connectors',
      'update',
      id,
      '--no-enabled',
      '--max-submit-rate',
      '20',
      '-o',
      'json',
    ]);
    expect(updated.code).toBe(0);
    const after = JSON.parse(updated.stdout) as {
      enabled?: boolean;
      maxSubmitRate: number;
      binds: { host: string }[];
    };
    expect(after.enabled).toBeUndefined(); // false is the default, omitted in proto3 JSON
    expect(after.maxSubmitRate).toBe(20);
    expect(after.binds[0]!.host).toBe('127.0.0.1');

    const get = await hubctl(['connectors', 'get', id]);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/max_submit_rate\s+│ 20/);
    expect(get.stdout).not.toContain('bindpw1');

    expect((await hubctl(['connectors', 'delete', id])).code).toBe(0);
    expect((await hubctl(['connectors', 'get', id])).code).toBe(1);
  });

  it('creates every other resource from flags, and books money on an account', async () => {
    const suffix = randomBytes(3).toString('hex');
    const acc = await hubctl([
      'accounts',
      'create',
      '--name',
      'Money',
      '--currency',
      'EUR',
      '--billing-mode',
      'postpaid',
      '--smpp',
      `m${suffix}`,
      '--password',
      'pw',
      '-o',
      'json',
    ]);
    expect(acc.code).toBe(0);
    const accountId = (JSON.parse(acc.stdout) as { id: string }).id;
    const con = await hubctl([
      'connectors',
      'create',
      `con_${suffix}`,
      '--supplier',
      'sup_m',
      '--enabled',
      '--currency',
      'EUR',
      '--bind',
      'host=127.0.0.1,port=2776,system_id=hub',
      '--max-submit-rate',
      '10',
      '--password',
      'pw',
    ]);
    expect(con.stderr).toBe('');
    const [rate, route, firewall, prefix, ported, topUp] = await Promise.all([
      hubctl([
        'rates',
        'create',
        `r_${suffix}`,
        '--direction',
        'sell',
        '--party',
        accountId,
        '--prefix',
        '44',
        '--price',
        '0.0345',
        '--currency',
        'EUR',
        '--valid-from',
        '2026-01-01',
        '-o',
        'json',
      ]),
      hubctl([
        'routes',
        'create',
        `rr_${suffix}`,
        '--name',
        'UK',
        '--priority',
        '10',
        '--enabled',
        '--prefix',
        '44',
        '--strategy',
        'priority',
        '--target',
        `con_${suffix}`,
      ]),
      hubctl([
        'firewall-rules',
        'create',
        `fw_${suffix}`,
        '--name',
        'premium',
        '--enabled',
        '--action',
        'block',
        '--prefix',
        '4490',
      ]),
      hubctl([
        'prefixes',
        'create',
        '447700',
        '--country',
        'gb',
        '--mcc',
        '234',
        '--mnc',
        '15',
        '--network',
        'Vodafone',
      ]),
      hubctl([
        'ported-numbers',
        'create',
        '447700900123',
        '--mcc',
        '234',
        '--mnc',
        '30',
        '--ported-at',
        '2026-03-01',
      ]),
      hubctl([
        'top-ups',
        'create',
        accountId,
        '100.50',
        '--reference',
        'INV-1',
        '--idempotency-key',
        `k-${suffix}`,
      ]),
    ]);
    for (const r of [rate, route, firewall, prefix, ported, topUp]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect(JSON.parse(rate.stdout)).toMatchObject({
      direction: 'RATE_DIRECTION_SELL',
      partyId: accountId,
      destinationPrefix: '44',
    });
    expect(route.stdout).toContain(`created routing rule rr_${suffix}`);
    expect(firewall.stdout).toContain(`created firewall rule fw_${suffix}`);
    expect(prefix.stdout).toMatch(/network_name\s+│ Vodafone/);
    expect(ported.stdout).toMatch(/ported_at\s+│ 2026-03-01T00:00:00/);
    expect(topUp.stdout).toContain(`top-up `);
    expect(topUp.stdout).toContain('EUR 100.50');

    const [rates, routes, limit] = await Promise.all([
      hubctl(['rates', 'list', '--party', accountId]),
      hubctl(['routes', 'list']),
      hubctl(['balances', 'set-credit-limit', accountId, '25']),
    ]);
    expect(rates.stdout).toContain('EUR 0.0345');
    expect(routes.stdout).toContain(`con_${suffix}`);
    expect(limit.code).toBe(0);
    const [balance, topUps] = await Promise.all([
      hubctl(['balances', 'get', accountId, '-o', 'json']),
      hubctl(['top-ups', 'list', accountId]),
    ]);
    expect(balance.code).toBe(0);
    const b = JSON.parse(balance.stdout) as {
      balance: { minorUnits: string; scale: number };
      creditLimit: { minorUnits: string; scale: number };
    };
    expect(Number(b.balance.minorUnits) / 10 ** b.balance.scale).toBe(100.5);
    expect(Number(b.creditLimit.minorUnits) / 10 ** b.creditLimit.scale).toBe(25);
    expect(topUps.stdout).toContain('INV-1');
    expect(topUps.stdout).toContain('EUR 100.50');
  });

  it('imports number prefixes from CSV, and rejects a bad file with 65 naming the line', async () => {
    const csv = path.join(workDir, 'prefixes.csv');
    writeFileSync(
      csv,
      'prefix,country_code,mcc,mnc,network_name\n3519001,PT,268,01,Vodafone PT\n3519002,PT,268,06,MEO\n',
    );
    const bad = path.join(workDir, 'bad.csv');
    writeFileSync(bad, 'prefix,country_code,mcc,mnc,network_name\n3519003,PT,268,03,NOS\nabc,GB,234,15,x\n');
    const imported = await hubctl(['prefixes', 'import', csv]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/2 rows read, 2 created/);
    const rejected = await hubctl(['prefixes', 'import', bad]);
    const list = await hubctl(['prefixes', 'list', '--starts-with', '35190', '-o', 'json']);
    expect(list.code).toBe(0);
    expect(
      (JSON.parse(list.stdout) as { numberPrefixes: { prefix: string }[] }).numberPrefixes.map(
        (p) => p.prefix,
      ),
    ).toEqual(['3519001', '3519002']); // 3519003 of the rejected file was not applied
    expect(rejected.code).toBe(65);
    expect(rejected.stderr).toMatch(/^line 3: /m);
    expect(rejected.stderr).toMatch(/hubctl: 1 line\(s\) of .*bad\.csv rejected; nothing was applied/);
  });

  it('reports data the server refuses as invalid (65), with its message', async () => {
    const r = await hubctl(
      ['accounts', 'create', 'not-a-uuid', '--currency', 'EUR', '--smpp', 'x1', '--password', 'pw'],
      {},
    );
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/^hubctl: invalid argument: account\.id: must be a UUID/);
  });

  it('refuses a wrong or missing token with 77, without printing it', async () => {
    const wrong = 'wrong-token-0123456789';
    const [bad, none] = await Promise.all([
      hubctl(['accounts', 'list'], { env: { HUBCTL_TOKEN: wrong } }),
      hubctl(['accounts', 'list'], { env: { HUBCTL_TOKEN: '' } }),
    ]);
    expect(bad.code).toBe(77);
    expect(bad.stderr).toBe(
      `hubctl: admin at 127.0.0.1:${ports.admin} refused the token: invalid token (check HUBCTL_TOKEN or --token)\n`,
    );
    expect(bad.stderr).not.toContain(wrong);
    expect(none.code).toBe(77);
    expect(none.stderr).toBe(
      `hubctl: admin at 127.0.0.1:${ports.admin} requires a token: set HUBCTL_TOKEN or pass --token\n`,
    );
  });

  it('runs from the sources through the bin launcher and npm run hubctl', async () => {
    const run = (cmd: string, args: string[]) =>
      new Promise<CliResult>((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: root, env: { ...process.env, HUBCTL_TOKEN: token } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });
    const [bin, npm] = await Promise.all([
      run(process.execPath, [
        'tools/hubctl/bin/hubctl.mjs',
        '--ca',
        certFile,
        '--admin-addr',
        `127.0.0.1:${ports.admin}`,
        'accounts',
        'list',
        '-o',
        'json',
      ]),
      run('npm', ['run', '--silent', 'hubctl', '--', '--version']),
    ]);
    expect(bin.stderr).toBe('');
    expect(bin.code).toBe(0);
    expect(JSON.parse(bin.stdout)).toHaveProperty('accounts');
    expect(npm).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('verifies the TLS certificate of the server', async () => {
    const [noCa, plain] = await Promise.all([
      hubctl(['accounts', 'list'], { env: { HUBCTL_CA: '', HUBCTL_TLS: 'true' } }),
      hubctl(['accounts', 'list'], { env: { HUBCTL_CA: '' } }),
    ]);
    expect(noCa.code).toBe(69);
    expect(noCa.stderr).toMatch(
      new RegExp(
        `^hubctl: cannot reach admin at 127\\.0\\.0\\.1:${ports.admin}: TLS failed \\(self-signed certificate\\); check --tls and --ca\\n$`,
      ),
    );
    expect(plain.code).toBe(69);
    expect(plain.stderr).toMatch(/^hubctl: cannot reach admin at /);
  });

  it('says when a server cannot be reached (69)', async () => {
    const port = await freePort();
    const r = await hubctl(['messages', 'get', messageId], {
      env: { HUBCTL_MESSAGES_ADDR: `127.0.0.1:${port}` },
    });
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(`hubctl: cannot reach dlr at 127.0.0.1:${port}: is the hub running?\n`);
  });

  it("shows a message's timeline from dlr's MessageService", async () => {
    const [table, json, list, missing] = await Promise.all([
      hubctl(['messages', 'get', messageId]),
      hubctl(['messages', 'get', messageId, '-o', 'json']),
      hubctl(['messages', 'list', '--account', accountForMessages, '--since', '1h']),
      hubctl(['messages', 'get', randomUUID()]),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    const has = (service: string, what: string, time: Date) =>
      lines.some((l) => l.includes(service) && l.includes(what) && l.includes(time.toISOString()));
    expect(has('ingress', 'submitted', at(0))).toBe(true);
    expect(has('routing', 'routed', at(1))).toBe(true);
    expect(has('egress', 'dispatch accepted', at(2))).toBe(true);
    expect(has('egress', 'receipt', at(5))).toBe(true);
    expect(has('dlr', 'final DELIVERED', at(5))).toBe(true);
    expect(table.stdout).toContain('DELIVERED (final)');

    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { message: { status: string }; timeline: { topic: string }[] };
    expect(parsed.message.status).toBe('DELIVERY_STATUS_DELIVERED');
    expect(parsed.timeline.map((e) => e.topic)).toEqual([
      'sms.submitted.v1',
      'sms.routed.v1',
      'sms.dispatched.v1',
      'sms.receipt.raw.v1',
      'sms.delivery.v1',
    ]);

    expect(list.code).toBe(0);
    expect(list.stdout).toContain(messageId);
    expect(list.stdout).toContain('DELIVERED');

    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^hubctl: not found: message .* not found/);
  });

  it('exports settlement CSV to stdout and to a file', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const next = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
    const file = path.join(workDir, 'export.csv');
    const query = [
      '--party',
      'customer',
      '--id',
      accountForMessages,
      '--period',
      'day',
      '--from',
      day,
      '--to',
      next,
    ];
    const [stdout, toFile, totals] = await Promise.all([
      hubctl(['settlement', 'export', ...query, '--per-message']),
      hubctl(['settlement', 'export', ...query, '--file', file]),
      hubctl(['settlement', 'totals', ...query, '-o', 'json']),
    ]);
    expect(stdout.code).toBe(0);
    const rows = stdout.stdout.trim().split('\r\n');
    expect(rows[0]).toMatch(/^message_id,rated_at,/);
    expect(rows[1]).toContain(messageId);
    expect(rows[1]).toContain(accountForMessages);
    expect(toFile.code).toBe(0);
    expect(toFile.stderr).toMatch(/^wrote \d+ bytes to /);
    expect(readFileSync(file, 'utf8')).toContain(accountForMessages);
    expect(totals.code).toBe(0);
    expect(JSON.parse(totals.stdout).totals).toEqual([
      expect.objectContaining({ partyId: accountForMessages, messages: '1', segments: '1' }),
    ]);
  });
  it('sets sender patterns, a time window, strategy options and a sender rewrite from flags and -f YAML, and refuses bad ones with 65', async () => {
    const id = `rr_opt_${randomBytes(3).toString('hex')}`;
    const con = await hubctl([
      'connectors',
      'create',
      `con_${id}`,
      '--supplier',
      'sup_o',
      '--enabled',
      '--currency',
      'EUR',
      '--bind',
      'host=127.0.0.1,port=2776,system_id=hub',
      '--max-submit-rate',
      '10',
      '--password',
      'pw',
    ]);
    expect(con.stderr).toBe('');
    const created = await hubctl([
      'routes',
      'create',
      id,
      '--prefix',
      '4940',
      '--target',
      `con_${id}`,
      '--strategy',
      'quality',
      '--sender',
      'ACME*',
      '--sender',
      '/^\\d{5}$/',
      '--time-window',
      'tz=Europe/Berlin,days=mon-fri,hours=08:00-20:00',
      '--strategy-option',
      'min_samples=20,prior_delivery_ratio=0.8,prior_p50_latency_ms=3000',
      '--sender-rewrite',
      'source_addr=ACMEDE,only_if_sender=ACME*',
      '-o',
      'json',
    ]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      strategy: 'ROUTE_STRATEGY_QUALITY',
      senders: [{ glob: 'ACME*' }, { regex: '^\\d{5}$', flags: '' }],
      timeWindow: {
        timeZone: 'Europe/Berlin',
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        ranges: [{ from: '08:00', to: '20:00' }],
      },
      strategyOptions: { minSamples: 20, prior: { deliveryRatio: 0.8, p50LatencyMs: 3000 } },
      senderRewrite: { sourceAddr: 'ACMEDE', onlyIfSender: [{ glob: 'ACME*' }] },
    });

    const masked = await hubctl([
      'routes',
      'update',
      id,
      '--sender-rewrite',
      'source_addr=4930123456,source_ton=1,source_npi=1',
      '--clear',
      'time_window',
    ]);
    expect(masked.stderr).toBe('');
    expect(masked.stdout).toMatch(/sender_rewrite\.source_addr\s+│ 4930123456/);
    expect(masked.stdout).toMatch(/senders\[0\]\.glob\s+│ ACME\*/);
    expect(masked.stdout).not.toContain('time_window');

    const file = path.join(workDir, `${id}.yaml`);
    writeFileSync(
      file,
      [
        'destinationPrefixes: ["4940"]',
        'strategy: ROUTE_STRATEGY_SCORE',
        'strategyCurrency: EUR',
        `targets: [{connectorId: con_${id}}]`,
        'senders: [{regex: "^bank", flags: i}]',
        'timeWindow: {timeZone: UTC, days: [sat, sun], ranges: [{from: "22:00", to: "06:00"}]}',
        'strategyOptions: {weights: {quality: 0.7, cost: 0.3}}',
        '',
      ].join('\n'),
    );
    const replaced = await hubctl(['routes', 'update', id, '-f', file]);
    expect(replaced.stderr).toBe('');
    expect(replaced.code).toBe(0);
    const list = await hubctl(['routes', 'list']);
    const row = list.stdout.split('\n').find((l) => l.includes(id)) ?? '';
    expect(row).toContain('SCORE (weights q0.7 c0.3 l0)');
    expect(row).toContain('sender /^bank/i, when sat,sun 22:00-06:00 UTC');

    const bad = await Promise.all([
      hubctl(['routes', 'update', id, '--sender', '/(unclosed/']),
      hubctl(['routes', 'update', id, '--time-window', 'tz=Mars/Olympus']),
      hubctl(['routes', 'update', id, '--strategy-option', 'weight_quality=0,weight_cost=0']),
      hubctl(['routes', 'update', id, '--sender-rewrite', 'ACMEBANKLTD12']),
      hubctl(['routes', 'update', id, '--sender-rewrite', 'source_addr=ACME,source_ton=300']),
    ]);
    expect(bad.map((r) => r.code)).toEqual([65, 65, 65, 65, 64]);
    expect(bad[0]!.stderr).toMatch(
      /^hubctl: invalid argument: routing_rule\.senders\[0\]\.regex: is not valid/,
    );
    expect(bad[1]!.stderr).toMatch(/routing_rule\.time_window\.time_zone: "Mars\/Olympus" is not a known/);
    expect(bad[2]!.stderr).toMatch(/routing_rule\.strategy_options\.weights: need a positive sum/);
    expect(bad[3]!.stderr).toMatch(/routing_rule\.sender_rewrite\.source_addr: an alphanumeric sender id/);
    expect(bad[4]!.stderr).toMatch(/--sender-rewrite source_ton must be between 0 and 255/);
  });

  it('routing applies a rule made with hubctl: only matching senders use it, and their sender id is rewritten', async () => {
    const id = `rr_rw_${randomBytes(3).toString('hex')}`;
    const setup = await Promise.all([
      hubctl([
        'connectors',
        'create',
        `con_${id}`,
        '--supplier',
        'sup_rw',
        '--enabled',
        '--currency',
        'EUR',
        '--bind',
        'host=127.0.0.1,port=2776,system_id=hub',
        '--max-submit-rate',
        '10',
        '--password',
        'pw',
      ]),
      hubctl(['prefixes', 'create', '4930', '--country', 'de', '--mcc', '262', '--mnc', '01']),
    ]);
    for (const r of setup) expect(r.stderr).toBe('');
    const rule = await hubctl([
      'routes',
      'create',
      id,
      '--priority',
      '1000',
      '--enabled',
      '--prefix',
      '4930',
      '--target',
      `con_${id}`,
      '--sender',
      'ACME*',
      '--sender-rewrite',
      'source_addr=ACMEDE,only_if_sender=ACME1',
    ]);
    expect(rule.stderr).toBe('');

    const probe = await routingProbe('acc-routing');
    try {
      const submit = async (sender: string) => {
        const answer = await probe.submit(sender);
        return answer.routed ?? ('rejected' as const);
      };
      // Routing reloads its tables on the rule's config change; until then the message finds no rule.
      const first = await waitFor(
        async () => {
          const r = await submit('ACME1');
          return r !== 'rejected' && r.candidates[0]?.ruleId === id ? r : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, what: `a message routed by ${id}` },
      );
      expect(first.candidates.map((c) => c.connectorId)).toEqual([`con_${id}`]);
      expect(first.message?.source).toMatchObject({ address: 'ACMEDE', ton: 5, npi: 0 });

      // Matches the rule's senders (ACME*) but not only_if_sender (ACME1): routed, sender kept.
      const kept = await submit('ACME2');
      expect(kept !== 'rejected' && kept.candidates[0]?.ruleId).toBe(id);
      expect(kept !== 'rejected' && kept.message?.source?.address).toBe('ACME2');

      // Outside the rule's senders: not routed by it.
      const other = await submit('OTHER');
      expect(other === 'rejected' || other.candidates[0]?.ruleId !== id).toBe(true);
    } finally {
      await probe.close();
    }
  });

  it('firewall: routing blocks senders by a glob and by a regex made with hubctl; a regex given as a glob is refused with 65', async () => {
    const x = randomBytes(3).toString('hex');
    const account = `acc-fw-${x}`;
    // Written the way the old help suggested ("--source <regex>"): it used to be stored as a glob that
    // matched nothing. Now admin refuses it (INVALID_ARGUMENT, naming the field) and says what to use.
    const refused = await Promise.all([
      hubctl(['firewall-rules', 'create', `fw_src_${x}`, '--action', 'block', '--source', '^ACME$']),
      hubctl(['firewall-rules', 'create', `fw_bad_${x}`, '--action', 'block', '--sender', '/(unclosed/']),
    ]);
    expect(refused.map((r) => r.code)).toEqual([65, 65]);
    expect(refused[0]!.stderr).toMatch(
      /^hubctl: invalid argument: firewall_rule\.source_patterns\[0\]: "\^ACME\$" uses regular-expression syntax.*--sender/,
    );
    expect(refused[1]!.stderr).toMatch(
      /^hubctl: invalid argument: firewall_rule\.senders\[0\]\.regex: is not valid/,
    );

    // Scoped to this test's account, so no other test's traffic meets them.
    const [globRule, regexRule] = await Promise.all([
      hubctl([
        'firewall-rules',
        'create',
        `fw_glob_${x}`,
        '--enabled',
        '--action',
        'block',
        '--account',
        account,
        '--sender',
        'EVIL*',
      ]),
      hubctl([
        'firewall-rules',
        'create',
        `fw_re_${x}`,
        '--enabled',
        '--action',
        'block',
        '--account',
        account,
        '--sender',
        '/^SPAM\\d+$/',
      ]),
    ]);
    expect([globRule.stderr, regexRule.stderr]).toEqual(['', '']);
    const got = await hubctl(['firewall-rules', 'get', `fw_re_${x}`, '-o', 'json']);
    expect(JSON.parse(got.stdout)).toMatchObject({
      kind: 'sender_deny',
      senders: [{ regex: '^SPAM\\d+$' }],
    });

    const probe = await routingProbe(account);
    try {
      const blockedBy = async (sender: string) => (await probe.submit(sender)).rejected?.ruleId;
      // Routing reloads its tables on each rule's config change; until then the sender passes.
      await waitFor(async () => (await blockedBy('evil-corp')) === `fw_glob_${x}`, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: `the glob rule fw_glob_${x} in force`,
      });
      await waitFor(async () => (await blockedBy('SPAM123')) === `fw_re_${x}`, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: `the regex rule fw_re_${x} in force`,
      });
      // With both in force: the regex is anchored where its author anchored it, the glob at both ends.
      const ours = [`fw_glob_${x}`, `fw_re_${x}`];
      // "/^SPAM\d+$/" has no flags, so it is case-sensitive as in JavaScript; globs never are.
      expect(ours).not.toContain(await blockedBy('spam7'));
      expect(ours).not.toContain(await blockedBy('SPAM'));
      expect(ours).not.toContain(await blockedBy('SPAM12X'));
      expect(ours).not.toContain(await blockedBy('NOTEVIL'));
    } finally {
      await probe.close();
    }
  });

  it('tokens: creates one per role (secret once), lists without secrets, revokes; every API enforces the role; writes appear in audit list and on audit.v1 with the password masked', async () => {
    const x = randomBytes(3).toString('hex');
    const created = await hubctl(['tokens', 'create', `noc-${x}`, '--role', 'operations', '-o', 'json']);
    expect(created.code).toBe(0);
    const { token: opsToken, secret: ops } = JSON.parse(created.stdout) as {
      token: { id: string; role: string };
      secret: string;
    };
    expect(ops).toMatch(/^smshub_/);
    expect(opsToken.role).toBe('TOKEN_ROLE_OPERATIONS');
    const fin = await hubctl(['tokens', 'create', `fin-${x}`, '--role', 'finance', '--expires', '+30d']);
    expect(fin.code).toBe(0);
    expect(fin.stdout).toMatch(/shown only this once/);
    const finSecret = /secret: (smshub_\S+)/.exec(fin.stdout)![1]!;

    const listed = await hubctl(['tokens', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`noc-${x}`);
    expect(listed.stdout).not.toContain(ops);
    expect(listed.stdout).not.toContain(finSecret);

    // operations: reads accounts and messages; no config writes, no money.
    const asOps = { env: { HUBCTL_TOKEN: ops } };
    expect((await hubctl(['accounts', 'list'], asOps)).code).toBe(0);
    expect((await hubctl(['messages', 'get', messageId], asOps)).code).toBe(0);
    const write = await hubctl(['accounts', 'delete', randomUUID()], asOps);
    expect(write.code).toBe(77);
    expect(write.stderr).toMatch(/DeleteAccount needs role admin; this token's role is operations/);
    const money = await hubctl(
      ['settlement', 'totals', '--party', 'customer', '--from', '2026-01-01', '--to', '2026-01-02'],
      asOps,
    );
    expect(money.code).toBe(77);
    expect(money.stderr).toMatch(/GetTotals needs role admin, finance or customer/);
    // finance: no message contents.
    const contents = await hubctl(['messages', 'get', messageId], { env: { HUBCTL_TOKEN: finSecret } });
    expect(contents.code).toBe(77);
    expect(contents.stderr).toMatch(/GetMessage needs role admin, operations or customer/);

    // A write through hubctl, in the audit log with its password masked.
    const acc = await hubctl(
      [
        'accounts',
        'create',
        '--name',
        `Audit ${x}`,
        '--currency',
        'EUR',
        '--billing-mode',
        'prepaid',
        '--smpp',
        `system_id=au${x}`,
        '--password-stdin',
        '-o',
        'json',
      ],
      { stdin: 'pw12345\n' },
    );
    expect(acc.code).toBe(0);
    const accountId = (JSON.parse(acc.stdout) as { id: string }).id;
    const pw = await hubctl(['accounts', 'set-password', accountId, `au${x}`, '--password-stdin'], {
      stdin: 'Zq9pw8x\n',
    });
    expect(pw.code).toBe(0);
    const audit = await hubctl(['audit', 'list', '--resource', accountId, '-o', 'json']);
    expect(audit.code).toBe(0);
    const events = (JSON.parse(audit.stdout) as { events: Record<string, string>[] }).events;
    expect(events.map((e) => e.method)).toEqual(['SetSmppPassword', 'CreateAccount']);
    expect(events[0]).toMatchObject({
      tokenId: 'bootstrap',
      role: 'admin',
      resourceKind: 'account',
      outcome: 'OK',
    });
    expect(events[0]!.peer).toMatch(/127\.0\.0\.1/);
    expect(JSON.parse(events[0]!.afterJson!)).toMatchObject({ password: '***' });
    expect(audit.stdout).not.toContain('Zq9pw8x');
    expect(audit.stdout).not.toContain('pw12345');
    const table = await hubctl(['audit', 'list', '--method', 'DeleteAccount', '--token-id', opsToken.id]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('PERMISSION_DENIED');

    // The same event on audit.v1 (what a SIEM reads), password masked.
    const raw = new Kafka({
      clientId: uniqueName('hubctl-audit'),
      brokers: testKafkaBrokers(),
      logLevel: logLevel.NOTHING,
    });
    const consumer = raw.consumer({ groupId: uniqueName('hubctl-audit') });
    const seen: AuditEvent[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({
        topic: namespacedTopics(topics, namespace).audit.name,
        fromBeginning: true,
      });
      await consumer.run({
        eachMessage: ({ message }) => {
          if (message.value) seen.push(AuditEvent.decode(message.value));
          return Promise.resolve();
        },
      });
      const onTopic = await waitFor(() => seen.find((e) => e.eventId === events[0]!.eventId), {
        timeoutMs: 30_000,
        what: 'the SetSmppPassword event on audit.v1',
      });
      expect(onTopic.afterJson).toContain('"password":"***"');
      expect(JSON.stringify(seen)).not.toContain('Zq9pw8x');
    } finally {
      await consumer.disconnect();
    }

    // Revoked: refused by admin at once, by dlr within its token cache (2 s).
    expect((await hubctl(['tokens', 'revoke', opsToken.id])).code).toBe(0);
    expect((await hubctl(['accounts', 'list'], asOps)).code).toBe(77);
    await waitFor(async () => (await hubctl(['messages', 'get', messageId], asOps)).code === 77, {
      timeoutMs: 15_000,
      what: 'dlr refusing the revoked token',
    });
  });

  it('opt-outs: imports a CSV (a bad line refused with 65 and its number), exports it back, and routing rejects an MT to an imported number with err 017', async () => {
    const accountId = randomUUID();
    await pool.query(
      `INSERT INTO accounts (id, system_id, password_hash, currency) VALUES ($1, 'optouts', '$argon2id$x', 'EUR')`,
      [accountId],
    );
    const id = `rr_opt_${randomBytes(3).toString('hex')}`;
    for (const r of await Promise.all([
      hubctl([
        'connectors',
        'create',
        `con_${id}`,
        '--supplier',
        'sup_opt',
        '--enabled',
        '--currency',
        'EUR',
        '--bind',
        'host=127.0.0.1,port=2776,system_id=hub',
        '--max-submit-rate',
        '10',
        '--password',
        'pw',
      ]),
      hubctl(['prefixes', 'create', '4940', '--country', 'de', '--mcc', '262', '--mnc', '02']),
    ]))
      expect(r.stderr).toBe('');
    const rule = await hubctl([
      'routes',
      'create',
      id,
      '--priority',
      '900',
      '--enabled',
      '--prefix',
      '4940',
      '--target',
      `con_${id}`,
    ]);
    expect(rule.stderr).toBe('');

    const bad = path.join(workDir, 'optouts-bad.csv');
    writeFileSync(bad, 'msisdn,scope_number\n+494012345601,\nnot-a-number,\n');
    const refused = await hubctl(['opt-outs', 'import', accountId, bad]);
    expect(refused.code).toBe(65);
    expect(refused.stderr).toMatch(/line 3: msisdn/);
    const csv = path.join(workDir, 'optouts.csv');
    writeFileSync(csv, 'msisdn,scope_number\n+494012345601,\n+494012345602,4940999\n');
    const imported = await hubctl(['opt-outs', 'import', accountId, csv]);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/2 line\(s\): 2 added/);
    const exported = await hubctl(['opt-outs', 'export', accountId]);
    expect(exported.code).toBe(0);
    expect(exported.stdout.split('\n').slice(0, 3)).toEqual([
      'msisdn,scope_number,source,keyword,created_at,actor',
      expect.stringMatching(/^\+494012345601,,import,,\S+,admin-api$|^\+494012345601,,import,,\S+,\S+$/),
      expect.stringMatching(/^\+494012345602,4940999,import,/),
    ]);
    const listed = await hubctl(['opt-outs', 'list', accountId]);
    expect(listed.stdout).toContain('(account-wide)');
    const audit = await hubctl(['audit', 'list', '--method', 'ImportOptOuts', '-o', 'json']);
    expect(
      (JSON.parse(audit.stdout) as { events: { outcome: string }[] }).events.map((e) => e.outcome),
    ).toEqual(['OK', 'INVALID_ARGUMENT']);

    const probe = await routingProbe(accountId);
    try {
      // Routing reloads on the rule's change and the import's RELOAD; wait until the rule routes.
      await waitFor(
        async () => {
          const r = await probe.submit('ACME', '494012345699');
          return r.routed?.candidates[0]?.ruleId === id ? r : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, what: `a message routed by ${id}` },
      );
      const blocked = await probe.submit('ACME', '494012345601');
      expect(blocked.rejected?.error).toMatchObject({ code: 'OPTED_OUT', receiptError: 17 });
      // Opted out of one hub number only: another sender still reaches it.
      expect((await probe.submit('ACME', '494012345602')).routed).toBeDefined();
      expect((await probe.submit('4940999', '494012345602')).rejected?.error?.receiptError).toBe(17);
      // Removed: the next MT goes out.
      expect((await hubctl(['opt-outs', 'remove', accountId, '+494012345601'])).code).toBe(0);
      await waitFor(async () => (await probe.submit('ACME', '494012345601')).routed, {
        timeoutMs: 30_000,
        intervalMs: 500,
        what: 'an MT to the number once its opt-out is removed',
      });
    } finally {
      await probe.close();
    }
  });
});
