// The retention purge: a rated message's counted revision (stats_rated) is deleted once it is older than
// STATS_CORRECTION_DAYS and kept before; found through the BRIN index on stored_at (migration 0906).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, migrate, type Pool } from '@smshub/db';
import { createTestDatabase, type TestDatabase } from '@smshub/testing';
import { RollupStore } from '../src/store.js';

let db: TestDatabase;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 2 });
  await migrate(pool);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('stats retention', () => {
  it('deletes the counted revisions older than the correction window and keeps the others', async () => {
    const { rows: idx } = await pool.query<{ amname: string }>(
      `SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'stats_rated_stored_at'`,
    );
    expect(idx).toEqual([{ amname: 'brin' }]);
    // 3,000 rows appended in stored_at order, one a minute ending now: the first ~1,560 are over a day old
    await pool.query(
      `INSERT INTO stats_rated (message_id, revision, bucket, key_id, delivered, failed, segments, missing_rate,
         unconverted, revenue, cost, margin, stored_at)
       SELECT 'm' || g, 1, now(), 1, 1, 0, 1, 0, 0, 0, 0, 0, now() - make_interval(mins => 3000 - g)
         FROM generate_series(1, 3000) g`,
    );
    const deleted = await new RollupStore(pool, 'retention-test').purge({
      minuteDays: 14,
      hourDays: 400,
      correctionDays: 1,
    });
    const { rows } = await pool.query<{ n: number; oldest: boolean }>(
      `SELECT count(*)::int AS n, min(stored_at) >= now() - interval '1 day' AS oldest FROM stats_rated`,
    );
    expect(deleted['stats_rated']).toBe(3000 - rows[0]!.n);
    expect(rows[0]).toEqual({ n: 1440, oldest: true });
  });
});
