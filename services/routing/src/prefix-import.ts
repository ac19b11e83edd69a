// Imports number prefixes (the CSV of parsePrefixCsv) into routing_number_prefixes.
//
// In one transaction: every row is upserted; with `replace`, prefixes absent from the file are deleted, so
// the table becomes exactly the file. Running routing services pick the change up on the next
// config.changes.v1 event (NUMBER_PREFIX, action RELOAD); the CLI does not publish it.

// Only type imports from workspace libraries: the CLI runs under plain `npx tsx` (no source conditions).
import type { Pool } from 'pg';
import { parsePrefixCsv, type PrefixEntry } from './domain/prefix-table.js';

export interface PrefixImportResult {
  upserted: number;
  deleted: number;
}

const CHUNK = 1000;

export async function importPrefixes(
  pool: Pool,
  entries: readonly PrefixEntry[],
  options: { replace?: boolean } = {},
): Promise<PrefixImportResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = entries.slice(i, i + CHUNK);
      await client.query(
        `INSERT INTO routing_number_prefixes (prefix, country, mcc, mnc, operator)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
         ON CONFLICT (prefix) DO UPDATE
           SET country = EXCLUDED.country, mcc = EXCLUDED.mcc, mnc = EXCLUDED.mnc, operator = EXCLUDED.operator
         WHERE (routing_number_prefixes.country, routing_number_prefixes.mcc, routing_number_prefixes.mnc,
                routing_number_prefixes.operator)
               IS DISTINCT FROM (EXCLUDED.country, EXCLUDED.mcc, EXCLUDED.mnc, EXCLUDED.operator)`,
        [
          chunk.map((e) => e.prefix),
          chunk.map((e) => e.country),
          chunk.map((e) => e.mcc),
          chunk.map((e) => e.mnc),
          chunk.map((e) => e.operator),
        ],
      );
    }
    let deleted = 0;
    if (options.replace) {
      const r = await client.query(
        'DELETE FROM routing_number_prefixes WHERE NOT (prefix = ANY($1::text[]))',
        [entries.map((e) => e.prefix)],
      );
      deleted = r.rowCount ?? 0;
    }
    await client.query('COMMIT');
    return { upserted: entries.length, deleted };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Parses the CSV text (throws PrefixCsvError listing every bad line) and imports it. */
export async function importPrefixCsv(
  pool: Pool,
  csv: string,
  options: { replace?: boolean } = {},
): Promise<PrefixImportResult> {
  return importPrefixes(pool, parsePrefixCsv(csv), options);
}
