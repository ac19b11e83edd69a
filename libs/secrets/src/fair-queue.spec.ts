import { describe, expect, it } from 'vitest';
import { FairQueue, QueueFullError } from './fair-queue.js';

/** A task that finishes when `release()` is called; records the order tasks started in. */
function gate(started: string[], name: string): { task: () => Promise<string>; release(): void } {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    task: async () => {
      started.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('FairQueue', () => {
  it('runs at most `concurrency` tasks and serves the waiting source served least recently first', async () => {
    const q = new FairQueue({ concurrency: 1, maxPerSource: 100, maxQueued: 100 });
    const started: string[] = [];
    const gates = [
      ...Array.from({ length: 5 }, (_, i) => ['flood', gate(started, `flood${i}`)] as const),
      ['a', gate(started, 'a0')] as const,
      ['b', gate(started, 'b0')] as const,
      ['a', gate(started, 'a1')] as const,
    ];
    const results = gates.map(([src, g]) => q.run(src, g.task));
    expect(started).toEqual(['flood0']);
    expect(q.stats).toEqual({ running: 1, queued: 7, sources: 3 });
    for (const [, g] of gates) {
      g.release();
      await flush();
    }
    await Promise.all(results);
    // After flood0: a and b (never served) go first, then sources take turns; the flood waits behind itself.
    expect(started).toEqual(['flood0', 'a0', 'b0', 'flood1', 'a1', 'flood2', 'flood3', 'flood4']);
    expect(q.stats).toEqual({ running: 0, queued: 0, sources: 0 });
  });

  it('refuses at once beyond maxPerSource and maxQueued, and a failing task frees its slot', async () => {
    const q = new FairQueue({ concurrency: 2, maxPerSource: 2, maxQueued: 1 });
    const started: string[] = [];
    const a = [gate(started, 'a0'), gate(started, 'a1')];
    const ra = a.map((g) => q.run('a', g.task));
    await expect(q.run('a', async () => 'x')).rejects.toMatchObject({ scope: 'source' });
    const b = gate(started, 'b0');
    const rb = q.run('b', b.task); // queued (both slots busy)
    await expect(q.run('c', async () => 'x')).rejects.toBeInstanceOf(QueueFullError);
    a[0]!.release();
    await flush();
    expect(started).toEqual(['a0', 'a1', 'b0']);
    a[1]!.release();
    b.release();
    await expect(Promise.all([...ra, rb])).resolves.toEqual(['a0', 'a1', 'b0']);
    await expect(q.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(q.run('a', async () => 'ok')).resolves.toBe('ok');
    expect(q.load('a')).toBe(0);
  });
});
