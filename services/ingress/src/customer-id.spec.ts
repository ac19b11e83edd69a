import { describe, expect, it } from 'vitest';
import { CustomerIdAllocator, formatCustomerId, messageIdFormatOf } from './customer-id.js';

const HUB_ID = '019ad1c2-3f4e-7a12-9c3d-5e6f7a8b9c0d';

/** A block source like the sequence: 1, 1 + size, 1 + 2 * size, ... */
function sequence(size: number) {
  let nextStart = 1n;
  let calls = 0;
  return {
    source: async () => {
      calls++;
      const s = nextStart;
      nextStart += BigInt(size);
      return s;
    },
    calls: () => calls,
  };
}

describe('customer message ids', () => {
  it('reads the account column: decimal and hex, anything else is the hub id', () => {
    expect(messageIdFormatOf('decimal')).toBe('decimal');
    expect(messageIdFormatOf('hex')).toBe('hex');
    expect(messageIdFormatOf('')).toBe('uuid');
    expect(messageIdFormatOf('uuid')).toBe('uuid');
    expect(messageIdFormatOf(undefined)).toBe('uuid');
  });

  it('writes the largest number in 19 decimal or 16 hex digits', () => {
    const max = 2n ** 63n - 1n;
    expect(formatCustomerId(max, 'decimal')).toBe('9223372036854775807');
    expect(formatCustomerId(max, 'hex')).toBe('7fffffffffffffff');
  });

  it('gives the hub id to uuid accounts without touching the blocks', async () => {
    const seq = sequence(10);
    const ids = new CustomerIdAllocator(seq.source, 10);
    expect(ids.next(HUB_ID, 'uuid')).toBe(HUB_ID);
    expect(seq.calls()).toBe(0);
  });

  it('hands out distinct numbers across blocks, prefetching the next block at half', async () => {
    const seq = sequence(10);
    const ids = new CustomerIdAllocator(seq.source, 10);
    await ids.start();
    const seen = new Set<string>();
    for (let i = 0; i < 35; i++) {
      const id = ids.next(HUB_ID, 'decimal');
      expect(id).toBeDefined();
      seen.add(id!);
      await Promise.resolve(); // let a prefetch settle, as the event loop would between submits
      await Promise.resolve();
    }
    expect(seen.size).toBe(35);
    expect([...seen].slice(0, 3)).toEqual(['1', '2', '3']);
    expect(seen.has('11')).toBe(true); // the second block starts at 11
  });

  it('two replicas sharing the sequence never give the same number', async () => {
    const seq = sequence(5);
    const a = new CustomerIdAllocator(seq.source, 5);
    const b = new CustomerIdAllocator(seq.source, 5);
    await Promise.all([a.start(), b.start()]);
    const all: string[] = [];
    for (let i = 0; i < 20; i++) {
      for (const r of [a, b]) {
        const id = r.next(HUB_ID, 'hex');
        if (id !== undefined) all.push(id);
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(all.length).toBeGreaterThan(30);
    expect(new Set(all).size).toBe(all.length);
  });

  it('answers undefined while no block can be had, and recovers when the source does', async () => {
    let fail = true;
    const errors: string[] = [];
    const ids = new CustomerIdAllocator(
      async () => {
        if (fail) throw new Error('database down');
        return 100n;
      },
      10,
      (e) => errors.push(e.message),
    );
    await ids.start();
    expect(ids.next(HUB_ID, 'decimal')).toBeUndefined();
    expect(ids.error?.message).toBe('database down');
    fail = false;
    await new Promise((r) => setImmediate(r)); // the failed fetch settles
    expect(ids.next(HUB_ID, 'decimal')).toBeUndefined(); // asks again
    await new Promise((r) => setImmediate(r));
    expect(ids.next(HUB_ID, 'decimal')).toBe('100');
    expect(errors.length).toBeGreaterThan(0);
  });
});
