import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  DEFAULT_MIGRATIONS_DIR,
  migrate,
  MigrationError,
  withTransaction,
} from '../src/index.js';
import { createScratchDatabase, type ScratchDatabase } from './pg.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function freshDatabase(): Promise<{ db: ScratchDatabase; pool: pg.Pool; pool2: pg.Pool }> {
  const db = await createScratchDatabase();
  const pool = createPool({ connectionString: db.url, max: 2, applicationName: 'db-test' });
  const pool2 = createPool({ connectionString: db.url, max: 2, applicationName: 'db-test-2' });
  cleanups.push(async () => {
    await pool.end();
    await pool2.end();
    await db.drop();
  });
  return { db, pool, pool2 };
}

async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'smshub-migrations-'));
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Tables, columns, constraints, indexes and functions of the public schema, as comparable text. */
async function schemaSnapshot(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ item: string }>(`
    SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(column_default, '') AS item
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    ORDER BY 1`);
  return rows.map((r) => r.item);
}

async function migrationFileIds(dir = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => f.slice(0, -4));
}

describe('migrate', () => {
  let all: string[];
  beforeAll(async () => {
    all = await migrationFileIds();
    expect(all[0]).toBe('0001_init');
  });

  it('applies every migration to an empty database, and a second run changes nothing', async () => {
    const { pool } = await freshDatabase();
    const first = await migrate(pool);
    expect(first).toEqual({ applied: all, skipped: [] });

    const recorded = await pool.query<{ version: string; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    expect(recorded.rows.map((r) => `${r.version}_${r.name}`)).toEqual(all);
    for (const r of recorded.rows) expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);

    const before = await schemaSnapshot(pool);
    expect(before).toContain('column accounts.system_id text ');
    const second = await migrate(pool);
    expect(second).toEqual({ applied: [], skipped: all });
    expect(await schemaSnapshot(pool)).toEqual(before);
    expect((await pool.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n).toBe(all.length);
  });

  it('creates an accounts table that enforces its rules', async () => {
    const { pool } = await freshDatabase();
    await migrate(pool);
    const hash = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA';
    const { rows } = await pool.query(
      `INSERT INTO accounts (system_id, password_hash, currency) VALUES ('acme', $1, 'EUR') RETURNING *`,
      [hash],
    );
    expect(rows[0]).toMatchObject({
      system_id: 'acme',
      enabled: true,
      allowed_bind_types: ['transmitter', 'receiver', 'transceiver'],
      charge_on: 'submit',
      credit_limit_minor: '0',
      currency: 'EUR',
    });
    expect(rows[0].id).toMatch(/^[0-9a-f-]{36}$/);
    const bad = (sql: string, params: unknown[]) => expect(pool.query(sql, params)).rejects.toThrow();
    await bad(`INSERT INTO accounts (system_id, password_hash, currency) VALUES ('acme', $1, 'EUR')`, [hash]);
    await bad(
      `INSERT INTO accounts (system_id, password_hash, currency) VALUES ('sixteen_chars_xx', $1, 'EUR')`,
      [hash],
    );
    await bad(
      `INSERT INTO accounts (system_id, password_hash, currency) VALUES ('b', 'plaintext', 'EUR')`,
      [],
    );
    await bad(
      `INSERT INTO accounts (system_id, password_hash, currency, charge_on) VALUES ('c', $1, 'EUR', 'never')`,
      [hash],
    );
    await bad(`INSERT INTO accounts (system_id, password_hash) VALUES ('d', $1)`, [hash]);
  });

  it('is safe when two migrators run at the same time: each migration is applied once', async () => {
    const { pool, pool2 } = await freshDatabase();
    const [a, b] = await Promise.all([migrate(pool), migrate(pool2)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(all);
    expect(a.applied.filter((id) => b.applied.includes(id))).toEqual([]);
    const { rows } = await pool.query<{ version: string; n: number }>(
      'SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version',
    );
    expect(rows.length).toBe(all.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });

  it('refuses to run when an applied migration file was modified', async () => {
    const { pool } = await freshDatabase();
    const dir = await copyOfMigrations();
    await migrate(pool, { dir });
    await appendFile(join(dir, '0001_init.sql'), '\nALTER TABLE accounts ADD COLUMN sneaky text;\n');
    await writeFile(join(dir, '9999_later.sql'), 'CREATE TABLE later (id int);\n');
    const err = await migrate(pool, { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(/migration 0001_init\.sql was changed after it was applied/);
    // Nothing ran: neither the edit nor the pending migration.
    const cols = await pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'sneaky'`,
    );
    expect(cols.rowCount).toBe(0);
    expect((await pool.query(`SELECT to_regclass('public.later') AS t`)).rows[0].t).toBeNull();
  });

  it('does not treat CRLF line ends as a change', async () => {
    const { pool } = await freshDatabase();
    const dir = await copyOfMigrations();
    await migrate(pool, { dir });
    const file = join(dir, '0001_init.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/\n/g, '\r\n'));
    expect(await migrate(pool, { dir })).toEqual({ applied: [], skipped: all });
  });

  it('rolls back a failing migration completely and applies nothing after it', async () => {
    const { pool } = await freshDatabase();
    const dir = await copyOfMigrations();
    await writeFile(join(dir, '9000_half.sql'), 'CREATE TABLE half (id int);\nSELECT no_such_function();\n');
    await writeFile(join(dir, '9001_after.sql'), 'CREATE TABLE after_half (id int);\n');
    await expect(migrate(pool, { dir })).rejects.toThrow(
      /migration 9000_half\.sql failed and was rolled back: .*no_such_function/,
    );
    expect((await pool.query(`SELECT to_regclass('public.half') AS t`)).rows[0].t).toBeNull();
    expect((await pool.query(`SELECT to_regclass('public.after_half') AS t`)).rows[0].t).toBeNull();
    const versions = (
      await pool.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY 1')
    ).rows;
    expect(versions.map((r) => r.version)).toEqual(all.map((id) => id.slice(0, 4)));
    // The advisory lock was released: fixing the file lets the next run proceed.
    await writeFile(join(dir, '9000_half.sql'), 'CREATE TABLE half (id int);\n');
    expect((await migrate(pool, { dir })).applied).toEqual(['9000_half', '9001_after']);
  });

  it('rejects badly named migration files before touching the database', async () => {
    const { pool } = await freshDatabase();
    const dir = await copyOfMigrations();
    await writeFile(join(dir, '2_oops.sql'), 'SELECT 1;\n');
    await expect(migrate(pool, { dir })).rejects.toThrow(/2_oops\.sql is not named NNNN_description\.sql/);
    expect((await pool.query(`SELECT to_regclass('public.schema_migrations') AS t`)).rows[0].t).toBeNull();
  });
});

describe('withTransaction', () => {
  it('commits on success and rolls back on error, releasing the client either way', async () => {
    const { pool } = await freshDatabase();
    await pool.query('CREATE TABLE t (v int)');
    expect(
      await withTransaction(
        pool,
        async (c) => (await c.query('INSERT INTO t VALUES (1) RETURNING v')).rows[0].v,
      ),
    ).toBe(1);
    await expect(
      withTransaction(pool, async (c) => {
        await c.query('INSERT INTO t VALUES (2)');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await pool.query('SELECT v FROM t ORDER BY v')).rows).toEqual([{ v: 1 }]);
    expect(pool.idleCount).toBe(pool.totalCount);
  });

  it('sends a given begin text, and rolls back when a statement in it fails', async () => {
    const { pool } = await freshDatabase();
    await pool.query('CREATE TABLE t (v int)');
    expect(
      await withTransaction(pool, async (c) => (await c.query('SHOW transaction_isolation')).rows[0], {
        begin: 'BEGIN ISOLATION LEVEL SERIALIZABLE; INSERT INTO t VALUES (1)',
      }),
    ).toEqual({ transaction_isolation: 'serializable' });
    await expect(
      withTransaction(pool, async () => 'never', { begin: 'BEGIN; INSERT INTO t VALUES (2); SELECT 1/0' }),
    ).rejects.toThrow('division by zero');
    // the first committed with its begin's insert, the second left nothing, and the clients are usable
    expect((await pool.query('SELECT v FROM t ORDER BY v')).rows).toEqual([{ v: 1 }]);
    expect((await pool.query('SHOW transaction_isolation')).rows[0]).toEqual({
      transaction_isolation: 'read committed',
    });
    expect(pool.idleCount).toBe(pool.totalCount);
  });
});
