// Test harness: a fresh database (0001 + ingress's own migrations), isolated topics, and ingress replicas
// built in-process from their core with explicit dependencies.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import argon2 from 'argon2';
import { topics as registry, type SmsSubmitted } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import { connectSmpp, type ConnectSmppOptions, type SmppSession } from '@smshub/smpp';
import {
  createIsolatedTopics,
  createTestDatabase,
  testKafkaBrokers,
  uniqueName,
  waitFor,
  waitForGroupCommitted,
  type TestDatabase,
} from '@smshub/testing';
import type { Kafka } from 'kafkajs';
import { createIngress, DEFAULT_OPTIONS, type Ingress, type IngressOptions } from '../src/index.js';

export interface AccountInit {
  systemId: string;
  password: string;
  enabled?: boolean;
  allowedCidrs?: string[];
  allowedBindTypes?: string[];
  maxBinds?: number;
  tpsLimit?: number;
  maxWindow?: number;
  defaultValiditySeconds?: number;
  /** argon2id cost of the stored hash; default a cheap one (the tests verify many binds). */
  hashOptions?: { memoryCost: number; timeCost: number };
  /** accounts.default_traffic_type: 'OTP', 'TRANSACTIONAL', 'MARKETING' or 'UNSPECIFIED' (default). */
  defaultTrafficType?: string;
  pricePlanId?: string;
  refuseUnrated?: boolean;
}

export interface Replica {
  ingress: Ingress;
  port: number;
  tlsPort?: number;
  replicaId: string;
}

/** Retries what failed only because the shared broker was still electing leaders of new topics. */
async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = /does not host this topic-partition|leader/i.test((err as Error).message);
      if (!transient || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

export class Harness {
  db!: TestDatabase;
  pool!: Pool;
  topics!: typeof registry;
  kafka!: Kafka;
  producer!: TypedProducer;
  logger!: Logger;
  deliveryGroup = uniqueName('ingress');
  private migrationsDir = '';
  private readonly replicas: Replica[] = [];
  private readonly consumers: TypedConsumer[] = [];
  private readonly clients: SmppSession[] = [];
  /** Every sms.submitted.v1 event seen, by customer message id. */
  readonly submitted = new Map<string, SmsSubmitted>();
  /** Every sms.scheduled.v1 event seen (messages the scheduler holds), by customer message id. */
  readonly scheduled = new Map<string, SmsSubmitted>();

  async setup(): Promise<void> {
    this.logger = createLogger({
      service: 'ingress-test',
      level: (process.env.TEST_LOG_LEVEL as 'info') ?? ('silent' as 'info'),
    });
    this.db = await createTestDatabase();
    this.pool = createPool({ connectionString: this.db.url, max: 10 });
    // Every migration: ingress reads the accounts table's columns of routing, rating and admin (traffic type,
    // price plan, refuse_unrated) and rating's sell rates.
    this.migrationsDir = await mkdtemp(path.join(tmpdir(), 'ingress-migrations-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      if (/^\d{4}_.*\.sql$/.test(f))
        await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(this.migrationsDir, f));
    }
    await migrate(this.pool, { dir: this.migrationsDir });
    // Creating a dozen topics on a busy shared broker sometimes fails while leaders are being elected
    // ("does not host this topic-partition"); fresh names on a second try are fine.
    this.topics = await withRetries(() => createIsolatedTopics(registry));
    this.kafka = createKafka(
      { brokers: testKafkaBrokers(), clientId: uniqueName('ingress-test'), ssl: false },
      this.logger,
    );
    this.producer = new TypedProducer(this.kafka, this.logger, { ackTimeoutMs: 10_000 });
    await this.producer.connect();
  }

  consumer = async (o: { groupId: string; fromBeginning: boolean }): Promise<TypedConsumer> => {
    const c = new TypedConsumer(this.kafka, this.logger, { ...o, producer: this.producer });
    this.consumers.push(c);
    // start() first creates the group's dead-letter topic; on a busy shared broker the metadata right after
    // creating a topic sometimes still says "does not host this topic-partition". Trying again is safe
    // (the consumer has not joined yet).
    const start = c.start.bind(c);
    c.start = () => withRetries(start);
    return c;
  };

  /** Collects sms.submitted.v1 into `submitted` and sms.scheduled.v1 (held messages) into `scheduled`. */
  async watchSubmitted(): Promise<void> {
    const c = await this.consumer({ groupId: uniqueName('watch'), fromBeginning: true });
    c.on(this.topics.submitted, (r) => void this.submitted.set(r.value.customerMessageId, r.value));
    c.on(this.topics.scheduled, (r) => void this.scheduled.set(r.value.customerMessageId, r.value));
    const assigned = c.waitForAssignment();
    await c.start();
    await assigned;
  }

  async startReplica(
    overrides: Partial<IngressOptions> = {},
    /** `pool`: the replica's own PostgreSQL pool (ending it makes the replica look dead to the others). */
    extra: { producer?: TypedProducer; pool?: Pool } = {},
  ): Promise<Replica> {
    const replicaId = uniqueName('r');
    const options: IngressOptions = {
      ...DEFAULT_OPTIONS,
      replicaId,
      smppHost: '127.0.0.1',
      smppPort: 0,
      deliveryGroupId: this.deliveryGroup,
      configGroupPrefix: uniqueName('cfg'),
      bindGuard: { slowAfter: 3, blockAfter: 6, baseDelayMs: 50, maxDelayMs: 200, blockMs: 60_000 },
      ...overrides,
      receipts: {
        ...DEFAULT_OPTIONS.receipts,
        pollMs: 200,
        retryBaseMs: 200,
        responseTimeoutMs: 2000,
        housekeepingMs: 1000,
        ...overrides.receipts,
        replicaId,
      },
    };
    const ingress = createIngress({
      options,
      logger: this.logger,
      producer: extra.producer ?? this.producer,
      consumer: this.consumer,
      pool: extra.pool ?? this.pool,
      topics: this.topics,
    });
    const { port, tlsPort } = await ingress.start();
    const r: Replica = { ingress, port, replicaId, ...(tlsPort !== undefined ? { tlsPort } : {}) };
    this.replicas.push(r);
    return r;
  }

  async addAccount(a: AccountInit): Promise<string> {
    // Cheap argon2id parameters: the tests verify many binds.
    const hash = await argon2.hash(a.password, {
      type: argon2.argon2id,
      memoryCost: 1024,
      timeCost: 1,
      parallelism: 1,
      ...a.hashOptions,
    });
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO accounts (system_id, password_hash, enabled, allowed_cidrs, allowed_bind_types, max_binds,
         tps_limit, max_window, default_validity_seconds, currency, default_traffic_type, price_plan_id,
         refuse_unrated)
       VALUES ($1,$2,$3,$4::cidr[],$5,$6,$7,$8,$9,'EUR',$10,$11,$12) RETURNING id::text`,
      [
        a.systemId,
        hash,
        a.enabled ?? true,
        a.allowedCidrs ?? [],
        a.allowedBindTypes ?? ['transmitter', 'receiver', 'transceiver'],
        a.maxBinds ?? 5,
        a.tpsLimit ?? 1000,
        a.maxWindow ?? 50,
        a.defaultValiditySeconds ?? 172_800,
        a.defaultTrafficType ?? 'UNSPECIFIED',
        a.pricePlanId ?? null,
        a.refuseUnrated ?? false,
      ],
    );
    for (const r of this.replicas) await r.ingress.accounts.reload();
    return rows[0]!.id;
  }

  async bind(
    port: number,
    o: Partial<ConnectSmppOptions> & { systemId: string; password: string },
  ): Promise<SmppSession> {
    const s = await connectSmpp({
      host: '127.0.0.1',
      port,
      bindType: 'transceiver',
      enquireLinkMs: 0,
      responseTimeoutMs: 10_000,
      ...o,
    });
    this.clients.push(s);
    return s;
  }

  waitSubmitted(customerMessageId: string): Promise<SmsSubmitted> {
    return waitFor(() => this.submitted.get(customerMessageId), {
      what: `sms.submitted.v1 ${customerMessageId}`,
      timeoutMs: 20_000,
    });
  }

  waitScheduled(customerMessageId: string): Promise<SmsSubmitted> {
    return waitFor(() => this.scheduled.get(customerMessageId), {
      what: `sms.scheduled.v1 ${customerMessageId}`,
      timeoutMs: 20_000,
    });
  }

  /**
   * Ingress has stored every delivery event produced so far (its group committed past them, on every
   * partition) and sent every receipt it stored for `ids` (a receipt reaches the client before it is
   * marked sent): the positive signal before counting receipts.
   */
  async receiptsSettled(ids: string[]): Promise<void> {
    await waitForGroupCommitted({ groupId: this.deliveryGroup, topic: this.topics.delivery.name });
    await waitFor(
      async () =>
        (
          await this.pool.query(
            'SELECT 1 FROM ingress_pending_receipts WHERE message_id = ANY($1::uuid[]) AND sent_at IS NULL',
            [ids],
          )
        ).rowCount === 0,
      { what: 'every stored receipt sent' },
    );
  }

  async teardown(): Promise<void> {
    for (const c of this.clients) c.destroy();
    for (const r of this.replicas) await r.ingress.stop().catch(() => undefined);
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
    await this.producer?.close().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    await this.db?.drop().catch(() => undefined);
    if (this.migrationsDir) await rm(this.migrationsDir, { recursive: true, force: true });
  }
}
