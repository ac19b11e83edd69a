import { v7 as uuidv7 } from 'uuid';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { PgTokenStore, TokenVerifier } from '@smshub/auth';
import { ResourceKind, type topics as registry } from '@smshub/contracts';
import type { TypedConsumer, TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import { BalanceCache, SellRateCache, Throttles } from '@smshub/quota';
import { AccountDirectory } from './accounts.js';
import { DoorRegistry } from './door-registry.js';
import { IdempotencyStore } from './idempotency.js';
import { buildServer, type MessageReader, type ServerDeps } from './server.js';
import { Submitter } from './submitter.js';
import { OptOutCache } from './optouts.js';

export interface HttpApiOptions {
  replicaId: string;
  host: string;
  port: number;
  bodyLimit: number;
  trustProxy: boolean | number | string[];
  idempotencyWaitMs: number;
  creditCheck: boolean;
  authCacheTtlMs: number;
  https?: { cert: Buffer; key: Buffer };
  /** Prefix of the per-replica config.changes.v1 group and the per-start balances.v1 group. */
  groupPrefix: string;
  accountReloadMs: number;
  /** ingress_binds staleness; the heartbeat runs every third of it. */
  doorStaleMs: number;
  /** Idempotency keys whose owner was silent this long are taken over. */
  idempotencyStaleMs: number;
}

export const DEFAULT_OPTIONS: Omit<HttpApiOptions, 'replicaId'> = {
  host: '127.0.0.1',
  port: 8080,
  bodyLimit: 4 * 1024 * 1024,
  trustProxy: false,
  idempotencyWaitMs: 2_000,
  creditCheck: true,
  authCacheTtlMs: 2_000,
  groupPrefix: 'smshub-http-api',
  accountReloadMs: 30_000,
  doorStaleMs: 6_000,
  idempotencyStaleMs: 30_000,
};

export interface HttpApiDeps {
  options: HttpApiOptions;
  logger: Logger;
  producer: TypedProducer;
  consumer: (o: { groupId: string; fromBeginning: boolean; maxWaitMs?: number }) => Promise<TypedConsumer>;
  pool: Pool;
  topics: typeof registry;
  messages?: MessageReader;
}

export interface HttpApi {
  readonly server: FastifyInstance;
  readonly accounts: AccountDirectory;
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
}

export function createHttpApi(deps: HttpApiDeps): HttpApi {
  const o = deps.options;
  const log = deps.logger.child({ component: 'http-api', replica: o.replicaId });
  const accounts = new AccountDirectory(deps.pool);
  // The sell rates, for the price in the 202 (read-only: rating owns rating_rates, the admin API writes it).
  const sellRates = new SellRateCache(deps.pool);
  const balances = new BalanceCache();
  const doors = new DoorRegistry(deps.pool, o.replicaId, { staleMs: o.doorStaleMs, idleMs: 15_000 });
  const idempotency = new IdempotencyStore(deps.pool, o.replicaId, o.idempotencyStaleMs);
  const verifier = new TokenVerifier({ store: new PgTokenStore(deps.pool), cacheTtlMs: o.authCacheTtlMs });
  const optOuts = new OptOutCache(deps.pool);
  const submitter = new Submitter({
    producer: deps.producer,
    topics: deps.topics,
    balances,
    throttles: new Throttles(),
    optOuts,
    sellRates,
    doors,
    replicaId: o.replicaId,
    creditCheck: o.creditCheck,
    logger: log,
  });
  const serverDeps: ServerDeps = {
    verifier,
    accounts,
    balances,
    submitter,
    idempotency,
    logger: log,
    ...(deps.messages ? { messages: deps.messages } : {}),
    options: {
      bodyLimit: o.bodyLimit,
      trustProxy: o.trustProxy,
      idempotencyWaitMs: o.idempotencyWaitMs,
      ...(o.https ? { https: o.https } : {}),
    },
  };
  const server = buildServer(serverDeps);
  const timers: NodeJS.Timeout[] = [];

  return {
    server,
    accounts,
    async start() {
      // Config first, from "latest" and assigned before the full load: no change after the load is missed.
      // Configuration changes and balances are rare records: an empty fetch waits 2 s (a record still answers
      // it at once), half a fetch and a heartbeat a second per consumer while idle instead of 2 + 1; a stop
      // is up to 2 s longer.
      const config = await deps.consumer({
        groupId: `${o.groupPrefix}-config-${o.replicaId}`,
        fromBeginning: false,
        maxWaitMs: 2_000,
      });
      config.on(deps.topics.configChanges, async (rec) => {
        if (rec.value.kind === ResourceKind.RESOURCE_KIND_OPT_OUT) {
          await optOuts.apply(rec.value);
          return;
        }
        if (rec.value.kind === ResourceKind.RESOURCE_KIND_RATE) {
          await sellRates.reload();
          log.info({ rates: sellRates.size, change: rec.value.changeId }, 'sell rates reloaded');
          return;
        }
        if (rec.value.kind !== ResourceKind.RESOURCE_KIND_ACCOUNT) return;
        await accounts.reload();
        log.info({ accounts: accounts.size, change: rec.value.changeId }, 'accounts reloaded');
      });
      const assigned = config.waitForAssignment();
      await config.start();
      await assigned;
      await Promise.all([accounts.reload(), sellRates.reload()]);
      await optOuts.reload();
      log.info({ accounts: accounts.size, optOuts: optOuts.size }, 'accounts loaded');
      const reload = setInterval(
        () =>
          void Promise.all([accounts.reload(), sellRates.reload()]).catch((err: unknown) =>
            log.warn({ err }, 'account or sell-rate reload failed'),
          ),
        o.accountReloadMs,
      );
      reload.unref();
      timers.push(reload);

      const credit = await deps.consumer({
        groupId: `${o.groupPrefix}-balances-${o.replicaId}-${uuidv7()}`,
        fromBeginning: true,
        maxWaitMs: 2_000,
      });
      credit.on(deps.topics.balances, (rec) => {
        if (balances.apply(rec.value) && rec.value.blocked)
          log.info({ accountId: rec.value.accountId }, 'account blocked for credit');
      });
      const creditAssigned = credit.waitForAssignment();
      await credit.start();
      await creditAssigned;

      await doors.start();
      await idempotency.sweep().catch(() => undefined);
      const sweep = setInterval(() => void idempotency.sweep().catch(() => undefined), 10 * 60_000);
      sweep.unref();
      timers.push(sweep);

      await server.listen({ port: o.port, host: o.host });
      const address = server.server.address();
      const port = typeof address === 'object' && address ? address.port : o.port;
      log.info({ port, host: o.host, tls: Boolean(o.https) }, 'HTTP API listening');
      return { port };
    },
    async stop() {
      // Stops accepting, lets requests in flight finish (each waits for its Kafka ack), then closes.
      await server.close();
      for (const t of timers) clearInterval(t);
      await doors.stop();
      log.info({}, 'http-api stopped');
    },
  };
}
