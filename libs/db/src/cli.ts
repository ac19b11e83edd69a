#!/usr/bin/env node
// smshub-db: database administration.
//   migrate   apply pending migrations from libs/db/migrations (DATABASE_URL)
// Exit codes: 0 done, 1 database unreachable or a migration failed, 64 usage, 78 bad configuration.
import { configOrExit, databaseEnv, logEnv, z } from '@smshub/config';
import { createLogger } from '@smshub/logging';
import { MigrationError } from './errors.js';
import { migrate } from './migrate.js';
import { createPool } from './pool.js';

const SERVICE = 'smshub-db';
const EX_USAGE = 64;

/** host:port/database of a Postgres URL, without user or password. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

function plural(n: number): string {
  return `${n} migration${n === 1 ? '' : 's'}`;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
]);

function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && (CONNECTION_CODES.has(code) || code.startsWith('28') || code === '3D000' || code === '57P03'))
    return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  return /timeout expired|Connection terminated/i.test(err.message);
}

async function runMigrate(): Promise<number> {
  const config = configOrExit(z.object({ ...databaseEnv, ...logEnv }), { service: SERVICE });
  const logger = createLogger({
    service: SERVICE,
    level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
  });
  const where = describeDatabase(config.DATABASE_URL);
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: 1,
    applicationName: SERVICE,
    logger,
  });
  try {
    const { applied, skipped } = await migrate(pool, { logger });
    for (const id of applied) process.stdout.write(`applied ${id}\n`);
    process.stdout.write(
      applied.length === 0
        ? `${where}: up to date (${plural(skipped.length)} already applied)\n`
        : `${where}: applied ${plural(applied.length)}, ${skipped.length} already applied\n`,
    );
    return 0;
  } catch (err) {
    const detail =
      err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
    if (err instanceof MigrationError) {
      process.stderr.write(`${SERVICE}: migration refused on ${where}: ${detail}\n`);
    } else if (isConnectionError(err)) {
      process.stderr.write(`${SERVICE}: cannot reach the database at ${where}: ${detail}\n`);
    } else {
      process.stderr.write(`${SERVICE}: migrating ${where} failed: ${detail}\n`);
    }
    return 1;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'migrate':
      return runMigrate();
    default:
      process.stderr.write(`usage: ${SERVICE} migrate\n  Applies pending SQL migrations to DATABASE_URL.\n`);
      return EX_USAGE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${SERVICE}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
