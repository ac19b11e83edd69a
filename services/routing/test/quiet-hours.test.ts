// Quiet hours in routing over real Kafka and Postgres (issue 19 part 3): a message to a country outside
// its allowed window is published to sms.scheduled.v1 with hold_until = the next window start and the
// quiet-hours reason instead of being routed; one whose validity ends first is rejected EXPIRED (err 009);
// a message the scheduler released (released_at set) is routed, never held again; an account's entry
// overrides its country's; a change announced on config.changes.v1 is applied. Routing's clock is the
// test's, so the windows are exact.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeAction,
  ResourceKind,
  SmsSubmitted,
  SubmitChannel,
  TrafficType,
  topics as registry,
  type SmsRejected,
  type SmsRouted,
  HoldReason,
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
const held = new Map<string, SmsSubmitted>();
/** Routing's clock: 23:00 London time (BST) on Monday 2026-07-06 unless a test moves it. */
let now = Date.parse('2026-07-06T22:00:00Z');

async function consumer(o: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer> {
  const c = new TypedConsumer(kafka, logger, { ...o, producer });
  await ensureTestTopics([c.deadLetterTopic]);
  consumers.push(c);
  return c;
}

async function submit(
  destination: string,
  o: { account?: string; source?: string; channel?: SubmitChannel; extra?: Partial<SmsSubmitted> } = {},
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
      ...o.extra,
    }),
  );
  return messageId;
}

type Outcome = { routed: SmsRouted } | { rejected: SmsRejected } | { held: SmsSubmitted };

async function outcome(id: string): Promise<Outcome> {
  return waitFor(
    (): Outcome | undefined => {
      const r = routed.get(id);
      if (r) return { routed: r };
      const j = rejected.get(id);
      if (j) return { rejected: j };
      const h = held.get(id);
      return h ? { held: h } : undefined;
    },
    {
      what: `the outcome of ${id}`,
      timeoutMs: 20_000,
    },
  );
}

/** Writes an entry (as admin does); `announce` publishes the change on config.changes.v1. */
async function setQuietHours(country: string, account: string, allowed: unknown[]): Promise<void> {
  await pool.query(
    `INSERT INTO quiet_hours (country, account_id, allowed) VALUES ($1, $2, $3::jsonb)
     ON CONFLICT (country, account_id) DO UPDATE SET allowed = EXCLUDED.allowed, updated_at = now()`,
    [country, account, JSON.stringify(allowed)],
  );
}

async function announce(country: string, account: string): Promise<void> {
  await producer.produce(topics.configChanges, {
    changeId: uuidv7(),
    kind: ResourceKind.RESOURCE_KIND_QUIET_HOURS,
    resourceId: `${country}/${account}`,
    action: ChangeAction.CHANGE_ACTION_UPDATED,
    revision: 1n,
    changedAt: new Date(),
    actor: 'test',
  });
}

beforeAll(async () => {
  logger = createLogger({ service: 'routing-quiet-test', level: 'silent' as 'info' });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 5 });
  await migrateForRouting(pool);
  await importPrefixCsv(pool, await readFile(path.join(here, '../data/sample-prefixes.csv'), 'utf8'));
  for (const [id, systemId] of [
    [ACCOUNT, 'qhacc1'],
    [OTHER, 'qhacc2'],
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
  // Present before routing starts: GB may be sent to 08:00-21:00 London time; OTHER any time.
  await setQuietHours('GB', '', [{ timeZone: 'Europe/London', ranges: [{ from: '08:00', to: '21:00' }] }]);
  await setQuietHours('GB', OTHER, [{ timeZone: 'Europe/London' }]);

  topics = await createIsolatedTopics(registry);
  kafka = createKafka(
    { brokers: testKafkaBrokers(), clientId: uniqueName('routing-quiet'), ssl: false },
    logger,
  );
  producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 10_000 });
  await producer.connect();
  const watch = await consumer({ groupId: uniqueName('watch'), fromBeginning: true });
  watch.on(topics.routed, (r) => void routed.set(r.value.message!.messageId, r.value));
  watch.on(topics.rejected, (r) => void rejected.set(r.value.message!.messageId, r.value));
  watch.on(topics.scheduled, (r) => void held.set(r.value.messageId, r.value));
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
    clock: () => now,
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

describe('routing: quiet hours', () => {
  it('holds a message outside the window on sms.scheduled.v1 until the next window start', async () => {
    const id = await submit('447400123001', { extra: { validityUntil: new Date('2026-07-08T00:00:00Z') } });
    const o = await outcome(id);
    expect('held' in o).toBe(true);
    const h = (o as { held: SmsSubmitted }).held;
    // 08:00 BST the next day.
    expect(h.holdUntil?.toISOString()).toBe('2026-07-07T07:00:00.000Z');
    expect(h.holdReason).toBe(HoldReason.HOLD_REASON_QUIET_HOURS);
    expect(h.releasedAt).toBeUndefined();
    // The message itself is unchanged.
    expect(h.destination?.address).toBe('447400123001');
    expect(Buffer.from(h.shortMessage).toString()).toBe('Spring sale');
  }, 60_000);

  it('rejects EXPIRED (err 009) a message whose validity ends before the window opens', async () => {
    const id = await submit('447400123002', { extra: { validityUntil: new Date('2026-07-07T06:30:00Z') } });
    const o = await outcome(id);
    expect('rejected' in o).toBe(true);
    const r = (o as { rejected: SmsRejected }).rejected;
    expect(r.error).toMatchObject({ code: 'EXPIRED', receiptError: 9 });
    expect(r.reason).toContain('2026-07-07T07:00:00.000Z');
    expect(r.destinationInfo?.countryCode).toBe('GB');
  }, 60_000);

  it('routes a message the scheduler released, even in quiet hours (never held twice)', async () => {
    const id = await submit('447400123003', {
      extra: {
        holdUntil: new Date('2026-07-06T21:59:00Z'),
        holdReason: HoldReason.HOLD_REASON_QUIET_HOURS,
        releasedAt: new Date('2026-07-06T21:59:01Z'),
      },
    });
    const o = await outcome(id);
    expect('routed' in o).toBe(true);
    expect((o as { routed: SmsRouted }).routed.candidates[0]?.connectorId).toBe('con_a');
  }, 60_000);

  it("applies an account's entry over its country's, and routes inside the window", async () => {
    const other = await outcome(await submit('447400123004', { account: OTHER }));
    expect('routed' in other).toBe(true);
    now = Date.parse('2026-07-06T12:00:00Z');
    try {
      expect('routed' in (await outcome(await submit('447400123005')))).toBe(true);
    } finally {
      now = Date.parse('2026-07-06T22:00:00Z');
    }
  }, 60_000);

  it('applies a change announced on config.changes.v1', async () => {
    // GB now 07:00-23:30: 23:00 BST is inside.
    await setQuietHours('GB', '', [{ timeZone: 'Europe/London', ranges: [{ from: '07:00', to: '23:30' }] }]);
    await announce('GB', '');
    await waitFor(
      () =>
        core.quietHours.verdict(SmsSubmitted.fromPartial({ accountId: ACCOUNT }), 'GB', now).kind ===
          'send' || undefined,
      { what: 'the quiet hours change applied', timeoutMs: 20_000 },
    );
    expect('routed' in (await outcome(await submit('447400123006')))).toBe(true);
    // And back: a deletion leaves GB without quiet hours.
    await pool.query(`DELETE FROM quiet_hours WHERE country = 'GB'`);
    await announce('GB', '');
    await waitFor(() => core.quietHours.table.size === 0 || undefined, { what: 'the deletion applied' });
  }, 60_000);
});
