// Test harness: a fresh database (0001 + egress's own migrations), isolated topics, egress cores built
// in-process from explicit dependencies, and collectors of what egress publishes.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import {
  SmsRouted,
  topics as registry,
  type SmsDispatched,
  type SmsMo,
  type SmsReceiptRaw,
  type SmsSubmitted,
} from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer, type ConsumerOptions } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import {
  createIsolatedTopics,
  createTestDatabase,
  ensureTestTopics,
  testKafkaBrokers,
  uniqueName,
  type TestDatabase,
} from '@smshub/testing';
import type { Kafka } from 'kafkajs';
import { createEgressCore, type EgressCore, type EgressCoreConfig } from '../src/core.js';
import { ConnectorStore, type ConnectorInput } from '../src/connector-store.js';
import { encodeUcs2 } from '@smshub/smpp';

export type ConnectorInit = Partial<ConnectorInput> & { id: string; port: number };

export class Harness {
  db!: TestDatabase;
  pool!: Pool;
  topics!: typeof registry;
  kafka!: Kafka;
  producer!: TypedProducer;
  logger!: Logger;
  readonly secretKey = randomBytes(32);
  readonly group = uniqueName('egress');
  /** Group of the collector of dispatched/receiptRaw/mo (commits after each batch it collected). */
  readonly watchGroup = uniqueName('watch');
  private migrationsDir = '';
  private readonly cores: EgressCore[] = [];
  private readonly consumers: TypedConsumer[] = [];
  readonly dispatched: SmsDispatched[] = [];
  readonly receipts: SmsReceiptRaw[] = [];
  readonly mo: SmsMo[] = [];

  async setup(): Promise<void> {
    this.logger = createLogger({
      service: 'egress-test',
      level: (process.env['TEST_LOG_LEVEL'] as 'info') ?? ('silent' as 'info'),
    });
    this.db = await createTestDatabase();
    this.pool = createPool({ connectionString: this.db.url, max: 10 });
    // Only the shared accounts table and egress's own migrations.
    this.migrationsDir = await mkdtemp(path.join(tmpdir(), 'egress-migrations-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      if (/^(0001|02\d\d)_.*\.sql$/.test(f))
        await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(this.migrationsDir, f));
    }
    await migrate(this.pool, { dir: this.migrationsDir });
    this.topics = await createIsolatedTopics(registry);
    this.kafka = createKafka(
      { brokers: testKafkaBrokers(), clientId: uniqueName('egress-test'), ssl: false },
      this.logger,
    );
    this.producer = new TypedProducer(this.kafka, this.logger, { ackTimeoutMs: 10_000 });
    await this.producer.connect();
    const c = await this.consumer({ groupId: this.watchGroup, fromBeginning: true });
    c.on(this.topics.dispatched, (r) => void this.dispatched.push(r.value));
    c.on(this.topics.receiptRaw, (r) => void this.receipts.push(r.value));
    c.on(this.topics.mo, (r) => void this.mo.push(r.value));
    const assigned = c.waitForAssignment();
    await c.start();
    await assigned;
  }

  consumer = async (o: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer> => {
    const c = new TypedConsumer(this.kafka, this.logger, { ...o, producer: this.producer });
    // Its dead-letter topic made (with a leader) here, so that its start creates nothing.
    await ensureTestTopics([c.deadLetterTopic]);
    this.consumers.push(c);
    return c;
  };

  async addConnector(c: ConnectorInit): Promise<void> {
    const { port, ...rest } = c;
    await this.coresStore().upsert({
      name: c.id,
      enabled: true,
      host: '127.0.0.1',
      tls: false,
      systemId: 'hub',
      password: 'secret',
      systemType: '',
      interfaceVersion: 0x34,
      bindMode: 'transceiver',
      sessions: 1,
      windowSize: 10,
      maxSubmitRate: 1000,
      responseTimeoutMs: 2000,
      enquireLinkMs: 5000,
      dataCodings: [0, 3, 8],
      gsm7Packed: false,
      segmentation: 'udh8',
      messageIdFormat: 'hex_resp_decimal_receipt',
      receiptTimeZone: 'UTC',
      defaultSourceTon: 0,
      defaultSourceNpi: 0,
      ...rest,
      port,
    } as ConnectorInput);
  }

  private coresStore(): ConnectorStore {
    return new ConnectorStore(this.pool, this.secretKey);
  }

  coreConfig(o: Partial<EgressCoreConfig>): EgressCoreConfig {
    return {
      replicaId: uniqueName('r'),
      tpsHeadroom: 0.05,
      retry: { maxRetriesPerConnector: 2, backoff: { initialMs: 50, maxMs: 200 } },
      reconnect: { initialMs: 100, maxMs: 500 },
      unavailableWaitMs: 5000,
      secretKey: this.secretKey,
      batchConcurrency: 200,
      groupId: this.group,
      drainMs: 2000,
      ...o,
    };
  }

  private coreDeps(config: EgressCoreConfig) {
    return {
      config,
      logger: this.logger,
      producer: this.producer,
      consumer: this.consumer,
      pool: this.pool,
      topics: this.topics,
    };
  }

  async startCore(o: Partial<EgressCoreConfig> = {}): Promise<EgressCore> {
    const core = createEgressCore(this.coreDeps(this.coreConfig(o)));
    this.cores.push(core);
    await core.start();
    return core;
  }

  /** Publishes a routed message with `text` (UCS2 from the customer) to the given candidates. */
  async route(candidates: string[], text: string, extra: Partial<SmsSubmitted> = {}): Promise<string> {
    const messageId = uuidv7();
    const value = SmsRouted.fromPartial({
      message: {
        messageId,
        accountId: 'acc_1',
        customerMessageId: messageId,
        source: { ton: 5, npi: 0, address: 'ACME' },
        destination: {
          ton: 1,
          npi: 1,
          address: `4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`,
        },
        dataCoding: 8,
        shortMessage: encodeUcs2(text),
        registeredDelivery: 1,
        receivedAt: new Date(),
        ...extra,
      },
      candidates: candidates.map((connectorId) => ({ connectorId, ruleId: 'rr_1', reason: 'test' })),
      routedAt: new Date(),
    });
    await this.producer.produce(this.topics.routed, value);
    return messageId;
  }

  dispatchesOf(messageId: string): SmsDispatched[] {
    return this.dispatched.filter((d) => d.context?.messageId === messageId);
  }

  async teardown(): Promise<void> {
    for (const c of this.cores) await c.crash().catch(() => undefined);
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
    await this.producer?.close().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    await this.db?.drop().catch(() => undefined);
    if (this.migrationsDir) await rm(this.migrationsDir, { recursive: true, force: true });
  }
}
