// Frequent parameterised statements of a createPool pool run as named prepared statements, and a
// statement whose result type changes under it fails once, not on every later call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createPool, PREPARE_AFTER } from '../src/index.js';
import { createScratchDatabase, type ScratchDatabase } from './pg.js';

let db: ScratchDatabase;
let pool: pg.Pool;
let plain: pg.Pool;
beforeAll(async () => {
  db = await createScratchDatabase();
  pool = createPool({ connectionString: db.url, max: 1 });
  plain = createPool({ connectionString: db.url, max: 1, preparedStatements: false });
  await pool.query('CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)');
  await pool.query('INSERT INTO t SELECT g, g * 10 FROM generate_series(1, 5) g');
});
afterAll(async () => {
  await pool?.end();
  await plain?.end();
  await db?.drop();
});

async function preparedOn(p: pg.Pool): Promise<string[]> {
  const { rows } = await p.query<{ statement: string }>(
    'SELECT statement FROM pg_prepared_statements ORDER BY statement',
  );
  return rows.map((r) => r.statement);
}

describe('createPool: prepared statements', () => {
  it('prepares a parameterised text once it ran a few times, on the pool and on a checked-out client', async () => {
    const text = 'SELECT v FROM t WHERE id = $1';
    for (let i = 1; i <= PREPARE_AFTER + 2; i++) {
      const { rows } = await pool.query<{ v: number }>(text, [i]);
      expect(rows).toEqual([{ v: i * 10 }]);
    }
    const star = 'SELECT * FROM t WHERE id = $1';
    for (let i = 0; i < PREPARE_AFTER + 2; i++) await pool.query(star, [1]);
    const client = await pool.connect();
    try {
      for (let i = 0; i < PREPARE_AFTER + 2; i++)
        await client.query({ text: 'SELECT v + $2::int AS w FROM t WHERE id = $1', values: [2, i] });
    } finally {
      client.release();
    }
    const named = await preparedOn(pool);
    expect(named).toContain(text);
    expect(named).toContain('SELECT v + $2::int AS w FROM t WHERE id = $1');
    expect(named).not.toContain(star);
  });

  it('plans every execution (no generic plan guessed for unknown parameters)', async () => {
    const { rows } = await pool.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
    expect(rows).toEqual([{ plan_cache_mode: 'force_custom_plan' }]);
    const own = new URL(db.url);
    own.searchParams.set('options', '-c work_mem=8MB');
    const withOptions = createPool({ connectionString: own.toString(), max: 1 });
    try {
      const mode = await withOptions.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
      const mem = await withOptions.query<{ work_mem: string }>('SHOW work_mem');
      // the connection string's options are the deployment's: they replace the pool's
      expect([mode.rows[0]?.plan_cache_mode, mem.rows[0]?.work_mem]).toEqual(['auto', '8MB']);
    } finally {
      await withOptions.end();
    }
  });

  it('runs every statement unnamed with preparedStatements: false', async () => {
    for (let i = 0; i < PREPARE_AFTER + 2; i++) await plain.query('SELECT v FROM t WHERE id = $1', [1]);
    expect(await preparedOn(plain)).toEqual([]);
  });

  it('fails once when a prepared statement result type changes, then runs it again', async () => {
    const text = 'SELECT v FROM t WHERE id = $1 AND v >= $2';
    for (let i = 0; i < PREPARE_AFTER + 2; i++) await pool.query(text, [3, 0]);
    expect(await preparedOn(pool)).toContain(text);
    await pool.query('ALTER TABLE t ALTER COLUMN v TYPE bigint');
    await expect(pool.query(text, [3, 0])).rejects.toMatchObject({ code: '0A000' });
    const { rows } = await pool.query<{ v: string }>(text, [3, 0]);
    expect(rows).toEqual([{ v: '30' }]);
  });
});
