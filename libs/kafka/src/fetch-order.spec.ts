import { describe, expect, it } from 'vitest';
import { firstTopicsFirst } from './fetch-order.js';

const b = (topic: string, partition: number) => ({ topic, partition });

describe('firstTopicsFirst', () => {
  it("moves the named topics' batches to the front, each part in its fetched order", () => {
    const batches = [
      b('receipt', 0),
      b('dispatched', 2),
      b('routed', 1),
      b('dispatched', 0),
      b('receipt', 3),
    ];
    expect(firstTopicsFirst(batches, new Set(['dispatched']))).toEqual([
      b('dispatched', 2),
      b('dispatched', 0),
      b('receipt', 0),
      b('routed', 1),
      b('receipt', 3),
    ]);
  });

  it('returns the same array when the order already fits', () => {
    const batches = [b('dispatched', 1), b('receipt', 0)];
    expect(firstTopicsFirst(batches, new Set(['dispatched']))).toBe(batches);
    const none = [b('receipt', 0), b('routed', 0)];
    expect(firstTopicsFirst(none, new Set(['dispatched']))).toBe(none);
  });
});
