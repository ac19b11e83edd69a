// Test harness: a fresh database (0001 + the scheduler's 08xx migrations), isolated topics, scheduler
// replicas built in-process from their core, a producer of sms.scheduled.v1 and watchers of what comes out
// on sms.submitted.v1 and sms.rejected.v1.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HoldReason, SmsSubmitted, topics as registry, type SmsRejected } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import {
  createIsolatedTopics,
  createTestDatabase,
  testKafkaBrokers,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@smshub/testing';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import {
  createScheduler,
  DEFAULT_SCHEDULER_OPTIONS,
  type Scheduler,
  type SchedulerOptions,
} from '../src/scheduler.js';

export interface Released {
  value: SmsSubmitted;
  /** When the watcher saw it (local clock). */
  seenAt: number;
}

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
  readonly groupId = uniqueName('smshub-scheduler');
  /** Every release seen on sms.submitted.v1, in order (a message twice = released twice). */
  readonly released: Released[] = [];
  readonly rejected: SmsRejected[] = [];
  private migrationsDir = '';
  private readonly consumers: TypedConsumer[] = [];
  private readonly schedulers: Scheduler[] = [];
  private readonly pools: Pool[] = [];

  async setup(): Promise<void> {
    this.logger = createLogger({
      service: 'scheduler-test',
      level: (process.env.TEST_LOG_LEVEL as 'info') ?? ('silent' as 'info'),
    });
    this.db = await createTestDatabase();
    this.pool = createPool({ connectionString: this.db.url, max: 10 });
    this.migrationsDir = await mkdtemp(path.join(tmpdir(), 'scheduler-migrations-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      if (/^(0001|08\d\d)_.*\.sql$/.test(f))
        await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(this.migrationsDir, f));
    }
    await migrate(this.pool, { dir: this.migrationsDir });
    this.topics = await withRetries(() => createIsolatedTopics(registry));
    this.kafka = createKafka(
      { brokers: testKafkaBrokers(), clientId: uniqueName('scheduler-test'), ssl: false },
      this.logger,
    );
    this.producer = new TypedProducer(this.kafka, this.logger, { ackTimeoutMs: 10_000 });
    await this.producer.connect();
    const watch = await this.consumer({ groupId: uniqueName('watch'), fromBeginning: true });
    watch.on(this.topics.submitted, (r) => void this.released.push({ value: r.value, seenAt: Date.now() }));
    watch.on(this.topics.rejected, (r) => void this.rejected.push(r.value));
    const assigned = watch.waitForAssignment();
    await watch.start();
    await assigned;
  }

  consumer = async (o: { groupId: string; fromBeginning: boolean }): Promise<TypedConsumer> => {
    const c = new TypedConsumer(this.kafka, this.logger, { ...o, producer: this.producer });
    this.consumers.push(c);
    const start = c.start.bind(c);
    c.start = () => withRetries(start);
    return c;
  };

  /** A scheduler replica; `producer` / `pool` of its own to simulate a crash or a hung broker. */
  async startScheduler(
    overrides: Partial<SchedulerOptions> = {},
    extra: { producer?: TypedProducer; pool?: Pool } = {},
  ): Promise<Scheduler> {
    const s = createScheduler({
      options: {
        ...DEFAULT_SCHEDULER_OPTIONS,
        replicaId: uniqueName('s'),
        groupId: this.groupId,
        pollMs: 50,
        ...overrides,
      },
      logger: this.logger,
      pool: extra.pool ?? this.pool,
      producer: extra.producer ?? this.producer,
      consumer: this.consumer,
      topics: this.topics,
    });
    await s.start();
    this.schedulers.push(s);
    return s;
  }

  /** Forgets a replica that cannot stop (its publications never return): the test's simulated crash. */
  abandon(s: Scheduler): void {
    const i = this.schedulers.indexOf(s);
    if (i >= 0) this.schedulers.splice(i, 1);
  }

  /** Stops every replica started so far. */
  async stopAll(): Promise<void> {
    for (const s of this.schedulers.splice(0)) await s.stop().catch(() => undefined);
  }

  /** A pool of its own (closed at teardown). */
  newPool(max = 4): Pool {
    const p = createPool({ connectionString: this.db.url, max });
    this.pools.push(p);
    return p;
  }

  /** Publishes a held message on sms.scheduled.v1, due at `dueAt`. */
  async hold(dueAt: Date, extra: Partial<SmsSubmitted> = {}): Promise<SmsSubmitted> {
    const messageId = randomUUID();
    const m = SmsSubmitted.fromPartial({
      messageId,
      accountId: 'acc-1',
      systemId: 'esme1',
      customerMessageId: messageId,
      source: { ton: 5, npi: 0, address: 'ACME' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      shortMessage: Buffer.from('held'),
      registeredDelivery: 1,
      receivedAt: new Date(),
      validityUntil: new Date(Date.now() + 3600_000),
      scheduleAt: dueAt,
      scheduleDeliveryTimeRaw: '000000000010000R',
      holdUntil: dueAt,
      holdReason: HoldReason.HOLD_REASON_SCHEDULE,
      ...extra,
    });
    await this.producer.produce(this.topics.scheduled, m);
    return m;
  }

  releasesOf(messageId: string): Released[] {
    return this.released.filter((r) => r.value.messageId === messageId);
  }

  waitReleased(messageId: string, timeoutMs = 20_000): Promise<Released> {
    return waitFor(() => this.releasesOf(messageId)[0], { what: `release of ${messageId}`, timeoutMs });
  }

  async stateOf(messageId: string): Promise<{ state: string; done_by: string | null } | undefined> {
    const r = await this.pool.query<{ state: string; done_by: string | null }>(
      'SELECT state, done_by FROM scheduler_held WHERE message_id = $1',
      [messageId],
    );
    return r.rows[0];
  }

  async teardown(): Promise<void> {
    for (const s of this.schedulers) await s.stop().catch(() => undefined);
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
    await this.producer?.close().catch(() => undefined);
    for (const p of this.pools) await p.end().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    await this.db?.drop().catch(() => undefined);
    if (this.migrationsDir) await rm(this.migrationsDir, { recursive: true, force: true });
  }
}
