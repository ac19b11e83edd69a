// Opt-outs in routing over real Kafka and Postgres: an MT to a number in the account's opt-out list is
// rejected (REJECTD, err 017) instead of routed, as soon as the change is announced on config.changes.v1;
// a per-number opt-out blocks only that sender; the hub's own keyword replies are never blocked; a removal
// lets the next MT through; a list present at start is loaded.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeAction,
  OptOutSource,
  ResourceKind,
  SmsSubmitted,
  SubmitChannel,
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
import { importPrefixCsv } from '../src/prefix-import.js';
import { migrateForRouting } from './migrations.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ACCOUNT = '0193a000-0000-7000-8000-0000000000a1';
const OTHER = '0193a000-0000-7000-8000-0000000000a2';
const HUB_NUMBER = '447700900500';

let db: TestDatabase;
let pool: Pool;
let topics: typeof registry;
let kafka: Kafka;
let producer: TypedProducer;
let logger: Logger;
let core: RoutingCore;
const consumers: TypedConsumer[] = [];
const routed = new Map<string, SmsRouted>();
const rejected = new Map<string, SmsRejected>();

async function consumer(o: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer> {
  const c = new TypedConsumer(kafka, logger, { ...o, producer });
  await ensureTestTopics([c.deadLetterTopic]);
  consumers.push(c);
  return c;
}

async function submit(
  destination: string,
  o: { account?: string; source?: string; channel?: SubmitChannel } = {},
): Promise<string> {
  const messageId = uuidv7();
  const source = o.source ?? HUB_NUMBER;
  await producer.produce(
    topics.submitted,
    SmsSubmitted.fromPartial({
      messageId,
      accountId: o.account ?? ACCOUNT,
      systemId: 'cust1',
      source: /^[0-9]+$/.test(source)
        ? { ton: 1, npi: 1, address: source }
        : { ton: 5, npi: 0, address: source },
      destination: { ton: 1, npi: 1, address: destination },
      dataCoding: 0,
      shortMessage: Buffer.from('Spring sale', 'ascii'),
      receivedAt: new Date(),
      customerMessageId: messageId,
      trafficType: TrafficType.TRAFFIC_TYPE_MARKETING,
      channel: o.channel ?? SubmitChannel.SUBMIT_CHANNEL_SMPP,
    }),
  );
  return messageId;
}

async function outcome(id: string): Promise<SmsRouted | SmsRejected> {
  return waitFor(() => routed.get(id) ?? rejected.get(id), {
    what: `the outcome of ${id}`,
    timeoutMs: 20_000,
  });
}

/** Writes the entry and announces it, as admin and inbound do. */
async function optOut(msisdn: string, scopeNumber: string, action: 'add' | 'remove', account = ACCOUNT) {
  if (action === 'add')
    await pool.query(
      `INSERT INTO optouts (account_id, msisdn, scope_number, source) VALUES ($1, $2, $3, 'api')
       ON CONFLICT DO NOTHING`,
      [account, msisdn, scopeNumber],
    );
  else
    await pool.query(`DELETE FROM optouts WHERE account_id = $1 AND msisdn = $2 AND scope_number = $3`, [
      account,
      msisdn,
      scopeNumber,
    ]);
  await announce(msisdn, scopeNumber, action, account);
}

/** Only the announcement (what a writer publishes after its commit). */
async function announce(msisdn: string, scopeNumber: string, action: 'add' | 'remove', account = ACCOUNT) {
  await producer.produce(topics.configChanges, {
    changeId: uuidv7(),
    kind: ResourceKind.RESOURCE_KIND_OPT_OUT,
    resourceId: `${account}/${msisdn}/${scopeNumber}`,
    action: action === 'add' ? ChangeAction.CHANGE_ACTION_CREATED : ChangeAction.CHANGE_ACTION_DELETED,
    revision: 1n,
    changedAt: new Date(),
    actor: 'test',
    snapshot: {
      $case: 'optOut',
      value: {
        accountId: account,
        msisdn,
        scopeNumber,
        source: OptOutSource.OPT_OUT_SOURCE_API,
        keyword: '',
        createTime: new Date(),
        actor: 'test',
      },
    },
  });
}

/** Waits until the in-memory list says `want` for (account, number, sender): the change was applied. */
async function applied(msisdn: string, sender: string, want: boolean, account = ACCOUNT) {
  await waitFor(() => core.optOuts.list.blocks(account, msisdn, sender) === want || undefined, {
    what: `opt-out of ${msisdn} ${want ? 'applied' : 'removed'}`,
    timeoutMs: 20_000,
  });
}

beforeAll(async () => {
  logger = createLogger({ service: 'routing-optouts-test', level: 'silent' as 'info' });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 5 });
  await migrateForRouting(pool);
  await importPrefixCsv(pool, await readFile(path.join(here, '../data/sample-prefixes.csv'), 'utf8'));
  for (const [id, systemId] of [
    [ACCOUNT, 'optacc1'],
    [OTHER, 'optacc2'],
  ])
    await pool.query(
      `INSERT INTO accounts (id, system_id, password_hash, currency) VALUES ($1, $2, '$argon2id$x', 'EUR')`,
      [id, systemId],
    );
  await pool.query(
    `INSERT INTO egress_connectors (id, name, enabled, host, port, system_id, password_secret_ref, max_submit_rate)
     VALUES ('con_a', 'con_a', true, '127.0.0.1', 2776, 'hub', 'file:/run/secrets/x', 100)`,
  );
  await pool.query(`INSERT INTO routing_rules (id, countries, strategy) VALUES ('r_gb', '{GB}', 'priority')`);
  await pool.query(
    `INSERT INTO routing_rule_candidates (rule_id, position, connector_id, weight) VALUES ('r_gb', 0, 'con_a', 1)`,
  );
  // Present before routing starts: loaded at start.
  await pool.query(
    `INSERT INTO optouts (account_id, msisdn, scope_number, source) VALUES ($1, '447400123111', '', 'import')`,
    [ACCOUNT],
  );

  topics = await createIsolatedTopics(registry);
  kafka = createKafka(
    { brokers: testKafkaBrokers(), clientId: uniqueName('routing-optouts'), ssl: false },
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
      groupId: uniqueName('routing'),
      configGroupPrefix: uniqueName('routing-config'),
      statsGroupPrefix: uniqueName('routing-stats'),
      portedCache: { ttlMs: 60_000, negativeTtlMs: 60_000, maxEntries: 1000 },
      firewallWindows: 'memory',
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

describe('routing: opt-outs', () => {
  it('rejects an MT to a number opted out at start with REJECTD err 017, not to a supplier', async () => {
    const id = await submit('447400123111');
    const r = await outcome(id);
    expect('ruleId' in r).toBe(true);
    const rej = r as SmsRejected;
    expect(rej.error).toMatchObject({ code: 'OPTED_OUT', receiptError: 17 });
    expect(rej.destinationInfo?.countryCode).toBe('GB');
    expect(routed.has(id)).toBe(false);
    // Another account may still send to that number.
    const other = await outcome(await submit('447400123111', { account: OTHER }));
    expect('candidates' in other).toBe(true);
  });

  it('applies a STOP for one hub number: that sender is rejected, another sender is not', async () => {
    const before = await outcome(await submit('447400123222'));
    expect('candidates' in before).toBe(true);
    await optOut('447400123222', HUB_NUMBER, 'add');
    await applied('447400123222', HUB_NUMBER, true);
    const blocked = (await outcome(await submit('+447400123222'))) as SmsRejected;
    expect(blocked.error?.receiptError).toBe(17);
    const fromOther = await outcome(await submit('447400123222', { source: 'ACME' }));
    expect('candidates' in fromOther).toBe(true);
  });

  it("never blocks the hub's own keyword reply to the subscriber", async () => {
    const reply = await outcome(
      await submit('447400123222', { channel: SubmitChannel.SUBMIT_CHANNEL_KEYWORD_REPLY }),
    );
    expect('candidates' in reply).toBe(true);
  });

  it('lets the next MT through once the opt-out is removed (START)', async () => {
    await optOut('447400123333', '', 'add');
    await applied('447400123333', 'ACME', true);
    expect(
      ((await outcome(await submit('447400123333', { source: 'ACME' }))) as SmsRejected).error?.receiptError,
    ).toBe(17);
    await optOut('447400123333', '', 'remove');
    await applied('447400123333', 'ACME', false);
    const after = await outcome(await submit('447400123333', { source: 'ACME' }));
    expect('candidates' in after).toBe(true);
  });

  it('reloads an account whose list was replaced (RELOAD names the account)', async () => {
    await pool.query(
      `INSERT INTO optouts (account_id, msisdn, scope_number, source) VALUES ($1, '447400123444', '', 'import')`,
      [ACCOUNT],
    );
    await producer.produce(topics.configChanges, {
      changeId: uuidv7(),
      kind: ResourceKind.RESOURCE_KIND_OPT_OUT,
      resourceId: ACCOUNT,
      action: ChangeAction.CHANGE_ACTION_RELOAD,
      revision: 1n,
      changedAt: new Date(),
      actor: 'test',
    });
    await applied('447400123444', HUB_NUMBER, true);
    expect(core.optOuts.list.blocks(ACCOUNT, '447400123111', HUB_NUMBER)).toBe(true);
    expect(((await outcome(await submit('447400123444'))) as SmsRejected).error?.receiptError).toBe(17);
  });

  it('ends with what the table holds when two writers announce in another order than they committed', async () => {
    // A STOP committed, then an operator removed it; the removal is announced first, the STOP last.
    await pool.query(
      `INSERT INTO optouts (account_id, msisdn, scope_number, source) VALUES ($1, '447400123550', $2, 'keyword')`,
      [ACCOUNT, HUB_NUMBER],
    );
    await pool.query(`DELETE FROM optouts WHERE account_id = $1 AND msisdn = '447400123550'`, [ACCOUNT]);
    await announce('447400123550', HUB_NUMBER, 'remove');
    await announce('447400123550', HUB_NUMBER, 'add');
    // A later change on the same (single-partition) topic: once it is applied, so are the two above.
    await optOut('447400123551', '', 'add');
    await applied('447400123551', HUB_NUMBER, true);
    expect(core.optOuts.list.blocks(ACCOUNT, '447400123550', HUB_NUMBER)).toBe(false);
    expect('candidates' in (await outcome(await submit('447400123550')))).toBe(true);
  });
});
