import { describe, expect, it } from 'vitest';
import { starResult } from './prepared.js';

describe('starResult (statements left unnamed: a migration may add columns to their result)', () => {
  it('finds a * result list', () => {
    expect(starResult('SELECT * FROM stats_rated WHERE message_id = ANY($1::text[])')).toBe(true);
    expect(starResult('UPDATE t p SET a = $1 WHERE id = $2 RETURNING p.*')).toBe(true);
    expect(starResult('DELETE FROM t WHERE id = $1 RETURNING *')).toBe(true);
    expect(starResult('SELECT a, t.* FROM t WHERE id = $1')).toBe(true);
    expect(starResult('SELECT "t".*\nFROM "t" WHERE id = $1')).toBe(true);
  });

  it('leaves count(*), explicit column lists and * inside a statement (not its result) to be prepared', () => {
    expect(
      starResult('INSERT INTO s (a, b) SELECT * FROM unnest($1::int[], $2::text[]) ON CONFLICT DO NOTHING'),
    ).toBe(false);
    expect(
      starResult(
        'WITH st AS (INSERT INTO s SELECT * FROM unnest($1::int[])) SELECT count(*)::int AS n FROM st',
      ),
    ).toBe(false);
    expect(starResult('SELECT count(*) AS n FROM t WHERE a = $1')).toBe(false);
    expect(
      starResult('INSERT INTO t (a, b) SELECT u.a, u.b FROM unnest($1::int[], $2::text[]) AS u(a, b)'),
    ).toBe(false);
    expect(starResult('SELECT a, b FROM t WHERE id = $1 RETURNING a')).toBe(false);
  });
});
