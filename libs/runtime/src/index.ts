// The wiring every service's main.ts needs, in one place:
//   telemetry before anything else, configuration parsed once (exit 78 on bad variables), a pino logger,
//   the HTTP lifecycle endpoints (/livez, /readyz, /metrics), lazily created Kafka producer/consumers and
//   Postgres pool, and an ordered graceful shutdown (consumers stop, the app drains, the producer flushes,
//   the pool closes, telemetry flushes) on SIGTERM/SIGINT.
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { z } from 'zod';
import { configOrExit, httpEnv, kafkaEnv, logEnv, otelEnv, startupEnv } from '@smshub/config';
import { createPool } from '@smshub/db';
import {
  createKafka,
  kafkaConnection,
  TypedConsumer,
  TypedProducer,
  type ConsumerOptions,
  type ProducerOptions,
} from '@smshub/kafka';
import { createLifecycle, type Lifecycle } from '@smshub/lifecycle';
import { createLogger, type Logger } from '@smshub/logging';
import { startTelemetry } from '@smshub/telemetry';
import { namespacedGroup, namespacedTopics, topics } from '@smshub/contracts';

/** What every service reads from its environment, besides its own variables. */
export const baseEnv = { ...kafkaEnv, ...httpEnv, ...logEnv, ...otelEnv, ...startupEnv };

type BaseConfig = z.infer<z.ZodObject<typeof baseEnv>>;

export interface ServiceContext<C extends BaseConfig> {
  readonly service: string;
  readonly config: C;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly kafka: Kafka;
  /** The topic registry under KAFKA_NAMESPACE (the plain registry when it is unset). */
  readonly topics: typeof topics;
  /**
   * The process's one producer (connected on first use; flushed and closed at shutdown). The factories
   * below refuse (ShuttingDownError) once a shutdown has begun, so a start cut short by a signal stops
   * creating things at its next step.
   */
  producer(opts?: ProducerOptions): Promise<TypedProducer>;
  /** A consumer group member; stopped first at shutdown so in-flight records finish and offsets commit. */
  consumer(opts: Omit<ConsumerOptions, 'producer'>): Promise<TypedConsumer>;
  /** A Postgres pool on `connectionString` (closed at shutdown). */
  pool(connectionString: string, max?: number): pg.Pool;
}

export interface ServiceDefinition<S extends z.ZodRawShape> {
  service: string;
  /** The service's own variables; merged with baseEnv. */
  env: S;
  /**
   * Starts the service's work. Register its own drain steps with ctx.lifecycle.onShutdown. When it
   * resolves, the service is marked ready. A SIGTERM meanwhile waits for it to settle, then runs every step
   * (also those registered after the signal); the factories of ctx refuse from the signal on.
   */
  start(ctx: ServiceContext<BaseConfig & z.infer<z.ZodObject<S>>>): Promise<void>;
}

/** What ServiceContext's factories throw once the shutdown has begun: start should not create more. */
export class ShuttingDownError extends Error {
  readonly retriable = false;
  constructor(service: string, what: string) {
    super(`${service} is shutting down: no new ${what}`);
    this.name = 'ShuttingDownError';
  }
}

/** Runs a service: never returns; exits with an honest code on failure or at the end of shutdown. */
export async function runService<S extends z.ZodRawShape>(def: ServiceDefinition<S>): Promise<void> {
  const schema = z.object({ ...baseEnv, ...def.env });
  const config = configOrExit(schema, { service: def.service }) as BaseConfig & z.infer<z.ZodObject<S>>;
  const telemetry = startTelemetry({
    serviceName: config.OTEL_SERVICE_NAME ?? `smshub-${def.service}`,
    ...(config.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
  });
  const logger = createLogger({
    service: def.service,
    level: config.LOG_LEVEL,
    debugNumbers: config.LOG_DEBUG_NUMBERS,
  });
  const lifecycle = createLifecycle({
    service: def.service,
    logger,
    httpPort: config.HTTP_PORT,
    host: config.HTTP_HOST,
  });
  lifecycle.trapSignals();
  // Registered first, so it runs last: telemetry flushes after everything else has finished.
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());

  const kafka = createKafka(kafkaConnection(config, `smshub-${def.service}`), logger);
  let producer: Promise<TypedProducer> | null = null;
  const pools: pg.Pool[] = [];
  const consumers: TypedConsumer[] = [];

  const ctx: ServiceContext<typeof config> = {
    service: def.service,
    config,
    logger,
    lifecycle,
    kafka,
    topics: namespacedTopics(topics, config.KAFKA_NAMESPACE),
    producer(opts) {
      if (!producer) {
        if (lifecycle.shuttingDown)
          return Promise.reject(new ShuttingDownError(def.service, 'Kafka producer'));
        producer = (async () => {
          const p = new TypedProducer(kafka, logger, opts);
          await p.connect();
          return p;
        })();
      }
      return producer;
    },
    async consumer(opts) {
      if (lifecycle.shuttingDown) throw new ShuttingDownError(def.service, 'Kafka consumer');
      const c = new TypedConsumer(kafka, logger, {
        ...opts,
        groupId: namespacedGroup(opts.groupId, config.KAFKA_NAMESPACE),
        producer: await ctx.producer(),
      });
      consumers.push(c);
      return c;
    },
    pool(connectionString, max) {
      if (lifecycle.shuttingDown) throw new ShuttingDownError(def.service, 'Postgres pool');
      // DATABASE_PREPARED_STATEMENTS comes with databaseEnv, in the env of every service that has a pool.
      const prepared = (config as { DATABASE_PREPARED_STATEMENTS?: boolean }).DATABASE_PREPARED_STATEMENTS;
      const pool = createPool({
        connectionString,
        applicationName: `smshub-${def.service}`,
        logger,
        ...(max ? { max } : {}),
        ...(prepared === false ? { preparedStatements: false } : {}),
      });
      pools.push(pool);
      return pool;
    },
  };

  // Shutdown runs hooks in reverse order of registration: pools, then the producer, then (registered by
  // the service's start, later) the service's own drain steps, and the consumers before all of them.
  lifecycle.onShutdown('postgres pools', async () => {
    await Promise.all(pools.map((p) => p.end()));
  });
  lifecycle.onShutdown('kafka producer', async () => {
    if (producer) await (await producer).close();
  });
  const startup = (async () => {
    await lifecycle.start();
    try {
      await def.start(ctx);
    } finally {
      // Registered however start ended (a failure, a shutdown that cut it short), so every consumer it
      // created stops, and first: before the service's own drain steps.
      lifecycle.onShutdown('kafka consumers', async () => {
        await Promise.all(consumers.map((c) => c.stop()));
      });
    }
  })();
  // A SIGTERM during start waits for it, then stops what it created (see Lifecycle.starting).
  lifecycle.starting(startup);
  // A start that never settles (a client library's wait without a timeout: routing's adaptive seek hung
  // 90 s once) leaves a live process that is never ready, and a SIGTERM waiting on it: past the deadline
  // the process exits 1, as a crash would, and its orchestrator starts it again.
  const deadlineS = config.STARTUP_TIMEOUT_S;
  const deadline =
    deadlineS > 0
      ? setTimeout(() => {
          const message =
            `${def.service} did not finish its start within ${deadlineS} s (STARTUP_TIMEOUT_S); ` +
            'exiting so that it is started again';
          logger.fatal({ startupTimeoutS: deadlineS }, message);
          process.stderr.write(`${message}\n`);
          process.exit(1);
        }, deadlineS * 1000)
      : undefined;
  try {
    await startup;
  } catch (err) {
    clearTimeout(deadline);
    if (lifecycle.shuttingDown) {
      // The signal's shutdown exits with its own code once the steps have run.
      logger.warn({ err }, `${def.service} start cut short by the shutdown`);
      return;
    }
    logger.fatal({ err }, `${def.service} failed to start`);
    process.stderr.write(
      `${def.service}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    await lifecycle.shutdown('start failed');
    process.exit(1);
  }
  clearTimeout(deadline);
  if (lifecycle.shuttingDown) {
    logger.info({}, `${def.service} started during the shutdown; not marked ready`);
    return;
  }
  lifecycle.setReady(true);
  logger.info({ httpPort: lifecycle.port }, `${def.service} ready`);
}
