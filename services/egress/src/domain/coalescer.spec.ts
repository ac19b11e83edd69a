import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalescer.js';

/** A flush function whose statements the test completes by hand. */
function manualFlush() {
  const calls: { items: string[]; done: () => void; fail: (e: unknown) => void }[] = [];
  const flush = (items: string[]) =>
    new Promise<void>((done, fail) => {
      calls.push({ items, done, fail });
    });
  return { calls, flush };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Coalescer (group commit of dedupe rows)', () => {
  it('writes the items of one turn together at its end, and groups what arrives while a flush runs', async () => {
    const { calls, flush } = manualFlush();
    const c = new Coalescer(flush, { maxBatch: 100 });
    const answered: string[] = [];
    const push = (s: string) => c.push(s).then(() => void answered.push(s));
    const a = push('a');
    expect(calls).toHaveLength(0);
    await tick();
    expect(calls.map((x) => x.items)).toEqual([['a']]);
    const rest = ['b', 'c', 'd'].map(push);
    expect(calls).toHaveLength(1);
    expect(c.queued).toBe(3);
    calls[0]!.done();
    await a;
    expect(answered).toEqual(['a']);
    await tick();
    expect(calls.map((x) => x.items)).toEqual([['a'], ['b', 'c', 'd']]);
    calls[1]!.done();
    await Promise.all(rest);
    expect(answered).toEqual(['a', 'b', 'c', 'd']);
  });

  it('never puts more than maxBatch items in one flush', async () => {
    const { calls, flush } = manualFlush();
    const c = new Coalescer(flush, { maxBatch: 2 });
    const all = ['a', 'b', 'c', 'd', 'e'].map((s) => c.push(s));
    await tick();
    for (let i = 0; i < 3; i++) {
      calls[i]!.done();
      await tick();
    }
    await Promise.all(all);
    expect(calls.map((x) => x.items)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('keeps two items of the same key in separate flushes, in order', async () => {
    const { calls, flush } = manualFlush();
    const c = new Coalescer(flush, { maxBatch: 10, keyOf: (s: string) => s.split(':')[0]! });
    const all = ['x:1', 'x:2', 'y:1', 'x:3', 'z:1'].map((s) => c.push(s));
    await tick();
    for (let i = 0; i < 3; i++) {
      calls[i]!.done();
      await tick();
    }
    await Promise.all(all);
    expect(calls.map((x) => x.items)).toEqual([['x:1', 'y:1', 'z:1'], ['x:2'], ['x:3']]);
  });

  it('rejects every item of a failed flush with its error, and goes on with the next', async () => {
    const { calls, flush } = manualFlush();
    const c = new Coalescer(flush, { maxBatch: 10 });
    const first = c.push('a');
    await tick();
    const second = [c.push('b'), c.push('c')];
    calls[0]!.done();
    await first;
    await tick();
    calls[1]!.fail(new Error('database down'));
    for (const p of second) await expect(p).rejects.toThrow('database down');
    const third = c.push('d');
    await tick();
    expect(calls[2]!.items).toEqual(['d']);
    calls[2]!.done();
    await third;
  });

  it('runs up to maxInFlight flushes at once', async () => {
    const { calls, flush } = manualFlush();
    const c = new Coalescer(flush, { maxBatch: 1, maxInFlight: 2 });
    for (const s of ['a', 'b', 'c']) void c.push(s);
    await tick();
    expect(calls.map((x) => x.items)).toEqual([['a'], ['b']]);
  });

  it('after an abort, writes nothing more: queued and new items are rejected', async () => {
    const { calls, flush } = manualFlush();
    const abort = new AbortController();
    const c = new Coalescer(flush, { maxBatch: 10, signal: abort.signal });
    const inFlight = c.push('a');
    await tick();
    const queued = c.push('b');
    abort.abort(new Error('crashed'));
    await expect(queued).rejects.toThrow('crashed');
    await expect(c.push('c')).rejects.toThrow('crashed');
    calls[0]!.done();
    await inFlight;
    await tick();
    expect(calls).toHaveLength(1);
  });
});
