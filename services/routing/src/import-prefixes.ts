// CLI: npx tsx services/routing/src/import-prefixes.ts [--replace] file.csv
// Loads a prefix CSV (prefix,country,mcc,mnc,operator) into routing_number_prefixes of DATABASE_URL.
// Every bad line is reported and nothing is written. --replace also deletes prefixes not in the file.
// Afterwards publish a NUMBER_PREFIX RELOAD config change (admin) so running routing replicas reload.
//
// It imports no workspace library at run time (only pg and the routing domain), so it runs under plain
// `npx tsx` without the @smshub/source condition; its one variable is therefore checked here.

import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { PrefixCsvError } from './domain/prefix-table.js';
import { importPrefixCsv } from './prefix-import.js';

const EX_USAGE = 64;
const EX_CONFIG = 78;

const args = process.argv.slice(2);
const replace = args.includes('--replace');
const files = args.filter((a) => a !== '--replace');
if (files.length !== 1 || files[0]!.startsWith('-')) {
  process.stderr.write('usage: import-prefixes [--replace] <file.csv>   (DATABASE_URL must be set)\n');
  process.exit(EX_USAGE);
}
const url = process.env['DATABASE_URL'] ?? '';
if (!/^postgres(ql)?:\/\//.test(url)) {
  process.stderr.write('DATABASE_URL: must be a postgres:// URL\n');
  process.exit(EX_CONFIG);
}
const pool = new pg.Pool({ connectionString: url, max: 2 });
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
