// CLI: npx tsx services/routing/src/import-prefixes.ts [--replace] file.csv
// Loads a prefix CSV (prefix,country,mcc,mnc,operator) into routing_number_prefixes of DATABASE_URL.
// Every bad line is reported and nothing is written. --replace also deletes prefixes not in the file.
// Afterwards publish a NUMBER_PREFIX RELOAD config change (admin) so running routing replicas reload.

import { readFile } from 'node:fs/promises';
import { databaseEnv, loadConfig, z } from '@smshub/config';
import { createPool } from '@smshub/db';
import { PrefixCsvError } from './domain/prefix-table.js';
import { importPrefixCsv } from './prefix-import.js';

const args = process.argv.slice(2);
const replace = args.includes('--replace');
const files = args.filter((a) => a !== '--replace');
if (files.length !== 1) {
  process.stderr.write('usage: import-prefixes [--replace] <file.csv>\n');
  process.exit(64);
}
const config = loadConfig(z.object(databaseEnv), process.env);
const pool = createPool({ connectionString: config.DATABASE_URL, max: 2 });
try {
  const csv = await readFile(files[0]!, 'utf8');
  const r = await importPrefixCsv(pool, csv, { replace });
  process.stdout.write(`imported ${r.upserted} prefixes${replace ? `, deleted ${r.deleted}` : ''}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof PrefixCsvError ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
