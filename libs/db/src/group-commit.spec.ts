import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

interface Row {
  id: string;
  poison?: boolean;
}

function recorder(maxItems = 100, keyed = true, lingerMs?: number) {
  const commits: string[][] = [];
  const group = new GroupCommit<Row, string[]>({
    commit: async (rows) => {
      await new Promise((r) => setTimeout(r, 5));
      if (rows.some((r) => r.poison)) throw new Error('balance in another currency');
      const ids = rows.map((r) => r.id);
      commits.push(ids);
      return ids;
    },
    ...(keyed ? { keyOf: (r: Row) => r.id } : {}),
    maxItems,
    ...(lingerMs !== undefined ? { lingerMs } : {}),
  });
  return { group, commits };
}

describe('GroupCommit', () => {
  it('commits the batches pushed in one turn together, and those arriving meanwhile in the next commit', async () => {
    const { group, commits } = recorder();
    const first = [group.push([{ id: 'a' }, { id: 'b' }]), group.push([{ id: 'c' }])];
    await new Promise((r) => setImmediate(r));
    const later = [group.push([{ id: 'd' }]), group.push([{ id: 'e' }])];
    const results = await Promise.all([...first, ...later]);
    expect(commits).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    // each member gets the result of the commit that carried it
    expect(results[0]).toEqual(['a', 'b', 'c']);
    expect(results[3]).toEqual(['d', 'e']);
  });

  it('never puts two members with the same key in one commit, and keeps their order', async () => {
    const { group, commits } = recorder();
    await Promise.all([
      group.push([{ id: 'a' }]),
      group.push([{ id: 'a' }, { id: 'x' }]),
      group.push([{ id: 'x' }]),
      group.push([{ id: 'b' }]),
    ]);
    expect(commits).toEqual([['a', 'b'], ['a', 'x'], ['x']]);
  });

  it('respects the size limit but never splits a member', async () => {
    const { group, commits } = recorder(3);
    await Promise.all([
      group.push([{ id: 'a' }, { id: 'b' }]),
      group.push([{ id: 'c' }, { id: 'd' }]),
      group.push([{ id: 'e' }, { id: 'f' }, { id: 'g' }, { id: 'h' }]),
    ]);
    expect(commits).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f', 'g', 'h'],
    ]);
  });

  it('commits the members of a failed group one by one, so only the failing one gets the error', async () => {
    const { group, commits } = recorder();
    const results = await Promise.allSettled([
      group.push([{ id: 'a' }]),
      group.push([{ id: 'b', poison: true }]),
      group.push([{ id: 'c' }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('balance in another currency'));
    expect(commits).toEqual([['a'], ['c']]);
  });

  it('without keyOf, members holding the same key share a commit, in the order they were pushed', async () => {
    const { group, commits } = recorder(100, false);
    await Promise.all([
      group.push([{ id: 'a' }]),
      group.push([{ id: 'a' }, { id: 'x' }]),
      group.push([{ id: 'x' }]),
    ]);
    expect(commits).toEqual([['a', 'a', 'x', 'x']]);
  });

  it('with lingerMs, members of later turns share the commit; a full queue does not wait for the linger', async () => {
    // a linger far longer than the test's timeout: only a full queue (maxItems 3) can start the commit
    const { group, commits } = recorder(3, false, 600_000);
    const a = group.push([{ id: 'a' }]);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
    const b = group.push([{ id: 'b' }]);
    await new Promise((r) => setImmediate(r));
    const c = group.push([{ id: 'c' }]);
    await Promise.all([a, b, c]);
    expect(commits).toEqual([['a', 'b', 'c']]);
  });

  it('flush() starts a lingering commit at once', async () => {
    const { group, commits } = recorder(100, false, 600_000);
    const a = group.push([{ id: 'a' }]);
    await new Promise((r) => setImmediate(r));
    group.flush();
    await a;
    expect(commits).toEqual([['a']]);
  });
});
