// Test harness: a fresh database (every migration), isolated topics, real Kafka, and http-api replicas
// built in-process from their core, listening on real TCP ports.
import { randomUUID } from 'node:crypto';
import { generateSecret, hashSecret } from '@smshub/auth';
import { topics as registry, type SmsSubmitted } from '@smshub/contracts';
import { createPool, migrate, type Pool } from '@smshub/db';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger, type Logger } from '@smshub/logging';
import {
  createIsolatedTopics,
  createTestDatabase,
  testKafkaBrokers,
  uniqueName,
  type TestDatabase,
} from '@smshub/testing';
import type { Kafka } from 'kafkajs';
import { createHttpApi, DEFAULT_OPTIONS, type HttpApi, type HttpApiOptions } from '../src/index.js';
import { HTTP_API_PRODUCER_OPTIONS } from '../src/durable-accept.js';
import type { MessageReader } from '../src/server.js';

export interface Replica {
  api: HttpApi;
  url: string;
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
  private readonly replicas: Replica[] = [];
  private readonly consumers: TypedConsumer[] = [];
  private readonly producers: TypedProducer[] = [];
  /** Every sms.submitted.v1 event seen, by message id. */
  readonly submitted = new Map<string, SmsSubmitted>();
  /** Every sms.scheduled.v1 event seen (send_at: held by the scheduler), by message id. */
  readonly scheduled = new Map<string, SmsSubmitted>();

  async setup(): Promise<void> {
    this.logger = createLogger({
      service: 'http-api-test',
      level: (process.env.TEST_LOG_LEVEL as 'info') ?? ('silent' as 'info'),
    });
    this.db = await createTestDatabase();
    this.pool = createPool({ connectionString: this.db.url, max: 10 });
    await migrate(this.pool);
    this.topics = await withRetries(() => createIsolatedTopics(registry));
    this.kafka = createKafka(
      { brokers: testKafkaBrokers(), clientId: uniqueName('http-api-test'), ssl: false },
      this.logger,
    );
    this.producer = await this.newProducer({ ackTimeoutMs: 10_000 });
  }

  private async newProducer(o: ConstructorParameters<typeof TypedProducer>[2]): Promise<TypedProducer> {
    const p = new TypedProducer(this.kafka, this.logger, o);
    await p.connect();
    this.producers.push(p);
    return p;
  }

  consumer = async (o: { groupId: string; fromBeginning: boolean }): Promise<TypedConsumer> => {
    const c = new TypedConsumer(this.kafka, this.logger, { ...o, producer: this.producer });
    this.consumers.push(c);
    const start = c.start.bind(c);
    c.start = () => withRetries(start);
    return c;
  };

  async watchSubmitted(): Promise<void> {
    const c = await this.consumer({ groupId: uniqueName('watch'), fromBeginning: true });
    c.on(this.topics.submitted, (r) => void this.submitted.set(r.value.messageId, r.value));
    c.on(this.topics.scheduled, (r) => void this.scheduled.set(r.value.messageId, r.value));
    const assigned = c.waitForAssignment();
    await c.start();
    await assigned;
  }

  /** A replica with its own producer (as a separate process would have). */
  async startReplica(overrides: Partial<HttpApiOptions> = {}, messages?: MessageReader): Promise<Replica> {
    const api = createHttpApi({
      options: {
        ...DEFAULT_OPTIONS,
        replicaId: uniqueName('api'),
        port: 0,
        groupPrefix: uniqueName('api'),
        authCacheTtlMs: 200,
        ...overrides,
      },
      logger: this.logger,
      producer: await this.newProducer(HTTP_API_PRODUCER_OPTIONS),
      consumer: this.consumer,
      pool: this.pool,
      topics: this.topics,
      ...(messages ? { messages } : {}),
    });
    const { port } = await api.start();
    const r = { api, url: `http://127.0.0.1:${port}` };
    this.replicas.push(r);
    return r;
  }

  async addAccount(
    a: { systemId?: string; tpsLimit?: number; allowedCidrs?: string[]; enabled?: boolean } = {},
  ) {
    // Never used to bind: any argon2id-shaped string satisfies the column.
    const hash = '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO accounts (system_id, password_hash, enabled, allowed_cidrs, tps_limit, currency)
       VALUES ($1, $2, $3, $4::cidr[], $5, 'EUR') RETURNING id::text`,
      [
        a.systemId ?? uniqueName('c').slice(0, 15),
        hash,
        a.enabled ?? true,
        a.allowedCidrs ?? [],
        a.tpsLimit ?? 1000,
      ],
    );
    for (const r of this.replicas) await r.api.accounts.reload();
    return rows[0]!.id;
  }

  /** A token (API key) of `role`; customer keys are scoped to `accountId`. */
  async addKey(accountId: string | null, role = 'customer'): Promise<string> {
    const secret = generateSecret();
    await this.pool.query(
      `INSERT INTO auth_tokens (id, token_hash, name, role, account_id) VALUES ($1, $2, 'test', $3, $4)`,
      [randomUUID(), hashSecret(secret), role, accountId],
    );
    return secret;
  }

  async teardown(): Promise<void> {
    for (const r of this.replicas) await r.api.stop().catch(() => undefined);
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
    await Promise.all(this.producers.map((p) => p.close().catch(() => undefined)));
    await this.pool?.end().catch(() => undefined);
    await this.db?.drop().catch(() => undefined);
  }
}

/** A JSON request; returns status, headers and the parsed body. */
export async function call(
  url: string,
  init: {
    method?: string;
    key?: string;
    body?: unknown;
    headers?: Record<string, string>;
    raw?: string;
  } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read any field of the JSON
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  if (init.body !== undefined || init.raw !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
