// Opt-out keywords over real PostgreSQL and Kafka (the handler the inbound stage's hook calls): a STOP adds
// the subscriber to the account's list for the hub number, audited with the subscriber as actor, announced
// on config.changes.v1; a redelivered STOP changes nothing twice; START removes it (and a STOPALL's
// account-wide entry); HELP and configured confirmations are published as MT replies on sms.submitted.v1
// from the hub number, marked as keyword replies.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeAction,
  ResourceKind,
  SmsInbound,
  SubmitChannel,
  topics as registry,
  type AuditEvent,
  type ConfigChange,
  type SmsSubmitted,
} from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import { decodeText } from '@smshub/smpp';
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
import { KeywordHandler, uuidv7 } from '../src/optout/handler.js';

const ACCOUNT = '0193a000-0000-7000-8000-0000000000b1';
const HUB = '447700900500';

let db: TestDatabase;
let pool: Pool;
let topics: typeof registry;
let kafka: Kafka;
let producer: TypedProducer;
let logger: Logger;
let watch: TypedConsumer;
let migrationsDir: string;
let handler: KeywordHandler;
const changes: ConfigChange[] = [];
const audits: AuditEvent[] = [];
const replies = new Map<string, SmsSubmitted>();

function mo(from: string, text: string, id = uuidv7(new Date())): SmsInbound {
  return SmsInbound.fromPartial({
    messageId: id,
    accountId: ACCOUNT,
    source: { ton: 1, npi: 1, address: from },
    destination: { ton: 1, npi: 1, address: HUB },
    dataCoding: 0,
    shortMessage: Buffer.from(text, 'ascii'),
    text,
    parts: 1,
    moIds: [id],
  });
}

async function rows(msisdn: string) {
  const { rows } = await pool.query<{ scope_number: string; source: string; keyword: string; actor: string }>(
    `SELECT scope_number, source, keyword, actor FROM optouts WHERE account_id = $1 AND msisdn = $2
      ORDER BY scope_number`,
    [ACCOUNT, msisdn],
  );
  return rows;
}

beforeAll(async () => {
  logger = createLogger({ service: 'inbound-optout-test', level: 'silent' as 'info' });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4 });
  migrationsDir = await mkdtemp(path.join(tmpdir(), 'inbound-optout-migrations-'));
  for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
    if (/^(0001|02\d\d|03\d\d|05\d\d|06\d\d)_.*\.sql$/.test(f))
      await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrationsDir, f));
  await migrate(pool, { dir: migrationsDir });
  await pool.query(
    `INSERT INTO accounts (id, system_id, password_hash, currency) VALUES ($1, 'kwacc', '$argon2id$x', 'EUR')`,
    [ACCOUNT],
  );
  topics = await createIsolatedTopics(registry);
  kafka = createKafka(
    { brokers: testKafkaBrokers(), clientId: uniqueName('inbound-optout'), ssl: false },
    logger,
  );
  producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 10_000 });
  await producer.connect();
  watch = new TypedConsumer(kafka, logger, { groupId: uniqueName('watch'), fromBeginning: true, producer });
  await ensureTestTopics([watch.deadLetterTopic]);
  watch.on(topics.configChanges, (r) => void changes.push(r.value));
  watch.on(topics.audit, (r) => void audits.push(r.value));
  watch.on(topics.submitted, (r) => void replies.set(r.value.messageId, r.value));
  const assigned = watch.waitForAssignment();
  await watch.start();
  await assigned;
  handler = new KeywordHandler({ pool, producer, topics, logger, now: () => new Date(), cacheMs: 0 });
}, 120_000);

afterAll(async () => {
  await watch?.stop().catch(() => undefined);
  await producer?.close();
  await pool?.end();
  await db?.drop();
  if (migrationsDir) await rm(migrationsDir, { recursive: true, force: true });
  if (topics) {
    const admin = await testKafkaAdmin();
    try {
      const existing = new Set(await admin.listTopics());
      const mine = [...Object.values(topics).map((t) => t.name), watch.deadLetterTopic].filter((n) =>
        existing.has(n),
      );
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    } finally {
      await admin.disconnect();
    }
  }
}, 60_000);

describe('opt-out keywords', () => {
  it('STOP opts the subscriber out of the hub number, audited and announced; a redelivery changes nothing twice', async () => {
    const stop = mo('+447400123101', ' Stop ');
    const r = await handler.handle(stop);
    expect(r).toMatchObject({ first: true, match: { action: 'stop', keyword: 'STOP' } });
    expect(await rows('447400123101')).toEqual([
      { scope_number: HUB, source: 'keyword', keyword: 'STOP', actor: '+447400123101' },
    ]);
    const change = await waitFor(
      () => changes.find((c) => c.resourceId === `${ACCOUNT}/447400123101/${HUB}`),
      { what: 'the opt-out change' },
    );
    expect(change).toMatchObject({
      kind: ResourceKind.RESOURCE_KIND_OPT_OUT,
      action: ChangeAction.CHANGE_ACTION_CREATED,
      actor: '+447400123101',
    });
    const audit = await waitFor(() => audits.find((a) => a.resourceId === change.resourceId), {
      what: 'the audit event on audit.v1',
    });
    expect(audit).toMatchObject({
      method: 'KeywordOptOut',
      role: 'subscriber',
      tokenName: '+447400123101',
      resourceKind: 'opt_out',
      service: 'inbound',
      peer: `mo:${stop.messageId}`,
    });
    const stored = await pool.query(`SELECT * FROM admin_audit_log WHERE resource_id = $1`, [
      change.resourceId,
    ]);
    expect(stored.rows).toHaveLength(1);
    // No confirmation is configured: no reply.
    expect(r?.replyId).toBeUndefined();

    const again = await handler.handle(stop);
    expect(again).toMatchObject({ first: false, changed: [] });
    const twice = await pool.query(`SELECT * FROM admin_audit_log WHERE resource_id = $1`, [
      change.resourceId,
    ]);
    expect(twice.rows).toHaveLength(1);
  });

  it('START removes the number and an account-wide STOPALL, both announced as removals', async () => {
    await handler.handle(mo('447400123102', 'STOPALL'));
    await handler.handle(mo('447400123102', 'stop'));
    expect((await rows('447400123102')).map((x) => x.scope_number)).toEqual(['', HUB]);
    const r = await handler.handle(mo('447400123102', 'start'));
    expect(r?.changed).toHaveLength(2);
    expect(await rows('447400123102')).toEqual([]);
    await waitFor(
      () =>
        changes.filter(
          (c) =>
            c.action === ChangeAction.CHANGE_ACTION_DELETED &&
            c.resourceId.startsWith(`${ACCOUNT}/447400123102/`),
        ).length >= 2 || undefined,
      { what: 'two removals announced' },
    );
    const { rows: a } = await pool.query(
      `SELECT method, token_name FROM admin_audit_log WHERE resource_id LIKE $1 ORDER BY at, method`,
      [`${ACCOUNT}/447400123102/%`],
    );
    expect(a.filter((x) => x.method === 'KeywordOptIn')).toHaveLength(2);
    expect(a.every((x) => x.token_name === '+447400123102')).toBe(true);
  });

  it('answers HELP with the default text from the hub number, marked as a keyword reply', async () => {
    const r = await handler.handle(mo('447400123103', 'help'));
    expect(r?.replyId).toBeDefined();
    const reply = await waitFor(() => replies.get(r!.replyId!), {
      what: 'the HELP reply on sms.submitted.v1',
    });
    expect(reply).toMatchObject({
      accountId: ACCOUNT,
      source: { address: HUB },
      destination: { address: '447400123103' },
      channel: SubmitChannel.SUBMIT_CHANNEL_KEYWORD_REPLY,
    });
    expect(decodeText(reply.shortMessage, reply.dataCoding)).toMatch(/^Reply STOP/);
  });

  it('sends a configured confirmation, account-wide when the account says so', async () => {
    await pool.query(
      `INSERT INTO optout_keyword_sets (account_id, country, language, stop_reply, scope)
       VALUES ($1, 'GB', 'en', 'You will get no more messages. Reply START to undo.', 'account')`,
      [ACCOUNT],
    );
    const r = await handler.handle(mo('447400123104', 'quit'));
    expect((await rows('447400123104')).map((x) => x.scope_number)).toEqual(['']);
    const reply = await waitFor(() => replies.get(r!.replyId!), { what: 'the STOP confirmation' });
    expect(decodeText(reply.shortMessage, reply.dataCoding)).toBe(
      'You will get no more messages. Reply START to undo.',
    );
  });

  it('leaves ordinary replies alone', async () => {
    expect(await handler.handle(mo('447400123105', 'Please stop'))).toBeUndefined();
    expect(await rows('447400123105')).toEqual([]);
  });
});
