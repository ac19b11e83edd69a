// Small SQL helpers: multi-row INSERT (VALUES placeholders or one array per column) and a per-message
// advisory lock.
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

/** A column of insertUnnest: its name and SQL type. */
export type TypedColumn = readonly [name: string, type: string];

/**
 * INSERT INTO table (columns) SELECT * FROM unnest($1::type[], $2::type[], ...) <suffix>: one array
 * parameter per column, whatever the number of rows. Postgres parses and plans a short statement once
 * instead of a VALUES list of rows × columns placeholders, which cost it (and pg's per-parameter
 * serialisation here) more than writing the rows themselves. Only for columns of scalar types: an
 * array column (text[]) cannot travel inside an unnest array.
 */
export async function insertUnnest(
  db: Queryable,
  table: string,
  columns: readonly TypedColumn[],
  rows: readonly unknown[][],
  suffix = '',
): Promise<void> {
  if (rows.length === 0) return;
  const arrays = columns.map((_, c) =>
    rows.map((row) => {
      const v = row[c];
      // an ISO string is an exact timestamptz and much cheaper for pg than its local-time Date formatting
      return v instanceof Date ? v.toISOString() : v;
    }),
  );
  const names = columns.map(([name]) => name).join(', ');
  const unnest = columns.map(([, type], c) => `$${c + 1}::${type}[]`).join(', ');
  await db.query(`INSERT INTO ${table} (${names}) SELECT * FROM unnest(${unnest}) ${suffix}`, arrays);
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
