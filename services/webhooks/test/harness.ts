// Test harness: a fresh database (0001, 0610 and the webhooks service's 07xx migrations), isolated topics,
// the webhooks core built in-process (restartable), a producer of sms.delivery.v1 events.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { bearerInterceptor } from '@smshub/auth';
import {
  DeliveryStatus,
  SmsDelivery,
  WebhookServiceClient,
  topics as registry,
  type DeleteEndpointRequest,
  type DeleteEndpointResponse,
  type GetEndpointRequest,
  type GetEndpointResponse,
  type ListAttemptsRequest,
  type ListAttemptsResponse,
  type ReplayRequest,
  type ReplayResponse,
  type RotateSecretRequest,
  type RotateSecretResponse,
  type SetEndpointRequest,
  type SetEndpointResponse,
} from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import {
  createIsolatedTopics,
  createTestDatabase,
  testKafkaAdmin,
  testKafkaBrokers,
  uniqueName,
  type TestDatabase,
} from '@smshub/testing';
import type { Kafka } from 'kafkajs';
import type { WebhooksOptions } from '../src/config.js';
import { uuidv7 } from '../src/store.js';
import { createWebhooks, type Webhooks } from '../src/webhooks.js';

export { uuidv7 };
export const ADMIN_TOKEN = 'webhooks-test-admin-token-0123456789';

export class Harness {
  db!: TestDatabase;
  pool!: Pool;
  topics!: typeof registry;
  kafka!: Kafka;
  producer!: TypedProducer;
  logger!: Logger;
  webhooks!: Webhooks;
  options!: WebhooksOptions;
  client!: WebhookServiceClient;
  readonly groupId = uniqueName('smshub-webhooks');
  private migrationsDir = '';
  private readonly consumers: TypedConsumer[] = [];

  async setup(overrides: Partial<WebhooksOptions> = {}): Promise<void> {
    this.logger = createLogger({
      service: 'webhooks-test',
      level: (process.env.TEST_LOG_LEVEL as 'info') ?? ('silent' as 'info'),
    });
    this.db = await createTestDatabase();
    this.pool = createPool({ connectionString: this.db.url, max: 10 });
    this.migrationsDir = await mkdtemp(path.join(tmpdir(), 'webhooks-migrations-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      if (/^(0001|0610|07\d\d)_.*\.sql$/.test(f))
        await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(this.migrationsDir, f));
    }
    await migrate(this.pool, { dir: this.migrationsDir });
    for (let attempt = 1; ; attempt++) {
      try {
        this.topics = await createIsolatedTopics(registry);
        break;
      } catch (err) {
        if (attempt >= 4) throw err;
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
    this.kafka = createKafka(
      { clientId: uniqueName('webhooks-test'), brokers: testKafkaBrokers() },
      this.logger,
    );
    this.producer = new TypedProducer(this.kafka, this.logger);
    await this.producer.connect();
    this.options = {
      grpcPort: 0,
      adminToken: ADMIN_TOKEN,
      secretKeys: [randomBytes(32)],
      concurrency: 64,
      perAccount: 4,
      timeoutMs: 5_000,
      backoff: { baseMs: 300, maxMs: 2_000 },
      retryForMs: 60_000,
      pollMs: 100,
      retentionDays: 30,
      // the receiver is on loopback
      allowPrivateCallbacks: true,
      groupId: this.groupId,
      ...overrides,
    };
    await this.start();
  }

  /** Builds and starts a webhooks instance on the test's group, database and topics. */
  async start(overrides: Partial<WebhooksOptions> = {}): Promise<void> {
    let joined: Promise<void> | undefined;
    this.webhooks = createWebhooks({
      options: { ...this.options, ...overrides },
      logger: this.logger,
      consumer: (o) => {
        const c = new TypedConsumer(this.kafka, this.logger, {
          ...o,
          fromBeginning: true,
          producer: this.producer,
          commitIntervalMs: 200,
        });
        joined = c.waitForAssignment(60_000);
        this.consumers.push(c);
        return Promise.resolve(c);
      },
      pool: this.pool,
      topics: this.topics,
    });
    await this.webhooks.start();
    await joined;
    this.client?.close();
    this.client = this.clientWith(ADMIN_TOKEN);
  }

  /** A WebhookService client of the running instance with `token`. */
  clientWith(token: string): WebhookServiceClient {
    return new WebhookServiceClient(
      `127.0.0.1:${this.webhooks.grpcPort}`,
      grpc.credentials.createInsecure(),
      {
        interceptors: [bearerInterceptor(token)],
      },
    );
  }

  /** The client's unary methods as promises (typed per method). */
  get api() {
    const c = this.client;
    const p =
      <Req, Res>(
        fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall,
      ) =>
      (req: Req) =>
        new Promise<Res>((resolve, reject) => {
          fn.call(c, req, (err, res) => (err ? reject(err) : resolve(res)));
        });
    return {
      setEndpoint: p<SetEndpointRequest, SetEndpointResponse>(c.setEndpoint),
      getEndpoint: p<GetEndpointRequest, GetEndpointResponse>(c.getEndpoint),
      rotateSecret: p<RotateSecretRequest, RotateSecretResponse>(c.rotateSecret),
      deleteEndpoint: p<DeleteEndpointRequest, DeleteEndpointResponse>(c.deleteEndpoint),
      listAttempts: p<ListAttemptsRequest, ListAttemptsResponse>(c.listAttempts),
      replay: p<ReplayRequest, ReplayResponse>(c.replay),
    };
  }

  /** Stops the instance (offsets committed, attempts in flight finished) and starts a new one. */
  async restart(overrides: Partial<WebhooksOptions> = {}): Promise<void> {
    await this.webhooks.stop();
    await this.start(overrides);
  }

  /** Publishes an sms.delivery.v1 event of `messageId` for `accountId`. */
  async delivery(init: {
    messageId: string;
    accountId: string;
    status?: DeliveryStatus;
    final?: boolean;
    revision?: number;
    callbackUrl?: string;
    clientReference?: string;
  }): Promise<void> {
    const final = init.final ?? true;
    await this.producer.produce(
      this.topics.delivery,
      SmsDelivery.fromPartial({
        context: {
          messageId: init.messageId,
          accountId: init.accountId,
          customerMessageId: init.messageId,
          source: { ton: 5, npi: 0, address: 'ACME' },
          destination: { ton: 1, npi: 1, address: '447400123456' },
          receivedAt: new Date(),
          callbackUrl: init.callbackUrl ?? '',
          clientReference: init.clientReference ?? '',
        },
        status: init.status ?? DeliveryStatus.DELIVERY_STATUS_DELIVERED,
        final,
        segments: 1,
        revision: init.revision ?? 1,
        updatedAt: new Date(),
        ...(final ? { doneAt: new Date() } : {}),
      }),
    );
  }

  async teardown(): Promise<void> {
    this.client?.close();
    await this.webhooks?.stop().catch(() => undefined);
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
    await this.producer?.close().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    if (this.topics !== undefined) {
      const admin = await testKafkaAdmin();
      await admin
        .deleteTopics({ topics: [...Object.values(this.topics).map((t) => t.name), `${this.groupId}.dlq`] })
        .catch(() => undefined);
      await admin.disconnect();
    }
    await this.db?.drop().catch(() => undefined);
    if (this.migrationsDir) await rm(this.migrationsDir, { recursive: true, force: true });
  }
}
