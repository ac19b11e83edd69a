// Small SQL helpers: multi-row INSERT with generated placeholders and a per-message advisory lock.
import type { Pool, PoolClient } from '@smshub/db';

export type Queryable = Pool | PoolClient;

/** Rows per statement (Postgres allows 65535 parameters per statement). */
const CHUNK = 500;

/**
 * INSERT INTO table (columns) VALUES (...), (...) <suffix>, in chunks. `casts` gives an optional SQL cast
 * per column (e.g. 'uuid', 'text[]').
 */
export async function insertRows(
  db: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
  suffix = '',
  casts: readonly (string | undefined)[] = [],
): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => {
      const ph = row.map((v, c) => {
        // an ISO string is an exact timestamptz and much cheaper for pg than its local-time Date formatting
        params.push(v instanceof Date ? v.toISOString() : v);
        const cast = casts[c];
        return cast ? `$${params.length}::${cast}` : `$${params.length}`;
      });
      return `(${ph.join(', ')})`;
    });
    await db.query(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ${suffix}`,
      params,
    );
  }
}

/** A signed 64-bit advisory lock key of a hub message id (its last 16 hex digits). */
export function lockKey(messageId: string): string {
  const hex = messageId.replace(/-/g, '').slice(-16).padStart(16, '0');
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

/**
 * Takes transaction-scoped advisory locks on messages, in a fixed order (no deadlocks between
 * instances): serialises read-modify-write of one message's row across consumers.
 */
export async function lockMessages(client: PoolClient, messageIds: Iterable<string>): Promise<void> {
  const keys = [...new Set([...messageIds].map(lockKey))].sort((a, b) =>
    BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0,
  );
  // unnest yields the (sorted) array in order, so the locks are taken in that order.
  if (keys.length > 0)
    await client.query('SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS t(k)', [keys]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}
