import { describe, expect, it } from 'vitest';
import type { Pool } from '@smshub/db';
import { DispatchStore, partKey } from './dispatch-store.js';

/** A pool that answers every SELECT with the rows it holds and remembers the keys asked for. */
function fakePool(rows: { message_id: string; part_number: number }[]) {
  const reads: string[][] = [];
  const pool = {
    query: async (_sql: string, params: [string, string]) => {
      // The key columns come as array literals ('{"a","b"}', '{1,2}': uuids hold no quote or comma).
      const list = (literal: string): string[] =>
        literal
          .slice(1, -1)
          .split(',')
          .map((e) => e.replace(/^"|"$/g, ''));
      const ids = list(params[0]);
      const parts = list(params[1]);
      reads.push(ids.map((id, i) => `${id}/${parts[i]}`));
      await new Promise((r) => setTimeout(r, 5));
      return {
        rows: rows.map((r) => ({
          ...r,
          state: 'sent',
          attempt: 1,
          event: Buffer.from('e'),
          connector_id: 'c',
        })),
      };
    },
  };
  return { pool: pool as unknown as Pool, reads };
}

const a = '0190a1b2-0000-7000-8000-00000000000a';
const b = '0190a1b2-0000-7000-8000-00000000000b';

describe('DispatchStore.getMany', () => {
  it('reads the parts asked for in one turn with one statement, and each caller finds its own', async () => {
    const { pool, reads } = fakePool([{ message_id: b, part_number: 1 }]);
    const store = new DispatchStore(pool, 'r1');
    const [first, second] = await Promise.all([
      store.getMany([{ messageId: a, partNumber: 1 }]),
      store.getMany([{ messageId: b, partNumber: 1 }]),
    ]);
    expect(reads).toEqual([[`${a}/1`, `${b}/1`]]);
    expect(first.get(partKey({ messageId: a, partNumber: 1 }))).toBeUndefined();
    expect(second.get(partKey({ messageId: b, partNumber: 1 }))?.state).toBe('sent');
  });

  it('reads again for a request made after a read started (it must see the rows written since)', async () => {
    const { pool, reads } = fakePool([]);
    const store = new DispatchStore(pool, 'r1');
    const first = store.getMany([{ messageId: a, partNumber: 1 }]);
    await new Promise((r) => setImmediate(r));
    await store.getMany([{ messageId: a, partNumber: 1 }]);
    await first;
    expect(reads).toEqual([[`${a}/1`], [`${a}/1`]]);
  });
});
