// Test harness: a fresh database (0001, 0610 and the stats service's 09xx migrations), isolated topics,
// the stats core built in-process (restartable), producers of the three topics it reads, and
// StatsService clients with tokens of every role.
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { bearerInterceptor, generateSecret, hashSecret, ROLES, type Role } from '@smshub/auth';
import {
  BillingRated,
  RatedStatus,
  SmsRejected,
  SmsRouted,
  StatsServiceClient,
  TrafficType,
  topics as registry,
  GetBreakdownRequest,
  GetSeriesRequest,
  GetSummaryRequest,
  type GetBreakdownResponse,
  type GetSeriesResponse,
  type GetSummaryResponse,
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
import type { StatsOptions } from '../src/config.js';
import { createStats, type Stats } from '../src/stats.js';

export const ADMIN_TOKEN = 'stats-test-admin-token-0123456789';

export interface StatsApiClient {
  summary(req: Partial<GetSummaryRequest>): Promise<GetSummaryResponse>;
  series(req: Partial<GetSeriesRequest>): Promise<GetSeriesResponse>;
  breakdown(req: Partial<GetBreakdownRequest>): Promise<GetBreakdownResponse>;
  close(): void;
}

/** A message as the test publishes it through the three topics. */
export interface TestMessage {
  accountId: string;
  receivedAt: Date;
  country?: string;
  mcc?: string;
  mnc?: string;
  trafficType?: TrafficType;
  /** rejected by the hub (sms.rejected.v1) instead of routed. */
  rejected?: boolean;
  /** Rated outcome; none = not final yet. */
  rated?: {
    connectorId: string;
    deliveryStatus: string;
    latencyMs: number;
    segments?: number;
    /** Sell / buy in micro-units of the currency (scale 6). */
    sell: bigint;
    buy: bigint;
    currency?: string;
    status?: RatedStatus;
    revision?: number;
  };
}

export class Harness {
  db!: TestDatabase;
  pool!: Pool;
  topics!: typeof registry;
  kafka!: Kafka;
  producer!: TypedProducer;
  logger!: Logger;
  stats!: Stats;
  options!: StatsOptions;
  readonly groupId = uniqueName('smshub-stats');
  readonly tokens = {} as Record<Role, string>;
  accounts: string[] = [];
  private migrationsDir = '';
  private readonly consumers: TypedConsumer[] = [];
  private readonly clients: StatsApiClient[] = [];

  async setup(): Promise<void> {
    this.logger = createLogger({
      service: 'stats-test',
      level: (process.env.TEST_LOG_LEVEL as 'info') ?? ('silent' as 'info'),
    });
    this.db = await createTestDatabase();
    this.pool = createPool({ connectionString: this.db.url, max: 10 });
    this.migrationsDir = await mkdtemp(path.join(tmpdir(), 'stats-migrations-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      if (/^(0001|0610|09\d\d)_.*\.sql$/.test(f))
        await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(this.migrationsDir, f));
    }
    await migrate(this.pool, { dir: this.migrationsDir });
    for (const name of ['stats-a', 'stats-b']) {
      const res = await this.pool.query<{ id: string }>(
        `INSERT INTO accounts (system_id, password_hash, currency) VALUES ($1, '$argon2id$test', 'EUR') RETURNING id`,
        [name],
      );
      this.accounts.push(res.rows[0]!.id);
    }
    for (const role of ROLES) {
      const secret = generateSecret();
      await this.pool.query(
        'INSERT INTO auth_tokens (id, token_hash, name, role, account_id) VALUES ($1, $2, $3, $4, $5)',
        [randomUUID(), hashSecret(secret), role, role, role === 'customer' ? this.accounts[0] : null],
      );
      this.tokens[role] = secret;
    }
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
      { clientId: uniqueName('stats-test'), brokers: testKafkaBrokers() },
      this.logger,
    );
    this.producer = new TypedProducer(this.kafka, this.logger);
    await this.producer.connect();
    this.options = {
      grpcPort: 0,
      adminToken: ADMIN_TOKEN,
      retention: { minuteDays: 14, hourDays: 400, correctionDays: 3 },
      groupId: this.groupId,
    };
    await this.start();
  }

  async start(): Promise<void> {
    let joined: Promise<void> | undefined;
    this.stats = createStats({
      options: this.options,
      logger: this.logger,
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
    await this.stats.start();
    await joined;
  }

  async stop(): Promise<void> {
    await this.stats.stop();
  }

  /** A StatsService client with the token of `role` (or a raw token). */
  client(role: Role | { token: string } = 'admin'): StatsApiClient {
    const token = typeof role === 'string' ? this.tokens[role] : role.token;
    const c = new StatsServiceClient(`127.0.0.1:${this.stats.grpcPort}`, grpc.credentials.createInsecure(), {
      interceptors: [bearerInterceptor(token)],
    });
    const p =
      <Req, Res>(
        fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall,
        make: (r: Partial<Req>) => Req,
      ) =>
      (req: Partial<Req>) =>
        new Promise<Res>((resolve, reject) => {
          fn.call(c, make(req), (err, res) => (err ? reject(err) : resolve(res)));
        });
    const api: StatsApiClient = {
      summary: p(c.getSummary, (r: Partial<GetSummaryRequest>) => GetSummaryRequest.fromPartial(r)),
      series: p(c.getSeries, (r: Partial<GetSeriesRequest>) => GetSeriesRequest.fromPartial(r)),
      breakdown: p(c.getBreakdown, (r: Partial<GetBreakdownRequest>) => GetBreakdownRequest.fromPartial(r)),
      close: () => c.close(),
    };
    this.clients.push(api);
    return api;
  }

  /** Publishes a message's routing outcome and, when given, its rated record(s). */
  async publish(m: TestMessage, messageId = randomUUID()): Promise<string> {
    const message = {
      messageId,
      accountId: m.accountId,
      receivedAt: m.receivedAt,
      trafficType: m.trafficType ?? TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
      destination: { ton: 1, npi: 1, address: '447400123456' },
    };
    const info = { countryCode: m.country ?? 'GB', mcc: m.mcc ?? '234', mnc: m.mnc ?? '15' };
    if (m.rejected) {
      await this.producer.produce(
        this.topics.rejected,
        SmsRejected.fromPartial({ message, destinationInfo: info, reason: 'test', rejectedAt: new Date() }),
      );
    } else {
      await this.producer.produce(
        this.topics.routed,
        SmsRouted.fromPartial({ message, destinationInfo: info, candidates: [{ connectorId: 'x' }] }),
      );
    }
    if (m.rated) await this.rate(messageId, m);
    return messageId;
  }

  /** Publishes a billing.rated.v1 record of `messageId`. */
  async rate(messageId: string, m: TestMessage): Promise<void> {
    const r = m.rated!;
    const currency = r.currency ?? 'EUR';
    const money = (v: bigint) => ({ currencyCode: currency, minorUnits: v, scale: 6 });
    await this.producer.produce(
      this.topics.rated,
      BillingRated.fromPartial({
        messageId,
        revision: r.revision ?? 1,
        accountId: m.accountId,
        connectorId: r.connectorId,
        supplierId: `sup-${r.connectorId}`,
        destinationCountry: m.rejected ? (m.country ?? 'GB') : (m.country ?? 'GB'),
        destinationMccMnc: `${m.mcc ?? '234'}-${m.mnc ?? '15'}`,
        segments: r.segments ?? 1,
        sell: money(r.sell),
        buy: money(r.buy),
        buyInSellCurrency: money(r.buy),
        margin: money(r.sell - r.buy),
        fxRate: '1',
        status: r.status ?? RatedStatus.RATED_STATUS_CHARGED,
        deliveryStatus: r.deliveryStatus,
        trafficType: m.trafficType ?? TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
        submittedAt: m.receivedAt,
        doneAt: new Date(m.receivedAt.getTime() + r.latencyMs),
        ratedAt: new Date(),
      }),
    );
  }

  async teardown(): Promise<void> {
    for (const c of this.clients) c.close();
    await this.stats?.stop().catch(() => undefined);
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
