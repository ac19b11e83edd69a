// Test harness: a fresh database (0001 + dlr's own 04xx migrations), isolated topics, the dlr core built
// in-process, collectors of what it produces, and builders of the input events.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { bearerInterceptor } from '@smshub/auth';
import {
  DispatchOutcome,
  TrafficType,
  MessageServiceClient,
  SmsDispatched,
  SmsReceiptRaw,
  SmsSubmitted,
  topics as registry,
  type DeliveryStats,
  type GetMessageRequest,
  type GetMessageResponse,
  type ListMessagesRequest,
  type ListMessagesResponse,
  type MessageContext,
  type SmsDelivery,
} from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer, type ConsumedRecord } from '@smshub/kafka';
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
import type { Consumer, Kafka } from 'kafkajs';
import { context } from '@opentelemetry/api';
import { createDlr, type Dlr } from '../src/dlr.js';
import {
  FETCH_MAX_WAIT_MS_DEFAULT,
  FETCH_MIN_BYTES_DEFAULT,
  RECEIPT_HOLD_MS_DEFAULT,
  type DlrOptions,
} from '../src/config.js';

/** A UUIDv7 (time-ordered) in lowercase canonical text. */

/** The bootstrap admin credential of the test dlr (its MessageService refuses calls without a token). */
export const ADMIN_TOKEN = 'dlr-test-admin-token-0123456789';

export function uuidv7(time = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(time, 0, 6);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** yyMMddHHmm in UTC, as receipt texts write dates. */
export function receiptDate(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

/** A record as the consumer hands it to a batch handler (partition 0), for calling a Joiner directly. */
export function consumedRecord<T>(
  topic: string,
  value: T,
  bytes: Buffer,
  offset = 0,
  time = Date.now(),
): ConsumedRecord<T> {
  return {
    topic,
    partition: 0,
    offset: String(offset),
    key: null,
    value,
    bytes,
    headers: {},
    timestamp: String(time),
    traceContext: context.active(),
  };
}

/** A promise and the function that resolves it: one test step waits until another opens it. */
export function latch(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/**
 * A dispatch accepted by `connector` with supplier id `supplierId` and its DELIVRD receipt, as consumed records
 * at `offset` (the receipt's record stamped `receiptTime`).
 */
export function dispatchAndReceipt(
  topics: typeof registry,
  connector: string,
  supplierId: string,
  offset = 0,
  receiptTime = Date.now(),
) {
  const hubId = uuidv7();
  const now = new Date();
  const dispatch = SmsDispatched.fromPartial({
    context: { messageId: hubId, accountId: 'acc', systemId: 'esme' },
    partNumber: 1,
    partTotal: 1,
    connectorId: connector,
    supplierMessageId: supplierId,
    supplierMessageIdNormalised: supplierId,
    attempt: 1,
    submittedAt: now,
    respondedAt: now,
    outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
    segments: 1,
  });
  const receiptId = uuidv7();
  const stamp = receiptDate(now.getTime());
  const receipt = SmsReceiptRaw.fromPartial({
    receiptId,
    connectorId: connector,
    receivedAt: now,
    rawText: Buffer.from(
      `id:${supplierId} sub:001 dlvrd:001 submit date:${stamp} done date:${stamp} stat:DELIVRD err:000 text:`,
      'latin1',
    ),
    esmClass: 0x04,
    supplierMessageIdNormalised: supplierId,
  });
  return {
    hubId,
    receiptId,
    dispatch: consumedRecord(
      topics.dispatched.name,
      dispatch,
      Buffer.from(SmsDispatched.encode(dispatch).finish()),
      offset,
    ),
    receipt: consumedRecord(
      topics.receiptRaw.name,
      receipt,
      Buffer.from(SmsReceiptRaw.encode(receipt).finish()),
      offset,
      receiptTime,
    ),
  };
}

const BASE_CONTEXT = {
  accountId: 'acc_1',
  systemId: 'cust1',
  source: { ton: 5, npi: 0, address: 'ACME' },
  registeredDelivery: 1,
  dataCoding: 0,
  trafficType: TrafficType.TRAFFIC_TYPE_OTP,
  receiptText: Buffer.alloc(0),
  channel: 1,
  callbackUrl: '',
  clientReference: '',
};

export interface MessageInit {
  hubId?: string;
  accountId?: string;
  destination?: string;
  mcc?: string;
  mnc?: string;
  receivedAt?: Date;
}

export class Harness {
  db!: TestDatabase;
  pool!: Pool;
  topics!: typeof registry;
  kafka!: Kafka;
  producer!: TypedProducer;
  logger!: Logger;
  dlr!: Dlr;
  options!: DlrOptions;
  client!: MessageServiceClient;
  readonly groupId = uniqueName('smshub-dlr');
  /** Group of the test's reader of sms.delivery.v1 (fills `deliveries`). */
  readonly deliveriesGroup = uniqueName('dlr-test-deliveries');
  private readonly statsGroup = uniqueName('dlr-test-stats');
  /** Group of the test's own reader of dlr.parts.v1. */
  readonly partsGroup = uniqueName('dlr-test-parts');
  /** Hub ids of the part states (part number > 0) seen on dlr.parts.v1, expiry orders left out. */
  readonly partStates: string[] = [];
  /** Every sms.delivery.v1 event, by hub id, in arrival order. */
  readonly deliveries = new Map<string, SmsDelivery[]>();
  /** Latest delivery.stats.v1 record per key. */
  readonly stats = new Map<string, DeliveryStats>();
  /** Dead-letter copies: receipt id and reason header. */
  readonly deadLetters: { receiptId: string; reason: string; error: string }[] = [];
  private migrationsDir = '';
  private readonly consumers: TypedConsumer[] = [];
  private dlqConsumer?: Consumer;

  async setup(overrides: Partial<DlrOptions> = {}): Promise<void> {
    this.logger = createLogger({
      service: 'dlr-test',
      level: (process.env.TEST_LOG_LEVEL as 'info') ?? ('silent' as 'info'),
    });
    this.db = await createTestDatabase();
    this.pool = createPool({ connectionString: this.db.url, max: 10 });
    // 061x: auth_tokens, which MessageService verifies tokens against.
    this.migrationsDir = await mkdtemp(path.join(tmpdir(), 'dlr-migrations-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      if (/^(0001|04\d\d|061\d)_.*\.sql$/.test(f))
        await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(this.migrationsDir, f));
    }
    await migrate(this.pool, { dir: this.migrationsDir });
    // Creating topics on a busy shared broker sometimes fails while leaders are being elected ("does not
    // host this topic-partition"); retried here, dead-letter topics included, so consumers find theirs.
    for (let attempt = 1; ; attempt++) {
      try {
        this.topics = await createIsolatedTopics(registry);
        const admin = await testKafkaAdmin();
        try {
          await admin
            .createTopics({
              waitForLeaders: true,
              topics: [this.groupId, this.deliveriesGroup, this.statsGroup, this.partsGroup].map((g) => ({
                topic: `${g}.dlq`,
                numPartitions: 1,
                replicationFactor: 1,
              })),
            })
            .catch((err: { type?: string }) => {
              if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
            });
        } finally {
          await admin.disconnect();
        }
        break;
      } catch (err) {
        if (attempt >= 4) throw err;
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
    this.kafka = createKafka({ clientId: uniqueName('dlr-test'), brokers: testKafkaBrokers() }, this.logger);
    this.producer = new TypedProducer(this.kafka, this.logger);
    await this.producer.connect();

    this.options = {
      grpcPort: 0,
      adminToken: ADMIN_TOKEN,
      parkTtlMs: 8_000,
      defaultValidityMs: 48 * 3_600_000,
      expiryGraceMs: 0,
      retentionDays: 30,
      statsIntervalMs: 400,
      intermediateReceipts: false,
      sweepIntervalMs: 250,
      retentionIntervalMs: 3_600_000,
      maxMessagesInMemory: 10_000,
      partitionConcurrency: 4,
      fetchMinBytes: FETCH_MIN_BYTES_DEFAULT,
      fetchMaxWaitMs: FETCH_MAX_WAIT_MS_DEFAULT,
      idSetting: () => ({ format: 'auto' }),
      groupId: this.groupId,
      // as the service runs (RECEIPT_HOLD); the tests of the parking path itself set 0
      receiptHoldMs: RECEIPT_HOLD_MS_DEFAULT,
      ...overrides,
    };

    const deliveries = new TypedConsumer(this.kafka, this.logger, {
      groupId: this.deliveriesGroup,
      producer: this.producer,
    }).onBatch(this.topics.delivery, (records) => {
      for (const r of records) {
        const id = r.value.context?.messageId ?? '';
        const list = this.deliveries.get(id) ?? [];
        list.push(r.value);
        this.deliveries.set(id, list);
      }
    });
    const stats = new TypedConsumer(this.kafka, this.logger, {
      groupId: this.statsGroup,
      producer: this.producer,
    }).on(this.topics.deliveryStats, (r) => {
      this.stats.set(r.key ?? '', r.value);
    });
    const parts = new TypedConsumer(this.kafka, this.logger, {
      groupId: this.partsGroup,
      producer: this.producer,
      commitIntervalMs: 100,
    }).on(this.topics.partStatus, (r) => {
      if ((r.value.part?.partNumber ?? 0) > 0) this.partStates.push(r.value.context?.messageId ?? '');
    });
    this.consumers.push(deliveries, stats, parts);

    const joined = Promise.all([...[deliveries, stats, parts].map((c) => c.waitForAssignment(60_000))]);
    await Promise.all([deliveries.start(), stats.start(), parts.start()]);
    await joined;
    await this.startDlr();

    this.dlqConsumer = this.kafka.consumer({ groupId: uniqueName('dlr-test-dlq'), maxWaitTimeInMs: 100 });
    await this.dlqConsumer.connect();
    await this.dlqConsumer.subscribe({ topic: this.dlr.deadLetterTopic, fromBeginning: true });
    await this.dlqConsumer.run({
      eachMessage: async ({ message }) => {
        const receipt = SmsReceiptRaw.decode(message.value ?? Buffer.alloc(0));
        this.deadLetters.push({
          receiptId: receipt.receiptId,
          reason: message.headers?.['x-dlq-reason']?.toString() ?? '',
          error: message.headers?.['x-dlq-error']?.toString() ?? '',
        });
      },
    });

    this.client = new MessageServiceClient(
      `127.0.0.1:${this.dlr.grpcPort}`,
      grpc.credentials.createInsecure(),
      { interceptors: [bearerInterceptor(ADMIN_TOKEN)] },
    );
  }

  /** Builds and starts a dlr instance (fresh memory) on the test's group, database and topics. */
  async startDlr(): Promise<void> {
    let joined: Promise<void> | undefined;
    this.dlr = createDlr({
      options: this.options,
      logger: this.logger,
      producer: this.producer,
      consumer: (o) => {
        const c = new TypedConsumer(this.kafka, this.logger, {
          ...o,
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
    await this.dlr.start();
    await joined;
  }

  /**
   * Stops the dlr instance (offsets committed) and starts a new one: a restart. `replay` topics are read
   * again from their start by the new instance, as after a crash before any of their offsets was committed.
   */
  async restartDlr(replay: string[] = []): Promise<void> {
    await this.dlr.stop();
    this.client.close();
    if (replay.length > 0) {
      const admin = await testKafkaAdmin();
      try {
        for (const topic of replay)
          await admin.resetOffsets({ groupId: this.groupId, topic, earliest: true });
      } finally {
        await admin.disconnect();
      }
    }
    await this.startDlr();
    this.client = new MessageServiceClient(
      `127.0.0.1:${this.dlr.grpcPort}`,
      grpc.credentials.createInsecure(),
      { interceptors: [bearerInterceptor(ADMIN_TOKEN)] },
    );
  }

  async teardown(): Promise<void> {
    this.client?.close();
    await this.dlqConsumer?.disconnect().catch(() => undefined);
    await this.dlr?.stop().catch(() => undefined);
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
    await this.producer?.close().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    if (this.topics !== undefined) {
      // the broker is shared by many test runs: leave no topics behind
      const admin = await testKafkaAdmin();
      await admin
        .deleteTopics({
          topics: [
            ...Object.values(this.topics).map((t) => t.name),
            ...[this.groupId, this.deliveriesGroup, this.statsGroup, this.partsGroup].map((g) => `${g}.dlq`),
          ],
        })
        .catch(() => undefined);
      await admin.disconnect();
    }
    await this.db?.drop().catch(() => undefined);
    if (this.migrationsDir) await rm(this.migrationsDir, { recursive: true, force: true });
  }

  // ---- input events ----

  context(m: MessageInit & { hubId: string }): MessageContext {
    return {
      ...BASE_CONTEXT,
      messageId: m.hubId,
      accountId: m.accountId ?? BASE_CONTEXT.accountId,
      customerMessageId: m.hubId.slice(-8),
      destination: { ton: 1, npi: 1, address: m.destination ?? '447700900123' },
      receivedAt: m.receivedAt ?? new Date(),
      destinationInfo: {
        countryCode: 'GB',
        mcc: m.mcc ?? '234',
        mnc: m.mnc ?? '15',
        matchedPrefix: '4477',
        ported: false,
        source: 0,
      },
    };
  }

  async submit(m: MessageInit & { hubId: string; validityUntil?: Date }): Promise<void> {
    const ctx = this.context(m);
    await this.producer.produce(
      this.topics.submitted,
      SmsSubmitted.fromPartial({
        messageId: m.hubId,
        accountId: ctx.accountId,
        systemId: ctx.systemId,
        source: ctx.source,
        destination: ctx.destination,
        registeredDelivery: 1,
        shortMessage: Buffer.from('Your code is 123456'),
        receivedAt: ctx.receivedAt,
        customerMessageId: ctx.customerMessageId,
        trafficType: ctx.trafficType,
        ...(m.validityUntil ? { validityUntil: m.validityUntil } : {}),
      }),
    );
  }

  async dispatch(
    m: MessageInit & { hubId: string },
    d: {
      connectorId: string;
      supplierId?: string;
      normalised?: string;
      partNumber?: number;
      partTotal?: number;
      outcome?: DispatchOutcome;
      commandStatus?: number;
      finalFailure?: boolean;
      attempt?: number;
    },
  ): Promise<void> {
    const now = new Date();
    await this.producer.produce(
      this.topics.dispatched,
      SmsDispatched.fromPartial({
        context: this.context(m),
        partNumber: d.partNumber ?? 1,
        partTotal: d.partTotal ?? 1,
        connectorId: d.connectorId,
        supplierMessageId: d.supplierId ?? '',
        supplierMessageIdNormalised: d.normalised ?? '',
        commandStatus: d.commandStatus ?? 0,
        attempt: d.attempt ?? 1,
        submittedAt: now,
        respondedAt: now,
        outcome: d.outcome ?? DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
        finalFailure: d.finalFailure ?? false,
        segments: 1,
      }),
    );
  }

  /** A supplier receipt; returns its receipt id. */
  async receipt(r: {
    connectorId: string;
    textId?: string;
    tlvId?: string;
    normalised?: string;
    stat?: string;
    err?: string;
    receiptId?: string;
  }): Promise<string> {
    const now = Date.now();
    const receiptId = r.receiptId ?? uuidv7();
    const text =
      `${r.textId === undefined ? '' : `id:${r.textId} `}sub:001 dlvrd:001 submit date:${receiptDate(now)} done date:${receiptDate(now)} ` +
      `stat:${r.stat ?? 'DELIVRD'} err:${r.err ?? '000'} text:`;
    await this.producer.produce(
      this.topics.receiptRaw,
      SmsReceiptRaw.fromPartial({
        receiptId,
        connectorId: r.connectorId,
        receivedAt: new Date(now),
        rawText: Buffer.from(text, 'latin1'),
        esmClass: 0x04,
        receiptedMessageId: r.tlvId ?? '',
        supplierMessageIdNormalised: r.normalised ?? '',
      }),
    );
    return receiptId;
  }

  // ---- observations ----

  finals(hubId: string): SmsDelivery[] {
    return (this.deliveries.get(hubId) ?? []).filter((d) => d.final);
  }

  async waitFinal(hubId: string, timeoutMs = 20_000): Promise<SmsDelivery> {
    return waitFor(() => this.finals(hubId)[0], { what: `final delivery of ${hubId}`, timeoutMs });
  }

  /** Resolves once the dlr group has committed every record currently in `topic`. */
  async waitCaughtUp(topic: string, timeoutMs = 20_000): Promise<void> {
    const admin = await testKafkaAdmin();
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      await waitFor(
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
          return ends.every((e) => {
            const c = committed?.partitions.find((p) => p.partition === e.partition);
            return Number(e.high) === 0 || (c !== undefined && Number(c.offset) >= Number(e.high));
          });
        },
        { what: `dlr caught up on ${topic}`, timeoutMs },
      );
    } finally {
      await admin.disconnect();
    }
  }

  async row(
    hubId: string,
  ): Promise<{ status: number; final: boolean; revision: number; parts_delivered: number } | undefined> {
    const r = await this.pool.query<{
      status: number;
      final: boolean;
      revision: number;
      parts_delivered: number;
    }>('SELECT status, final, revision, parts_delivered FROM dlr_messages WHERE message_id = $1', [hubId]);
    return r.rows[0];
  }

  getMessage(req: Partial<GetMessageRequest>): Promise<GetMessageResponse> {
    return new Promise((resolve, reject) =>
      this.client.getMessage({ messageId: '', customerMessageId: '', accountId: '', ...req }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  }

  listMessages(req: Partial<ListMessagesRequest>): Promise<ListMessagesResponse> {
    return new Promise((resolve, reject) =>
      this.client.listMessages(
        { accountId: '', statuses: [], destinationPrefix: '', pageSize: 0, pageToken: '', ...req },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
  }

  /** grpc.health.v1.Health/Check for the whole server, as raw HealthCheckResponse bytes. */
  healthCheck(): Promise<Buffer> {
    const c = new grpc.Client(`127.0.0.1:${this.dlr.grpcPort}`, grpc.credentials.createInsecure());
    return new Promise<Buffer>((resolve, reject) => {
      c.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        () => Buffer.alloc(0), // HealthCheckRequest{service: ""}
        (b: Buffer) => b,
        {},
        (err, res) => {
          c.close();
          if (err || res === undefined) reject(err ?? new Error('no response'));
          else resolve(res);
        },
      );
    });
  }
}
