// One ingress process for the benchmarks (ingress-bench.ts, receipt-bench.ts), against the running broker
// and Postgres (KAFKA_BROKERS, DATABASE_URL): a throwaway database with every migration (ingress reads
// columns of other services on accounts, and the sell rates), a 'bench' account (password 'benchpw'),
// topics with the registry's layout under unique names, and every SQL statement the pool runs counted
// (ingress's receipt store uses nothing else).
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import argon2 from 'argon2';
import pg from 'pg';
import { topics as registry } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createKafka, ensureTopics, TypedConsumer, TypedProducer, type ProducerOptions } from '@smshub/kafka';
import type { Kafka } from 'kafkajs';
import { createLogger, type Logger } from '@smshub/logging';
import { createIngress, DEFAULT_OPTIONS, type Ingress } from '../src/index.js';

export interface BenchIngress {
  /** Unique name of the run: the database's, and the prefix of the topics and groups. */
  tag: string;
  logger: Logger;
  pool: Pool;
  topics: typeof registry;
  producer: TypedProducer;
  ingress: Ingress;
  /** The SMPP port ingress listens on (127.0.0.1). */
  port: number;
  /** SQL statements run through the pool so far, in all and by their first 40 characters. */
  sql: { statements: number; byKind: Map<string, number> };
  /** Stops ingress and removes the database and the topics. */
  stop(): Promise<void>;
}

export interface BenchIngressOptions {
  /** Options of ingress's producer (latency-bench.ts: main.ts's INGRESS_PRODUCER_OPTIONS). */
  producer?: ProducerOptions;
  /** Called with the kafkajs client before any producer or consumer is made (instrumentation). */
  onKafka?: (kafka: Kafka) => void;
}

export async function startBenchIngress(name: string, o: BenchIngressOptions = {}): Promise<BenchIngress> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is required (set -a; . .local/env; set +a)');
  const tag = `${name}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const logger = createLogger({ service: `ingress-${name}`, level: 'warn' });

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${tag}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${tag}`;
  const pool = createPool({ connectionString: dbUrl.toString(), max: 10 });
  const dir = await mkdtemp(path.join(tmpdir(), `${name}-`));
  for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
    // Every migration: ingress reads columns of routing, rating and admin on accounts, and rating's sell rates.
    if (/^\d{4}_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
  await migrate(pool, { dir });
  const sql = { statements: 0, byKind: new Map<string, number>() };
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    sql.statements++;
    const kind = String(args[0]).replace(/\s+/g, ' ').trim().slice(0, 40);
    sql.byKind.set(kind, (sql.byKind.get(kind) ?? 0) + 1);
    return query(...args);
  };
  const hash = await argon2.hash('benchpw', { type: argon2.argon2id });
  await pool.query(
    `INSERT INTO accounts (system_id, password_hash, max_binds, tps_limit, max_window, currency)
     VALUES ('bench', $1, 100, 1000000, 1000, 'EUR')`,
    [hash],
  );

  // Topics with the registry's layout (6 partitions for the flow topics), under unique names.
  const topics = Object.fromEntries(
    Object.entries(registry).map(([k, v]) => [k, { ...v, name: `${tag}.${v.name}` }]),
  ) as unknown as typeof registry;
  const kafka = createKafka({ brokers, clientId: tag, ssl: false }, logger);
  o.onKafka?.(kafka);
  const kadmin = kafka.admin();
  await kadmin.connect();
  const used = [
    topics.submitted,
    topics.scheduled,
    topics.delivery,
    topics.inbound,
    topics.configChanges,
    topics.balances,
  ];
  await ensureTopics(kadmin, used);

  const producer = new TypedProducer(kafka, logger, o.producer);
  await producer.connect();
  const consumers: TypedConsumer[] = [];
  const ingress = createIngress({
    options: {
      ...DEFAULT_OPTIONS,
      replicaId: tag,
      smppHost: '127.0.0.1',
      smppPort: 0,
      deliveryGroupId: `${tag}-dlv`,
      configGroupPrefix: `${tag}-cfg`,
    },
    logger,
    producer,
    consumer: async (o) => {
      const c = new TypedConsumer(kafka, logger, { ...o, producer });
      consumers.push(c);
      return c;
    },
    pool,
    topics,
  });
  const { port } = await ingress.start();

  return {
    tag,
    logger,
    pool,
    topics,
    producer,
    ingress,
    port,
    sql,
    async stop() {
      await ingress.stop();
      await Promise.all(consumers.map((c) => c.stop()));
      await producer.close();
      await kadmin.deleteTopics({ topics: used.map((t) => t.name) }).catch(() => undefined);
      await kadmin.disconnect();
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`);
      await admin.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
