import { describe, expect, it } from 'vitest';
import { beginLockedText, isUuid, lockKey, unnestInsert, unnestInsertAll, unnestUpdate } from './sql.js';

describe('sql helpers', () => {
  it('derives a stable signed 64-bit lock key from the random tail of a hub id', () => {
    const id = '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f';
    expect(lockKey(id)).toBe(lockKey(id.toUpperCase()));
    expect(lockKey(id)).toBe(BigInt.asIntN(64, 0x9f103a4b5c6d7e8fn).toString());
    expect(lockKey('01935f3e-8c2a-7b6e-1f10-3a4b5c6d7e8f')).not.toBe(lockKey(id));
  });

  it('sends bytea and jsonb columns as one buffer with the byte range of each row', () => {
    const { text, values } = unnestInsert(
      't',
      [
        ['id', 'text'],
        ['at', 'timestamptz'],
        ['payload', 'bytea'],
        ['state', 'jsonb'],
      ],
      [
        ['a', new Date(Date.UTC(2026, 0, 1)), Buffer.from([1, 2]), '{"n":"é"}'],
        ['b', null, new Uint8Array([3]), null],
      ],
      'ON CONFLICT DO NOTHING',
    );
    expect(text).toBe(
      'INSERT INTO t (id, at, payload, state) SELECT u.c0, u.c1, substring($3::bytea FROM u.c2s FOR u.c2l), ' +
        "convert_from(substring($6::bytea FROM u.c3s FOR u.c3l), 'UTF8')::jsonb " +
        'FROM unnest($1::text[], $2::timestamptz[], $4::int[], $5::int[], $7::int[], $8::int[]) ' +
        'AS u(c0, c1, c2s, c2l, c3s, c3l) ON CONFLICT DO NOTHING',
    );
    // scalar columns as libs/db array literals (its spec and test cover their quoting)
    expect(values).toEqual([
      '{"a","b"}',
      '{2026-01-01T00:00:00.000Z,NULL}',
      Buffer.from([1, 2, 3]),
      '{1,3}',
      '{2,1}',
      Buffer.from('{"n":"é"}'),
      '{1,NULL}',
      '{10,NULL}', // bytes, not characters
    ]);
  });

  it('updates existing rows matched on the first column, the arrays travelling as for an insert', () => {
    const { text, values } = unnestUpdate(
      't',
      [
        ['id', 'uuid'],
        ['n', 'integer'],
        ['state', 'json'],
      ],
      [['01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f', 2, '{"a":1}']],
    );
    expect(text).toBe(
      "UPDATE t AS t SET n = u.c1, state = convert_from(substring($3::bytea FROM u.c2s FOR u.c2l), 'UTF8')::json " +
        'FROM unnest($1::uuid[], $2::integer[], $4::int[], $5::int[]) AS u(c0, c1, c2s, c2l) WHERE t.id = u.c0',
    );
    expect(values).toEqual([
      '{"01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f"}',
      '{2}',
      Buffer.from('{"a":1}'),
      '{1}',
      '{7}',
    ]);
  });

  it('accepts canonical UUIDs only', () => {
    expect(isUuid('01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f')).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid("01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f' OR 1=1")).toBe(false);
  });

  it('puts several inserts in one statement, parameters numbered across them; none without rows', () => {
    const a = {
      table: 'a',
      columns: [['id', 'text']] as const,
      rows: [['x'], ['y']],
      suffix: 'ON CONFLICT DO NOTHING',
    };
    const b = {
      table: 'b',
      columns: [
        ['n', 'integer'],
        ['p', 'bytea'],
      ] as const,
      rows: [[1, Buffer.from([7])]],
    };
    const both = unnestInsertAll([a, b]);
    expect(both?.text).toBe(
      'WITH w0 AS (INSERT INTO a (id) SELECT u.c0 FROM unnest($1::text[]) AS u(c0) ON CONFLICT DO NOTHING) ' +
        'INSERT INTO b (n, p) SELECT u.c0, substring($3::bytea FROM u.c1s FOR u.c1l) ' +
        'FROM unnest($2::integer[], $4::int[], $5::int[]) AS u(c0, c1s, c1l) ',
    );
    expect(both?.values).toEqual(['{"x","y"}', '{1}', Buffer.from([7]), '{1}', '{1}']);
    // an insert without rows is left out; alone, the other is a plain INSERT
    expect(unnestInsertAll([{ ...a, rows: [] }, b])?.text).toBe(unnestInsert('b', b.columns, b.rows).text);
    expect(
      unnestInsertAll([
        { ...a, rows: [] },
        { ...b, rows: [] },
      ]),
    ).toBeUndefined();
  });

  it('sends BEGIN with the locks of the messages, distinct and in ascending key order', () => {
    const ids = ['01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f', '01935f3e-8c2a-7b6e-1f10-3a4b5c6d7e8f'];
    const keys = ids.map(lockKey).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    expect(beginLockedText([...ids, ids[0]!.toUpperCase()])).toBe(
      `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(k) FROM unnest('{${keys.join(',')}}'::bigint[]) AS t(k)`,
    );
    expect(beginLockedText([])).toBe('BEGIN ISOLATION LEVEL READ COMMITTED');
  });
});
