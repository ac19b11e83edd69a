import { describe, expect, it } from 'vitest';
import {
  CachedNumberLookup,
  InMemoryPortedLookup,
  type NumberInfo,
  type NumberLookup,
} from './number-lookup.js';

class CountingLookup implements NumberLookup {
  calls: string[] = [];
  fail = false;
  constructor(private readonly answers: Record<string, NumberInfo | null>) {}
  lookup(e164: string): Promise<NumberInfo | null> {
    this.calls.push(e164);
    if (this.fail) return Promise.reject(new Error('provider down'));
    return Promise.resolve(this.answers[e164] ?? null);
  }
}

describe('InMemoryPortedLookup', () => {
  it('answers ported numbers and null for the rest', async () => {
    const l = new InMemoryPortedLookup([{ e164: '447400123456', mccMnc: '234-10' }]);
    expect(await l.lookup('+447400123456')).toEqual({ mccMnc: '234-10', ported: true });
    expect(l.peek('+447400999999')).toBeNull();
  });
});

describe('CachedNumberLookup', () => {
  const answers = { '+447400123456': { mccMnc: '234-10', ported: true } };

  it('serves repeats from the cache until the TTL expires', async () => {
    let now = 1_000;
    const inner = new CountingLookup(answers);
    const c = new CachedNumberLookup(inner, {
      ttlMs: 60_000,
      negativeTtlMs: 5_000,
      maxEntries: 10,
      clock: () => now,
    });
    expect(c.peek('+447400123456')).toBeUndefined();
    expect(await c.lookup('+447400123456')).toEqual({ mccMnc: '234-10', ported: true });
    expect(c.peek('+447400123456')).toEqual({ mccMnc: '234-10', ported: true });
    await c.lookup('+447400123456');
    expect(inner.calls).toHaveLength(1);

    now += 59_999;
    expect(c.peek('+447400123456')).not.toBeUndefined();
    now += 1;
    expect(c.peek('+447400123456')).toBeUndefined();
    await c.lookup('+447400123456');
    expect(inner.calls).toHaveLength(2);
  });

  it('caches "unknown" answers for the negative TTL', async () => {
    let now = 0;
    const inner = new CountingLookup({});
    const c = new CachedNumberLookup(inner, {
      ttlMs: 60_000,
      negativeTtlMs: 5_000,
      maxEntries: 10,
      clock: () => now,
    });
    expect(await c.lookup('+4915123456789')).toBeNull();
    expect(c.peek('+4915123456789')).toBeNull();
    now = 5_000;
    expect(c.peek('+4915123456789')).toBeUndefined();
  });

  it('stays within maxEntries, dropping the least recently used', async () => {
    const inner = new CountingLookup({});
    const c = new CachedNumberLookup(inner, { ttlMs: 60_000, maxEntries: 2, clock: () => 0 });
    await c.lookup('+1');
    await c.lookup('+2');
    c.peek('+1'); // +1 is now the most recent
    await c.lookup('+3');
    expect(c.size).toBe(2);
    expect(c.peek('+2')).toBeUndefined();
    expect(c.peek('+1')).toBeNull();
    expect(c.peek('+3')).toBeNull();
  });

  it('shares one inner call between concurrent misses and does not cache failures', async () => {
    const inner = new CountingLookup(answers);
    const c = new CachedNumberLookup(inner, { ttlMs: 1_000, maxEntries: 10, clock: () => 0 });
    const [a, b] = await Promise.all([c.lookup('+447400123456'), c.lookup('+447400123456')]);
    expect(a).toEqual(b);
    expect(inner.calls).toHaveLength(1);

    inner.fail = true;
    await expect(c.lookup('+33612345678')).rejects.toThrow('provider down');
    expect(c.peek('+33612345678')).toBeUndefined();
  });
});

describe('CachedNumberLookup.prefetch', () => {
  class BatchLookup extends CountingLookup {
    batches: string[][] = [];
    lookupMany(e164s: readonly string[]): Promise<ReadonlyMap<string, NumberInfo | null>> {
      this.batches.push([...e164s]);
      if (this.fail) return Promise.reject(new Error('provider down'));
      const m = new Map<string, NumberInfo | null>();
      for (const n of e164s) if (n === '+447400123456') m.set(n, { mccMnc: '234-10', ported: true });
      return Promise.resolve(m);
    }
  }
  const options = { ttlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 10, clock: () => 1_000 };

  it('asks once for every number it has no answer for, and caches found and not-found answers', async () => {
    const inner = new BatchLookup({});
    const c = new CachedNumberLookup(inner, options);
    await c.lookup('+33612345678');
    await c.prefetch(['+447400123456', '+33612345678', '+4915112345678', '+447400123456']);
    expect(inner.batches).toEqual([['+447400123456', '+4915112345678']]);
    expect(c.peek('+447400123456')).toEqual({ mccMnc: '234-10', ported: true });
    expect(c.peek('+4915112345678')).toBeNull();
    expect(await c.lookup('+4915112345678')).toBeNull();
    expect(inner.calls).toEqual(['+33612345678']);
    await c.prefetch(['+447400123456', '+4915112345678']);
    expect(inner.batches).toHaveLength(1);
  });

  it('lets a lookup made meanwhile share the call, and caches nothing when the source fails', async () => {
    const inner = new BatchLookup({});
    const c = new CachedNumberLookup(inner, options);
    const warming = c.prefetch(['+447400123456']);
    const meanwhile = c.lookup('+447400123456');
    await warming;
    expect(await meanwhile).toEqual({ mccMnc: '234-10', ported: true });
    expect(inner.calls).toEqual([]);

    inner.fail = true;
    await c.prefetch(['+4915112345678']);
    expect(c.peek('+4915112345678')).toBeUndefined();
    await expect(c.lookup('+4915112345678')).rejects.toThrow('provider down');
  });

  it('does nothing over a lookup that cannot answer many numbers at once', async () => {
    const inner = new CountingLookup({ '+447400123456': { mccMnc: '234-10', ported: true } });
    const c = new CachedNumberLookup(inner, options);
    await c.prefetch(['+447400123456']);
    expect(inner.calls).toEqual([]);
  });
});
