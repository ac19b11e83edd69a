// The admin API process without its environment: gRPC server over Postgres, publishing on Kafka.
import type { topics as registry } from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import { TokenAuth } from './auth.js';
import { ChangePublisher } from './publisher.js';
import { startGrpcServer, toGrpc, type GrpcServer, type ServerOptions } from './server.js';
import { adminHandlers } from './service.js';

export interface AdminDeps {
  pool: Pool;
  producer: TypedProducer;
  topics: Pick<typeof registry, 'configChanges' | 'balances'>;
  logger: Logger;
  token: string;
  connectorKey: Buffer;
  server: ServerOptions;
  actor?: string;
  passwordHashOptions?: { memoryCost?: number; timeCost?: number };
}

export async function startAdmin(deps: AdminDeps): Promise<GrpcServer> {
  const auth = new TokenAuth(deps.token);
  const publisher = new ChangePublisher({
    producer: deps.producer,
    topics: deps.topics,
    logger: deps.logger,
    actor: deps.actor ?? 'admin-api',
  });
  const handlers = adminHandlers({
    pool: deps.pool,
    publisher,
    connectorKey: deps.connectorKey,
    logger: deps.logger,
    actor: deps.actor ?? 'admin-api',
    ...(deps.passwordHashOptions ? { passwordHashOptions: deps.passwordHashOptions } : {}),
  });
  return startGrpcServer(toGrpc(handlers, auth, deps.logger), deps.server, deps.logger);
}
