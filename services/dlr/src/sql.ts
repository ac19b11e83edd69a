// Small SQL helpers: multi-row INSERT (VALUES placeholders or one array per column; several in one
// statement) and per-message advisory locks (taken with the transaction's BEGIN).
import {
  arrayLiteral,
  arrayLiteralOf,
  withTransaction,
  type ArrayElement,
  type Pool,
  type PoolClient,
} from '@smshub/db';

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
    // each chunk's statement numbers its parameters from $1
    const values: unknown[] = [];
    for (const text of valuesInserts(table, columns, rows.slice(i, i + CHUNK), suffix, casts, values))
      await db.query(text, values);
  }
}

/**
 * The statements of insertRows (one per CHUNK rows), their parameters appended to `values` (numbered
 * after those already there).
 */
export function valuesInserts(
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
  suffix: string,
  casts: readonly (string | undefined)[],
  values: unknown[],
): string[] {
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const tuples = chunk.map((row) => {
      const ph = row.map((v, c) => {
        // an ISO string is an exact timestamptz and much cheaper for pg than its local-time Date formatting
        values.push(v instanceof Date ? v.toISOString() : v);
        const cast = casts[c];
        return cast ? `$${values.length}::${cast}` : `$${values.length}`;
      });
      return `(${ph.join(', ')})`;
    });
    out.push(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ${suffix}`);
  }
  return out;
}

/**
 * Data-modifying statements (INSERT, DELETE; parameters numbered across them) as one statement: the first
 * ones as CTEs (`WITH w0 AS (...)`), the last as the main statement. Postgres runs each of them to
 * completion, in one snapshot, and the statement alone is atomic (no BEGIN/COMMIT needed). None sees
 * another's writes, and a row may be touched by two of them only where each leaves it alone on conflict
 * (ON CONFLICT DO NOTHING: DO UPDATE twice on one row fails); the order they run in is unspecified.
 * Undefined for none.
 */
export function asOneStatement(texts: readonly string[]): string | undefined {
  const main = texts.at(-1);
  if (main === undefined) return undefined;
  if (texts.length === 1) return main;
  const ctes = texts.slice(0, -1).map((t, n) => `w${n} AS (${t})`);
  return `WITH ${ctes.join(', ')} ${main}`;
}

/** Parameters in one statement of asOneStatement at most (Postgres allows 65,535). */
export const ONE_STATEMENT_MAX_PARAMS = 30_000;

/** A column of insertUnnest: its name and SQL type. */
export type TypedColumn = readonly [name: string, type: string];

/**
 * The statement of insertUnnest: INSERT INTO table (columns) SELECT ... FROM unnest($1::type[], ...)
 * <suffix>, a fixed number of parameters whatever the number of rows.
 *
 * Postgres parses and plans a short statement instead of a VALUES list of rows × columns placeholders.
 * `bytea`, `json` and `jsonb` values do not go in arrays (pg would write each one into the array's text as hex or
 * with every quote escaped): all the values of such a column travel as one binary parameter, the rows'
 * byte ranges in it as two int[] (start, length; NULL for a NULL value), and Postgres cuts them out with
 * substring. Only for columns of scalar types: an array column (text[]) cannot travel inside an unnest
 * array.
 */
export function unnestInsert(
  table: string,
  columns: readonly TypedColumn[],
  rows: readonly unknown[][],
  suffix = '',
  values: unknown[] = [],
): { text: string; values: unknown[] } {
  const { selects, from } = unnestSource(columns, rows, values);
  const names = columns.map(([name]) => name).join(', ');
  return { text: `INSERT INTO ${table} (${names}) SELECT ${selects.join(', ')} ${from} ${suffix}`, values };
}

/**
 * UPDATE table SET <every other column> = ... FROM unnest(...) WHERE <first column> = ...: the rows of
 * `rows` that exist, matched on the first column (a unique key), rewritten whole; the arrays travel as in
 * unnestInsert. Rows that do not exist are left out (nothing inserted).
 *
 * Cheaper than INSERT ... ON CONFLICT DO UPDATE for a row known to exist: no unique-index probe before
 * the insert attempt, and no separate row lock (a WAL record of its own) before the update.
 */
export function unnestUpdate(
  table: string,
  columns: readonly TypedColumn[],
  rows: readonly unknown[][],
  values: unknown[] = [],
): { text: string; values: unknown[] } {
  const { selects, from } = unnestSource(columns, rows, values);
  const [key] = columns[0] ?? [];
  if (key === undefined) throw new Error('unnestUpdate needs a key column');
  const sets = columns.slice(1).map(([name], c) => `${name} = ${selects[c + 1]}`);
  return {
    text: `UPDATE ${table} AS t SET ${sets.join(', ')} ${from} WHERE t.${key} = ${selects[0]}`,
    values,
  };
}

/** The select expressions (one per column) and the FROM unnest(...) AS u(...) of unnestInsert and unnestUpdate. */
function unnestSource(
  columns: readonly TypedColumn[],
  rows: readonly unknown[][],
  values: unknown[],
): { selects: string[]; from: string } {
  const param = (v: unknown, type: string): string => {
    values.push(v);
    return `$${values.length}::${type}`;
  };
  const arrays: string[] = [];
  const selects: string[] = [];
  columns.forEach(([, type], c) => {
    if (type === 'bytea' || type === 'jsonb' || type === 'json') {
      // bytea values are bytes; json and jsonb values are JSON texts, sent as UTF-8
      const buffers: Buffer[] = [];
      const texts: string[] = [];
      const starts: (number | null)[] = [];
      const lengths: (number | null)[] = [];
      let at = 1; // substring positions count from 1
      for (const row of rows) {
        const v = row[c];
        if (v === null || v === undefined) {
          starts.push(null);
          lengths.push(null);
          continue;
        }
        let length: number;
        if (typeof v === 'string') {
          texts.push(v);
          length = Buffer.byteLength(v);
        } else {
          const bytes = toBuffer(v as Uint8Array);
          buffers.push(bytes);
          length = bytes.length;
        }
        starts.push(at);
        lengths.push(length);
        at += length;
      }
      if (texts.length > 0 && buffers.length > 0) {
        throw new Error(`column ${columns[c]?.[0]} mixes strings and bytes`);
      }
      const packed = param(texts.length > 0 ? packTexts(texts, at - 1) : Buffer.concat(buffers), 'bytea');
      arrays.push(param(arrayLiteralOf(starts), 'int[]'), param(arrayLiteralOf(lengths), 'int[]'));
      const cut = `substring(${packed} FROM u.c${c}s FOR u.c${c}l)`;
      selects.push(type === 'bytea' ? cut : `convert_from(${cut}, 'UTF8')::${type}`);
      return;
    }
    arrays.push(param(columnLiteral(rows, c), `${type}[]`));
    selects.push(`u.c${c}`);
  });
  const aliases = columns.flatMap(([, type], c) =>
    type === 'bytea' || type === 'jsonb' || type === 'json' ? [`c${c}s`, `c${c}l`] : [`c${c}`],
  );
  return { selects, from: `FROM unnest(${arrays.join(', ')}) AS u(${aliases.join(', ')})` };
}

/**
 * The Postgres array literal of column `c` of `rows` (libs/db arrayLiteral: one string parameter instead of
 * a JS array pg escapes element by element; a Date is its ISO string).
 */
function columnLiteral(rows: readonly unknown[][], c: number): string {
  return arrayLiteral(rows, (row) => row[c] as ArrayElement);
}

/** Inserts `rows` with one statement (unnestInsert); nothing for no rows. */
export async function insertUnnest(
  db: Queryable,
  table: string,
  columns: readonly TypedColumn[],
  rows: readonly unknown[][],
  suffix = '',
): Promise<void> {
  if (rows.length === 0) return;
  const { text, values } = unnestInsert(table, columns, rows, suffix);
  await db.query(text, values);
}

/** One insertUnnest of insertUnnestAll (or, with `update`, one unnestUpdate). */
export interface UnnestInsert {
  table: string;
  columns: readonly TypedColumn[];
  rows: readonly unknown[][];
  suffix?: string;
  /** UPDATE the existing rows matched on the first column (unnestUpdate) instead of inserting; no suffix. */
  update?: boolean;
}

/**
 * The inserts of `inserts` that have rows, as ONE statement (one round trip): the first ones as
 * data-modifying CTEs (`WITH w0 AS (INSERT ...)`), the last as the main statement. Postgres runs every
 * one of them to completion, in one snapshot, so they must not touch the same rows (different tables,
 * or an update of existing rows and an insert of new ones). Nothing is sent when none has rows.
 */
export async function insertUnnestAll(db: Queryable, inserts: readonly UnnestInsert[]): Promise<void> {
  const statement = unnestInsertAll(inserts);
  if (statement !== undefined) await db.query(statement.text, statement.values);
}

/** The statement of insertUnnestAll (undefined when no insert has rows). */
export function unnestInsertAll(
  inserts: readonly UnnestInsert[],
): { text: string; values: unknown[] } | undefined {
  const values: unknown[] = [];
  const texts: string[] = [];
  for (const i of inserts) {
    if (i.rows.length === 0) continue;
    texts.push(
      i.update === true
        ? unnestUpdate(i.table, i.columns, i.rows, values).text
        : unnestInsert(i.table, i.columns, i.rows, i.suffix ?? '', values).text,
    );
  }
  const text = asOneStatement(texts);
  return text === undefined ? undefined : { text, values };
}

/** The UTF-8 bytes of `texts` one after the other (`bytes` in all), without joining them into one string first. */
function packTexts(texts: readonly string[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const t of texts) at += out.write(t, at, 'utf8');
  return out;
}

function toBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A signed 64-bit advisory lock key of a hub message id (its last 16 hex digits). */
export function lockKey(messageId: string): string {
  const hex = messageId.replace(/-/g, '').slice(-16).padStart(16, '0');
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

/** The advisory lock keys of `messageIds`, distinct, in ascending order (the order the locks are taken in). */
function sortedLockKeys(messageIds: Iterable<string>): string[] {
  // each key parsed once (the comparator parsed two per comparison)
  return [...new Set([...messageIds].map(lockKey))]
    .map(BigInt)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map(String);
}

/**
 * `BEGIN` and transaction-scoped advisory locks on the messages, in a fixed order (no deadlocks between
 * instances: serialises read-modify-write of one message's row across consumers), as one simple-protocol
 * query (one round trip instead of two): the keys are integers written by BigInt, so they go into the text
 * as they are. The isolation level is named: the statements after the locks must each take their
 * snapshot when they start (READ COMMITTED), which a database or role defaulting to REPEATABLE READ would
 * otherwise take at the lock statement, before the previous holder committed.
 */
export function beginLockedText(messageIds: Iterable<string>): string {
  const keys = sortedLockKeys(messageIds);
  const begin = 'BEGIN ISOLATION LEVEL READ COMMITTED';
  if (keys.length === 0) return begin;
  return `${begin}; SELECT pg_advisory_xact_lock(k) FROM unnest('{${keys.join(',')}}'::bigint[]) AS t(k)`;
}

/**
 * withTransaction (libs/db) that starts with the locks on `messageIds`, sent with the BEGIN
 * (beginLockedText). The statements `fn` sends come after the locks are held, so they read what the
 * previous holder committed (a statement's snapshot is taken when it starts).
 */
export function withLockedMessages<T>(
  pool: Pool,
  messageIds: Iterable<string>,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  return withTransaction(pool, fn, { begin: beginLockedText(messageIds) });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}
