// Shared set-up of the rating integration tests: isolated topics, a migrated test database with rates,
// accounts and connectors, a rating instance and raw readers of the rated and balances topics.

import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import type { Pool } from 'pg';
import { topics as registry } from '@smshub/contracts';
import { createPool, migrate } from '@smshub/db';
import { TypedConsumer, TypedProducer, createKafka, type ProducerOptions } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import {
  createIsolatedTopics,
  createTestDatabase,
  testKafkaBrokers,
  uniqueName,
  type TestDatabase,
} from '@smshub/testing';
import { createRating, type Rating, type RatingTopics } from '../src/rating.js';

export { accepted, context, finalDelivery } from './fixtures.js';

/** The bootstrap admin credential of test instances (SettlementService refuses calls without a token). */
export const ADMIN_TOKEN = 'rating-test-admin-token-0123456789';

export const OLD = new Date('2026-01-10T10:00:00Z'); // before the plan's price change
export const NEW = new Date('2026-07-10T10:00:00Z'); // after it

export interface Raw {
  key: string;
  value: Buffer;
  /** Where the record is in the topic (a record read twice after a rejoin has the same place). */
  partition: number;
  offset: string;
}

export interface Harness {
  topics: RatingTopics;
  pool: Pool;
  producer: TypedProducer;
  kafka: ReturnType<typeof createKafka>;
  rated: Raw[];
  balances: Raw[];
  /** Consumer group of startRating() without a group of its own. */
  groupId: string;
  /** Consumer group of the reader filling `rated` (commits after each batch it read). */
  ratedReaderGroup: string;
  accounts: { submit: string; delivery: string; usd: string };
  /** A rating instance in the harness's group, or in `groupId` (a second replica that sees every event). */
  startRating(groupId?: string): Promise<Rating>;
  stopRating(r: Rating): Promise<void>;
  close(): Promise<void>;
}

async function seed(pool: Pool): Promise<Harness['accounts']> {
  const ids = { submit: randomUUID(), delivery: randomUUID(), usd: randomUUID() };
  const hash = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA';
  await pool.query(`INSERT INTO rating_price_plans (id, name) VALUES ('std', 'Standard')`);
  await pool.query(
    `INSERT INTO accounts (id, system_id, password_hash, charge_on, billing_mode, credit_limit_minor, currency, price_plan_id)
     VALUES ($1, 'subm', $4, 'submit', 'prepaid', 0, 'EUR', 'std'),
            ($2, 'deliv', $4, 'delivery', 'postpaid', 5000, 'EUR', 'std'),
            ($3, 'usd', $4, 'submit', 'prepaid', 0, 'USD', 'std')`,
    [ids.submit, ids.delivery, ids.usd, hash],
  );
  await pool.query(
    `INSERT INTO rating_rates (id, owner_kind, owner_id, prefix, mcc_mnc, country, price_amount, currency, effective_from, effective_to) VALUES
      ('std-49-old', 'plan', 'std', '49', NULL, NULL, 12500, 'EUR', '2025-01-01', '2026-06-01'),
      ('std-49-new', 'plan', 'std', '49', NULL, NULL, 20000, 'EUR', '2026-06-01', NULL),
      ('std-4917',   'plan', 'std', '4917', NULL, NULL, 30000, 'EUR', '2025-01-01', NULL),
      ('std-fr',     'plan', 'std', NULL, NULL, 'FR', 50000, 'EUR', '2025-01-01', NULL),
      ('acc-49-own', 'account', $1, '4930', NULL, NULL, 11000, 'EUR', '2025-01-01', NULL),
      ('buy-49',     'connector', 'con_a', '49', NULL, NULL, 8000, 'EUR', '2025-01-01', NULL),
      ('buy-26203',  'connector', 'con_a', NULL, '26203', NULL, 9000, 'EUR', '2025-01-01', NULL),
      ('buy-fr',     'connector', 'con_a', NULL, NULL, 'FR', 30000, 'EUR', '2025-01-01', NULL)`,
    [ids.submit],
  );
  await pool.query(
    `INSERT INTO rating_exchange_rates (id, from_currency, to_currency, rate, effective_from)
     VALUES ('eurusd', 'EUR', 'USD', 1.10, '2025-01-01')`,
  );
  await pool.query(
    `INSERT INTO rating_connectors (connector_id, supplier_id, buy_charge_on) VALUES ('con_a', 'sup_1', 'submit')`,
  );
  return ids;
}

async function rawReader(kafka: Kafka, topic: string, into: Raw[], groupId: string): Promise<Consumer> {
  const c = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    eachMessage: async ({ partition, message }) => {
      if (message.value)
        into.push({
          key: message.key?.toString('utf8') ?? '',
          value: message.value,
          partition,
          offset: message.offset,
        });
    },
  });
  return c;
}

export interface HarnessOptions {
  /** Kafka brokers of the test's own (default: the shared test broker). */
  brokers?: string[];
  /** Options of the producer the test's events go through (default: TypedProducer's). */
  eventProducer?: ProducerOptions;
  /** When set, rating publishes through a producer of its own with these options (as main.ts does). */
  ratingProducer?: ProducerOptions;
  /** Wraps the client rating's own producer is made on (to act at the moment it sends a request). */
  ratingKafka?: (kafka: ReturnType<typeof createKafka>) => ReturnType<typeof createKafka>;
}

export async function createHarness(opts: HarnessOptions = {}): Promise<Harness & { db: TestDatabase }> {
  const brokers = opts.brokers ?? testKafkaBrokers();
  const all = await createIsolatedTopics(
    {
      dispatched: registry.dispatched,
      delivery: registry.delivery,
      inbound: registry.inbound,
      rated: registry.rated,
      balances: registry.balances,
      configChanges: registry.configChanges,
    },
    { brokers },
  );
  const topics: RatingTopics = all;
  const db = await createTestDatabase();
  const pool = createPool({ connectionString: db.url, max: 5 });
  await migrate(pool);
  const accounts = await seed(pool);
  const logger = createLogger({ service: 'rating-test', level: 'warn' });
  const kafka = createKafka({ brokers, clientId: uniqueName('rating-test') }, logger);
  const producer = new TypedProducer(kafka, logger, opts.eventProducer);
  await producer.connect();
  const ratingProducer = opts.ratingProducer
    ? new TypedProducer(opts.ratingKafka?.(kafka) ?? kafka, logger, opts.ratingProducer)
    : producer;
  if (ratingProducer !== producer) await ratingProducer.connect();
  const rawKafka = new Kafka({ clientId: uniqueName('raw'), brokers, logLevel: logLevel.NOTHING });
  const rated: Raw[] = [];
  const balances: Raw[] = [];
  const ratedReaderGroup = uniqueName('reader');
  const readers = [
    await rawReader(rawKafka, topics.rated.name, rated, ratedReaderGroup),
    await rawReader(rawKafka, topics.balances.name, balances, uniqueName('reader')),
  ];
  const groupId = uniqueName('smshub-rating');
  const consumers: TypedConsumer[] = [];

  return {
    db,
    topics,
    pool,
    producer,
    kafka,
    rated,
    balances,
    groupId,
    ratedReaderGroup,
    accounts,
    async startRating(ownGroup) {
      const rating = createRating({
        options: {
          replicaId: uniqueName('r'),
          groupId: ownGroup ?? groupId,
          balancePublishIntervalMs: 100,
          reloadIntervalMs: 600_000,
          grpcPort: 0,
          grpcHost: '127.0.0.1',
          adminToken: ADMIN_TOKEN,
        },
        logger,
        pool,
        kafka,
        producer: ratingProducer,
        consumer: async (o) => {
          const c = new TypedConsumer(kafka, logger, { ...o, producer: ratingProducer });
          consumers.push(c);
          return c;
        },
        topics,
      });
      await rating.start();
      return rating;
    },
    async stopRating(r) {
      await r.stop();
    },
    async close() {
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(readers.map((r) => r.disconnect()));
      if (ratingProducer !== producer) await ratingProducer.close();
      await producer.close();
      await pool.end();
      await db.drop();
    },
  };
}
