import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from '@smshub/logging';
import { MigrationError } from './errors.js';

/** libs/db/migrations, found from this file (src/ or dist/). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** `NNNN_description.sql`: four-digit version, lower-case snake_case description. */
export const MIGRATION_FILE = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;

/**
 * Key of the session-level advisory lock held while migrating: ('smsh' as int32, 1). Any other
 * migrator for this schema waits on the same lock.
 */
const LOCK_KEY = [0x736d7368, 1] as const;

export interface MigrationFile {
  /** "0001" */
  version: string;
  /** "0001_init" (file name without .sql); what migrate() reports. */
  id: string;
  /** "init" */
  name: string;
  file: string;
  sql: string;
  /** sha256 (hex) of the file's text with CRLF line ends turned into LF. */
  checksum: string;
}

export interface MigrateOptions {
  /** Directory with NNNN_description.sql files. Default DEFAULT_MIGRATIONS_DIR. */
  dir?: string;
  logger?: Logger;
}

export interface MigrateResult {
  /** Ids ("0001_init") applied by this call, in order. */
  applied: string[];
  /** Ids already applied before this call. */
  skipped: string[];
}

/** Reads and validates the migration files of `dir`, sorted by version. Other non-.sql files are ignored. */
export async function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new MigrationError(`cannot read the migrations directory ${dir}`, { cause: err });
  }
  const files: MigrationFile[] = [];
  const seen = new Map<string, string>();
  for (const file of names.filter((n) => n.endsWith('.sql')).sort()) {
    const m = MIGRATION_FILE.exec(file);
    if (!m) {
      throw new MigrationError(
        `migration file ${file} is not named NNNN_description.sql (e.g. 0002_add_routes.sql)`,
      );
    }
    const version = m[1]!;
    const other = seen.get(version);
    if (other) throw new MigrationError(`migrations ${other} and ${file} share version ${version}`);
    seen.set(version, file);
    // CRLF is normalised so a Windows checkout (git autocrlf) does not look like an edited migration.
    const sql = (await readFile(join(dir, file), 'utf8')).replace(/\r\n/g, '\n');
    files.push({
      version,
      id: file.slice(0, -'.sql'.length),
      name: m[2]!,
      file,
      sql,
      checksum: createHash('sha256').update(sql, 'utf8').digest('hex'),
    });
  }
  return files;
}

interface AppliedRow {
  version: string;
  name: string;
  checksum: string;
}

/**
 * Applies the pending migrations of `dir` in version order, each in its own transaction, and records
 * them in schema_migrations. Holds a Postgres advisory lock for the whole run, so concurrent migrators
 * (several replicas starting at once) apply each file exactly once. Refuses to run when an applied file's
 * checksum changed. Never runs on import.
 */
export async function migrate(pool: pg.Pool, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const log = opts.logger?.child({ component: 'migrate' });
  const files = await readMigrations(opts.dir);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...LOCK_KEY]);
    try {
      return await migrateLocked(client, files, log);
    } finally {
      try {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEY]);
      } catch (err) {
        // Without the unlock the session must not go back to the pool holding the lock.
        broken = err instanceof Error ? err : new Error(String(err));
      }
    }
  } finally {
    client.release(broken);
  }
}

async function migrateLocked(
  client: pg.PoolClient,
  files: MigrationFile[],
  log: Logger | undefined,
): Promise<MigrateResult> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    text PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const { rows } = await client.query<AppliedRow>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const applied = new Map(rows.map((r) => [r.version, r]));

  for (const f of files) {
    const row = applied.get(f.version);
    if (row && row.checksum !== f.checksum) {
      throw new MigrationError(
        `migration ${f.file} was changed after it was applied (recorded sha256 ${row.checksum.slice(0, 12)}…, ` +
          `file now ${f.checksum.slice(0, 12)}…). Applied migrations are never edited or re-run: restore the ` +
          `file and put the change in a new migration.`,
      );
    }
  }
  const known = new Set(files.map((f) => f.version));
  for (const r of rows) {
    if (!known.has(r.version)) {
      log?.warn(
        { version: r.version, name: r.name },
        'database has a migration this code does not know (newer release?)',
      );
    }
  }

  const result: MigrateResult = { applied: [], skipped: [] };
  const highest = rows.at(-1)?.version;
  for (const f of files) {
    if (applied.has(f.version)) {
      result.skipped.push(f.id);
      continue;
    }
    if (highest !== undefined && f.version < highest) {
      log?.warn({ migration: f.id, highest }, 'applying a migration older than the newest applied one');
    }
    try {
      await client.query('BEGIN');
      await client.query(f.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        f.version,
        f.name,
        f.checksum,
      ]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      const detail = err instanceof Error ? err.message : String(err);
      throw new MigrationError(`migration ${f.file} failed and was rolled back: ${detail}`, { cause: err });
    }
    log?.info({ migration: f.id }, 'migration applied');
    result.applied.push(f.id);
  }
  return result;
}
