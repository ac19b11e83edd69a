// Test harness: a fresh database with every migration, isolated config.changes.v1 / balances.v1 topics,
// the admin server in-process on a free port, a gRPC client and collectors of what the server publishes.
import * as grpc from '@grpc/grpc-js';
import {
  AdminServiceClient,
  topics as registry,
  type AccountBalance,
  type AuditEvent,
  type ConfigChange,
} from '@smshub/contracts';
import { createPool, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import {
  createIsolatedTopics,
  createTestDatabase,
  testKafkaAdmin,
  testKafkaBrokers,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@smshub/testing';
import { startAdmin } from '../src/admin.js';
import type { AdminHandlers, GrpcServer } from '../src/server.js';

export const TOKEN = 'test-admin-token-0123456789';
export const CONNECTOR_KEY = Buffer.alloc(32, 7);

type Req<M extends keyof AdminHandlers> = Parameters<AdminHandlers[M]>[0];
type Res<M extends keyof AdminHandlers> = Awaited<ReturnType<AdminHandlers[M]>>;

export class AdminHarness {
  db!: TestDatabase;
  pool!: Pool;
  logger!: Logger;
  producer!: TypedProducer;
  server!: GrpcServer;
  client!: AdminServiceClient;
  topics!: Pick<typeof registry, 'configChanges' | 'balances' | 'audit'>;
  readonly changes: ConfigChange[] = [];
  readonly balances: AccountBalance[] = [];
  /** What admin published on audit.v1. */
  readonly audits: AuditEvent[] = [];
  private consumers: TypedConsumer[] = [];

  async setup(): Promise<void> {
    this.logger = createLogger({
      service: 'admin-test',
      level: (process.env.TEST_LOG_LEVEL as 'info') ?? ('silent' as 'info'),
    });
    this.db = await createTestDatabase();
    this.pool = createPool({ connectionString: this.db.url, max: 5 });
    await migrate(this.pool);
    this.topics = await createIsolatedTopics({
      configChanges: registry.configChanges,
      balances: registry.balances,
      audit: registry.audit,
    });
    const kafka = createKafka(
      { clientId: uniqueName('admin-test'), brokers: testKafkaBrokers() },
      this.logger,
    );
    this.producer = new TypedProducer(kafka, this.logger);
    await this.producer.connect();
    const consumer = new TypedConsumer(kafka, this.logger, {
      groupId: uniqueName('admin-test-collector'),
      producer: this.producer,
      fromBeginning: true,
    })
      .on(this.topics.configChanges, (r) => {
        this.changes.push(r.value);
      })
      .on(this.topics.balances, (r) => {
        this.balances.push(r.value);
      })
      .on(this.topics.audit, (r) => {
        this.audits.push(r.value);
      });
    this.consumers.push(consumer);
    const joined = consumer.waitForAssignment(60_000);
    await consumer.start();
    await joined;
    this.server = await startAdmin({
      pool: this.pool,
      producer: this.producer,
      topics: this.topics,
      logger: this.logger,
      token: TOKEN,
      connectorKey: CONNECTOR_KEY,
      server: { port: 0, host: '127.0.0.1' },
      actor: 'admin-test',
      passwordHashOptions: { memoryCost: 1024, timeCost: 1 },
    });
    this.client = new AdminServiceClient(`127.0.0.1:${this.server.port}`, grpc.credentials.createInsecure());
  }

  /** Calls an RPC with the bearer token (or `token`, or none when null). */
  call<M extends keyof AdminHandlers>(method: M, req: Req<M>, token: string | null = TOKEN): Promise<Res<M>> {
    const md = new grpc.Metadata();
    if (token !== null) md.set('authorization', `Bearer ${token}`);
    const fn = (this.client as unknown as Record<string, (...a: unknown[]) => void>)[method]!.bind(
      this.client,
    );
    return new Promise((resolve, reject) => {
      fn(req, md, (err: grpc.ServiceError | null, res: Res<M>) => (err ? reject(err) : resolve(res)));
    });
  }

  /** The error of a call that must fail. */
  async fail<M extends keyof AdminHandlers>(method: M, req: Req<M>, token: string | null = TOKEN) {
    try {
      await this.call(method, req, token);
    } catch (err) {
      return err as grpc.ServiceError;
    }
    throw new Error(`${method} succeeded, expected a failure`);
  }

  /** Waits for a config change matching `pred` and returns it. */
  async change(pred: (c: ConfigChange) => boolean): Promise<ConfigChange> {
    return waitFor(() => this.changes.find(pred), { timeoutMs: 15_000, what: 'config change' });
  }

  async teardown(): Promise<void> {
    this.client?.close();
    await this.server?.stop(1_000).catch(() => undefined);
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
    await this.producer?.close().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    if (this.topics) {
      const admin = await testKafkaAdmin();
      await admin
        .deleteTopics({ topics: Object.values(this.topics).map((t) => t.name) })
        .catch(() => undefined);
      await admin.disconnect();
    }
    await this.db?.drop().catch(() => undefined);
  }
}
