// The inbound stage in-process over real Kafka (isolated topics) and PostgreSQL (a fresh database): the
// number resolution cases the end-to-end test (tools/e2e/test/inbound-mo.test.ts) does not reach: a shared
// short code by keyword, the default account for an unassigned number, an account that wants parts, and a
// long MO whose parts come in reverse order and twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcatMethod, SmsMo, topics as registry, type SmsInbound } from '@smshub/contracts';
import { createPool, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import {
  createIsolatedTopics,
  createTestDatabase,
  ensureTestTopics,
  testKafkaBrokers,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@smshub/testing';
import type { Kafka } from 'kafkajs';
import { createInbound, type Inbound } from '../src/inbound.js';

const PIZZA = '0193a000-0000-7000-8000-0000000000c1';
const TAXI = '0193a000-0000-7000-8000-0000000000c2';
const PARTS = '0193a000-0000-7000-8000-0000000000c3';
const FALLBACK = '0193a000-0000-7000-8000-0000000000c4';

let db: TestDatabase;
let pool: Pool;
let topics: typeof registry;
let kafka: Kafka;
let producer: TypedProducer;
let logger: Logger;
let watch: TypedConsumer;
let inbound: Inbound;
const published: SmsInbound[] = [];
let n = 0;

function mo(to: string, text: Buffer, concat?: { ref: number; total: number; seq: number }): SmsMo {
  const udh = concat ? Buffer.from([0x05, 0x00, 0x03, concat.ref, concat.total, concat.seq]) : undefined;
  return SmsMo.fromPartial({
    moId: `0193a000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
    connectorId: 'con_test',
    receivedAt: new Date(),
    source: { ton: 1, npi: 1, address: '447700900123' },
    destination: { ton: 1, npi: 1, address: to },
    esmClass: udh ? 0x40 : 0,
    dataCoding: 0,
    shortMessage: udh ? Buffer.concat([udh, text]) : text,
    ...(concat
      ? {
          concat: {
            reference: concat.ref,
            total: concat.total,
            partNumber: concat.seq,
            method: ConcatMethod.CONCAT_METHOD_UDH_8BIT,
            groupId: '',
          },
        }
      : {}),
  });
}

beforeAll(async () => {
  logger = createLogger({ service: 'inbound-test', level: 'silent' as 'info' });
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 5 });
  await migrate(pool);
  for (const [id, sys, reassemble] of [
    [PIZZA, 'pizza', true],
    [TAXI, 'taxi', true],
    [PARTS, 'parts', false],
    [FALLBACK, 'fallback', true],
  ] as const) {
    await pool.query(
      `INSERT INTO accounts (id, system_id, password_hash, currency, mo_reassemble)
       VALUES ($1, $2, '$argon2id$v=19$m=1,t=1,p=1$x$y', 'EUR', $3)`,
      [id, sys, reassemble],
    );
  }
  await pool.query(
    `INSERT INTO hub_numbers (id, number, kind, account_id, keywords) VALUES
       ('n1', '60123', 'short_code', $1, '{PIZZA}'), ('n2', '60123', 'short_code', $2, '{}'),
       ('n3', '447700900777', 'long_code', $3, '{}')`,
    [PIZZA, TAXI, PARTS],
  );
  topics = await createIsolatedTopics(registry);
  kafka = createKafka({ clientId: uniqueName('inbound-test'), brokers: testKafkaBrokers() }, logger);
  producer = new TypedProducer(kafka, logger, { ackTimeoutMs: 10_000 });
  await producer.connect();
  watch = new TypedConsumer(kafka, logger, { groupId: uniqueName('watch'), fromBeginning: true, producer });
  await ensureTestTopics([watch.deadLetterTopic]);
  watch.on(topics.inbound, (r) => void published.push(r.value));
  const assigned = watch.waitForAssignment();
  await watch.start();
  await assigned;
  const consumers: TypedConsumer[] = [];
  inbound = createInbound({
    options: {
      defaultAccountId: FALLBACK,
      reassemblyTimeoutMs: 60_000,
      numberCacheMs: 0,
      groupId: uniqueName('smshub-inbound'),
    },
    logger,
    consumer: async (o) => {
      const c = new TypedConsumer(kafka, logger, { ...o, producer });
      await ensureTestTopics([c.deadLetterTopic]);
      consumers.push(c);
      return c;
    },
    producer: async () => producer,
    pool,
    topics,
  });
  await inbound.start();
}, 180_000);

afterAll(async () => {
  await inbound?.stop();
  await watch?.stop().catch(() => undefined);
  await producer?.close();
  await pool?.end();
  await db?.drop();
});

const find = (pred: (m: SmsInbound) => boolean, what: string) =>
  waitFor(() => published.find(pred), { timeoutMs: 30_000, what });

describe('inbound stage', () => {
  it('a shared short code goes by keyword, else to its catch-all', async () => {
    await producer.produce(topics.mo, mo('60123', Buffer.from('Pizza margherita please')));
    await producer.produce(topics.mo, mo('60123', Buffer.from('taxi to the station')));
    const pizza = await find((m) => m.text.startsWith('Pizza'), 'the PIZZA message');
    expect(pizza).toMatchObject({ accountId: PIZZA, keyword: 'PIZZA', defaultAccount: false });
    const taxi = await find((m) => m.text.startsWith('taxi'), 'the catch-all message');
    expect(taxi).toMatchObject({ accountId: TAXI, keyword: '' });
  });

  it('an unassigned number goes to the default account, marked as such', async () => {
    await producer.produce(topics.mo, mo('447700900999', Buffer.from('who is this')));
    const m = await find((x) => x.text === 'who is this', 'the default-account message');
    expect(m).toMatchObject({ accountId: FALLBACK, defaultAccount: true });
  });

  it('an account that wants parts gets each part at once, with its UDH', async () => {
    await producer.produce(
      topics.mo,
      mo('447700900777', Buffer.from('first half, '), { ref: 9, total: 2, seq: 1 }),
    );
    await producer.produce(
      topics.mo,
      mo('447700900777', Buffer.from('second half'), { ref: 9, total: 2, seq: 2 }),
    );
    const parts = await waitFor(
      () => {
        const ps = published.filter((m) => m.accountId === PARTS);
        return ps.length >= 2 ? ps : undefined;
      },
      { timeoutMs: 30_000, what: 'two parts' },
    );
    expect(parts.map((p) => [p.esmClass, p.concat?.partNumber, p.text])).toEqual([
      [0x40, 1, 'first half, '],
      [0x40, 2, 'second half'],
    ]);
  });

  it('reassembles parts that come in reverse order, a re-sent part changing nothing', async () => {
    const p3 = mo('60123', Buffer.from('three'), { ref: 77, total: 3, seq: 3 });
    const p2 = mo('60123', Buffer.from('two '), { ref: 77, total: 3, seq: 2 });
    const p1 = mo('60123', Buffer.from('Pizza one '), { ref: 77, total: 3, seq: 1 });
    await producer.produce(topics.mo, p3);
    await producer.produce(topics.mo, p3);
    await producer.produce(topics.mo, p2);
    await producer.produce(topics.mo, p1);
    // A later single message on the same key: once it is out, everything before it was handled.
    await producer.produce(topics.mo, mo('60123', Buffer.from('Pizza end marker')));
    await find((m) => m.text === 'Pizza end marker', 'the marker');
    const whole = published.filter((m) => m.text === 'Pizza one two three');
    expect(whole).toHaveLength(1);
    expect(whole[0]).toMatchObject({ accountId: PIZZA, keyword: 'PIZZA', parts: 3, esmClass: 0 });
    expect(whole[0]!.messageId).toBe(p1.moId);
  });
});
