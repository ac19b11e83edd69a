// What every resource handler needs: the pool, the change publisher and the connector secret key.
import type { Pool, PoolClient } from '@smshub/db';
import { withTransaction } from '@smshub/db';
import type { TokenVerifier } from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import { fromPgError } from './errors.js';
import type { ConnectorStateView } from './live/connector-states.js';
import type { ConsumerLagReader } from './live/consumer-lag.js';
import type { ChangePublisher } from './publisher.js';

export interface AdminContext {
  pool: Pool;
  publisher: ChangePublisher;
  /** CONNECTOR_SECRET_KEY (32 bytes): seals connector passwords, AAD = connector id. */
  connectorKey: Buffer;
  logger: Logger;
  /** Recorded as TopUp.actor (ConfigChange.actor is the publisher's). */
  actor: string;
  /** Admin's own token verifier (token writes clear its cache). */
  verifier?: TokenVerifier;
  /** Kafka readers of live.proto (absent without a Kafka client: those RPCs answer UNAVAILABLE). */
  live?: { connectorStates: ConnectorStateView; lag: ConsumerLagReader };
  /** Lower argon2 cost in tests; production uses libs/secrets' defaults. */
  passwordHashOptions?: { memoryCost?: number; timeCost?: number };
}

/** Runs `fn` in one transaction; constraint violations become gRPC statuses naming `what`. */
export async function tx<T>(ctx: AdminContext, what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  try {
    return await withTransaction(ctx.pool, fn);
  } catch (err) {
    throw fromPgError(err, what) ?? err;
  }
}

/** A read outside a transaction, with the same error mapping. */
export async function read<T>(ctx: AdminContext, what: string, fn: (c: Pool) => Promise<T>): Promise<T> {
  try {
    return await fn(ctx.pool);
  } catch (err) {
    throw fromPgError(err, what) ?? err;
  }
}
