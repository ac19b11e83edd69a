// arrayLiteral's text read back by PostgreSQL: the same values as the ones written (and as pg's own arrays).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { arrayLiteral, arrayLiteralOf } from '../src/index.js';
import { serverUrl } from './pg.js';

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
});
afterAll(async () => {
  await client.end();
});

const TEXTS = [
  '',
  'NULL',
  'null',
  'a,b',
  '{x}',
  ' spaced ',
  'quo"te',
  'back\\slash',
  '\\"',
  'ünï ✓ 𝄞',
  'tab\tnl\n',
  'Null',
  'nulls',
  ' a',
  'say "hi"',
  'c:\\x',
  'é€',
];

describe('arrayLiteral (array parameters as PostgreSQL array text)', () => {
  it('reads back as the same text[], bigint[], int[], bool[], uuid[] and timestamptz[] values (Dates too)', async () => {
    const texts = [...TEXTS, null];
    const bigints = [0n, -1n, 9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n, null];
    const ints = [0, -5, 2_147_483_647, null];
    const bools = [true, false, null];
    const uuids = ['01939a4e-0000-7000-8000-000000000001', null];
    const times = [new Date('2026-12-07T04:40:00.123Z').toISOString(), null];
    const dates = [new Date('2026-12-07T04:40:00.123Z'), new Date(0), null];
    const { rows } = await client.query(
      'SELECT $1::text[] AS t, $2::bigint[]::text[] AS b, $3::int[] AS i, $4::bool[] AS o, $5::uuid[]::text[] AS u, $6::timestamptz[] AS d, $7::timestamptz[] AS dd',
      [
        arrayLiteralOf(texts),
        arrayLiteralOf(bigints),
        arrayLiteralOf(ints),
        arrayLiteralOf(bools),
        arrayLiteralOf(uuids),
        arrayLiteralOf(times),
        arrayLiteralOf(dates),
      ],
    );
    expect(rows[0].t).toEqual(texts);
    expect(rows[0].b).toEqual(bigints.map((v) => (v === null ? null : v.toString())));
    expect(rows[0].i).toEqual(ints);
    expect(rows[0].o).toEqual(bools);
    expect(rows[0].u).toEqual(uuids);
    expect(rows[0].d.map((d: Date | null) => d?.toISOString() ?? null)).toEqual(times);
    expect(rows[0].dd).toEqual(dates);
    // The same as pg's own array parameter.
    const own = await client.query('SELECT $1::text[] AS t', [texts]);
    expect(own.rows[0].t).toEqual(rows[0].t);
  });

  it('is an empty array for no rows, and takes each row through the getter', async () => {
    const { rows } = await client.query('SELECT $1::text[] AS e, $2::text[] AS g', [
      arrayLiteral([], () => 'x'),
      arrayLiteral([{ id: 'a' }, { id: 'b"' }], (r) => r.id),
    ]);
    expect(rows[0].e).toEqual([]);
    expect(rows[0].g).toEqual(['a', 'b"']);
    expect(() => arrayLiteralOf([{} as unknown as string])).toThrow(TypeError);
  });
});
