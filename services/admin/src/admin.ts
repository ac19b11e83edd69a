// The admin API process without its environment: gRPC server over Postgres, publishing on Kafka.
import type { topics as registry } from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { Kafka, TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import { AuditLog } from './audit.js';
import { adminGuard, adminVerifier } from './auth.js';
import { ConnectorStateView } from './live/connector-states.js';
import { ConsumerLagReader } from './live/consumer-lag.js';
import { ChangePublisher } from './publisher.js';
import { startGrpcServer, toGrpc, type GrpcServer, type ServerOptions } from './server.js';
import { adminHandlers } from './service.js';
import { deadLetterService } from './dead-letter-service.js';
import { probeService } from './probes.js';

export interface AdminDeps {
  pool: Pool;
  producer: TypedProducer;
  topics: Pick<typeof registry, 'configChanges' | 'balances' | 'audit'> &
    Partial<Pick<typeof registry, 'connectorState'>>;
  /** For ListConnectorStates and ListConsumerLag (without it they answer UNAVAILABLE). */
  kafka?: Kafka;
  /** KAFKA_NAMESPACE: the hub's consumer groups are named under it. */
  namespace?: string;
  /** Every topic of the hub (namespaced): DeadLetterService decodes dead letters' message ids with them. */
  registry?: typeof registry;
  logger: Logger;
  /** ADMIN_TOKEN: the bootstrap admin credential (tokens in auth_tokens work besides it). */
  token: string;
  /** How long token lookups are reused (other admin replicas see a revocation this late). */
  authCacheTtlMs?: number;
  connectorKey: Buffer;
  server: Omit<ServerOptions, 'guard'>;
  actor?: string;
  passwordHashOptions?: { memoryCost?: number; timeCost?: number };
}

export async function startAdmin(deps: AdminDeps): Promise<GrpcServer> {
  const verifier = adminVerifier(deps.pool, deps.token, deps.authCacheTtlMs);
  const audit = new AuditLog({
    pool: deps.pool,
    producer: deps.producer,
    topic: deps.topics.audit,
    logger: deps.logger,
  });
  const publisher = new ChangePublisher({
    producer: deps.producer,
    topics: deps.topics,
    logger: deps.logger,
    actor: deps.actor ?? 'admin-api',
  });
  let live: { connectorStates: ConnectorStateView; lag: ConsumerLagReader } | undefined;
  if (deps.kafka && deps.topics.connectorState) {
    live = {
      connectorStates: new ConnectorStateView({
        kafka: deps.kafka,
        topic: deps.topics.connectorState,
        logger: deps.logger,
        groupPrefix: deps.namespace
          ? `${deps.namespace}.smshub-admin-connector-state`
          : 'smshub-admin-connector-state',
      }),
      lag: new ConsumerLagReader(deps.kafka, deps.namespace),
    };
    await live.connectorStates.start();
  }
  const handlers = adminHandlers({
    ...(live ? { live } : {}),
    pool: deps.pool,
    publisher,
    connectorKey: deps.connectorKey,
    logger: deps.logger,
    actor: deps.actor ?? 'admin-api',
    verifier,
    ...(deps.passwordHashOptions ? { passwordHashOptions: deps.passwordHashOptions } : {}),
  });
  const server = await startGrpcServer(
    toGrpc(handlers, deps.logger, audit),
    { ...deps.server, guard: adminGuard(verifier, deps.logger, audit) },
    deps.logger,
    [
      ...(deps.kafka ? [deadLetterService({ ...deps, kafka: deps.kafka }, audit)] : []),
      probeService(deps, audit),
    ],
  );
  if (!live) return server;
  const readers = live;
  return {
    ...server,
    async stop(graceMs?: number): Promise<void> {
      await server.stop(graceMs);
      await Promise.all([readers.connectorStates.stop(), readers.lag.stop()]);
    },
  };
}
