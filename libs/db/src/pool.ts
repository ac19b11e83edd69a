import pg from 'pg';
import type { Logger } from '@smshub/logging';
import { PreparingClient } from './prepared.js';

/** Startup options of a pool with prepared statements (see createPool). */
export const CUSTOM_PLANS = '-c plan_cache_mode=force_custom_plan';

export interface CreatePoolOptions {
  connectionString: string;
  /** Maximum connections. Default 10. */
  max?: number;
  /** Shown in pg_stat_activity.application_name. */
  applicationName?: string;
  /** Server-side statement_timeout in ms; 0 or unset = none. */
  statementTimeoutMs?: number;
  /** Time to wait for a new connection, in ms. Default 10000. */
  connectionTimeoutMs?: number;
  /** Idle connections are closed after this many ms. Default 30000. */
  idleTimeoutMs?: number;
  logger?: Logger;
  /**
   * Frequent parameterised statements run as named prepared statements (parsed once per connection;
   * `prepared.ts`). Default true. False for a connection pooler that cannot carry them (PgBouncer in
   * transaction mode before 1.21, or without `max_prepared_statements`).
   */
  preparedStatements?: boolean;
}

/**
 * A pg.Pool whose 'error' event (an idle client losing its connection, e.g. a Postgres restart) is logged
 * instead of crashing the process; the pool replaces the client on next use.
 */
export function createPool(opts: CreatePoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    ...(opts.preparedStatements === false
      ? {}
      : {
          Client: PreparingClient,
          // A plan for every execution, as for an unnamed statement: a generic plan guessed for unknown
          // parameters (unnest() of an array taken for 100 rows) turned dlr's parked-receipt lookup from
          // ~5 to ~420 µs per message. Options in the connection string replace these.
          ...(/[?&]options=/.test(opts.connectionString) ? {} : { options: CUSTOM_PLANS }),
        }),
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  pool.on('error', (err) => {
    if (opts.logger) opts.logger.error({ err }, 'idle postgres connection failed; it will be replaced');
    else process.stderr.write(`idle postgres connection failed; it will be replaced: ${err.message}\n`);
  });
  return pool;
}

/**
 * Runs `fn` in a transaction on one pooled client: BEGIN, COMMIT on success, ROLLBACK on error (the
 * original error is re-thrown). The client is always released; one whose ROLLBACK failed is discarded.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: { begin?: string } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    try {
      // `begin` (default BEGIN) may carry more statements in one round trip (e.g. locks, with the simple
      // protocol: no parameters); a failure among them rolls back like one inside fn.
      await client.query(opts.begin ?? 'BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
      throw err;
    }
  } finally {
    client.release(broken);
  }
}
