import { describe, expect, it } from 'vitest';
import {
  batchKeys,
  bucketOf,
  decideStateful,
  InMemorySharedWindows,
  windowKey,
  type StatefulCheck,
  type WindowsView,
} from './shared-windows.js';

const dest = { e164: '+447700900001', country: 'GB' };
const EMPTY: WindowsView = { admitted: new Set(), totals: new Map(), firsts: new Map() };

function velocity(id: string, key = 'acc_1', limit = 3): StatefulCheck {
  return {
    hubMessageId: id,
    destination: dest,
    duplicates: [],
    velocity: [{ ruleId: 'v1', ruleKey: 'v1@60000', key, limit, windowMs: 60_000, reason: 'too many' }],
  };
}

function duplicate(id: string, key = 'digest'): StatefulCheck {
  return {
    hubMessageId: id,
    destination: dest,
    duplicates: [{ ruleId: 'd1', ruleKey: 'd1@30000', key, windowMs: 30_000, reason: (f) => `first: ${f}` }],
    velocity: [],
  };
}

describe('decideStateful', () => {
  it('admits the first messages of a batch up to the limit, first come first served', () => {
    const out = decideStateful(
      ['a', 'b', 'c', 'd', 'e'].map((id) => velocity(id)),
      EMPTY,
      120_000,
    );
    expect(out.verdicts.map((v) => v?.category ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'velocity', 'velocity']);
    expect(out.verdicts[3]).toMatchObject({ ruleId: 'v1', reason: 'too many' });
    expect(out.increments).toEqual([
      { ruleKey: 'v1@60000', key: 'acc_1', bucket: bucketOf(120_000, 60_000), n: 3 },
    ]);
    expect(out.admitted).toEqual(['a', 'b', 'c']);
  });

  it('counts what other replicas admitted before the batch', () => {
    const view = { ...EMPTY, totals: new Map([[windowKey('v1@60000', 'acc_1'), 2]]) };
    const out = decideStateful(
      ['a', 'b'].map((id) => velocity(id)),
      view,
      0,
    );
    expect(out.verdicts.map((v) => v?.category ?? 'ok')).toEqual(['ok', 'velocity']);
  });

  it('neither counts nor rejects a message already admitted (a redelivery), nor one twice in a batch', () => {
    const view = {
      admitted: new Set(['a']),
      totals: new Map([[windowKey('v1@60000', 'acc_1'), 3]]),
      firsts: new Map([[windowKey('d1@30000', 'digest'), 'a']]),
    };
    const a = { ...velocity('a'), duplicates: duplicate('a').duplicates };
    const out = decideStateful([a, a], view, 0);
    expect(out.verdicts).toEqual([null, null]);
    expect(out.increments).toEqual([]);
    expect(out.admitted).toEqual([]);
    const fresh = decideStateful([velocity('x', 'acc_2'), velocity('x', 'acc_2')], EMPTY, 0);
    expect(fresh.increments[0]?.n).toBe(1);
  });

  it('rejects the same content from another message while the first holds the key', () => {
    const out = decideStateful([duplicate('a'), duplicate('b')], EMPTY, 1_000);
    expect(out.verdicts[0]).toBeNull();
    expect(out.verdicts[1]).toMatchObject({ category: 'duplicate', ruleId: 'd1', reason: 'first: a' });
    expect(out.firsts).toEqual([
      { ruleKey: 'd1@30000', key: 'digest', hubMessageId: 'a', expiresAtMs: 31_000 },
    ]);
  });

  it('does not count a message rejected by a duplicate rule against a velocity limit', () => {
    const both = (id: string): StatefulCheck => ({
      ...velocity(id, 'acc_1', 2),
      duplicates: duplicate(id).duplicates,
    });
    const out = decideStateful([both('a'), both('b'), velocity('c', 'acc_1', 2)], EMPTY, 0);
    expect(out.verdicts.map((v) => v?.category ?? 'ok')).toEqual(['ok', 'duplicate', 'ok']);
    expect(out.increments[0]?.n).toBe(2);
  });
});

describe('batchKeys', () => {
  it('lists each key once, sorted, with the bucket and when it stops counting', () => {
    const keys = batchKeys(
      [velocity('a', 'z'), velocity('b', 'b'), velocity('c', 'z'), duplicate('d')],
      61_000,
    );
    expect(keys.velocity.map((v) => v.key)).toEqual(['b', 'z']);
    // Buckets of 6 s: 61 s is bucket 10; it counts while the current bucket is 10..20, until 126 s.
    expect(keys.velocity[0]).toMatchObject({ bucket: 10, expiresAtMs: 126_000 });
    expect(keys.duplicates).toEqual([{ ruleKey: 'd1@30000', key: 'digest', expiresAtMs: 91_000 }]);
    expect(keys.ids).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('InMemorySharedWindows', () => {
  it('slides: a window admits again once the old buckets left it', async () => {
    const w = new InMemorySharedWindows();
    const verdicts = await w.decide(
      ['a', 'b', 'c', 'd'].map((id) => velocity(id)),
      0,
    );
    expect(verdicts.filter((v) => v === null)).toHaveLength(3);
    // 60 s later the first bucket still counts (window plus one bucket of history) ...
    expect((await w.decide([velocity('e')], 60_000))[0]?.category).toBe('velocity');
    // ... one bucket later it no longer does.
    expect(await w.decide([velocity('f')], 66_000)).toEqual([null]);
  });
});
