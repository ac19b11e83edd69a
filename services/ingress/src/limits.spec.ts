import { describe, expect, it } from 'vitest';
import { ClusterShares, replicaShare } from './limits.js';
import { Throttles } from '@smshub/quota';

describe('replicaShare', () => {
  it('splits the limit by submit-capable binds: 2 of 3 binds here → two thirds', () => {
    expect(replicaShare(30, 2, 1)).toBe(20);
    expect(replicaShare(30, 1, 2)).toBe(10);
  });
  it('gives the whole limit when no other replica holds a bind (or none is known yet)', () => {
    expect(replicaShare(20, 1, 0)).toBe(20);
    expect(replicaShare(20, 0, 3)).toBe(20);
  });
});

describe('ClusterShares', () => {
  it('follows the registry reads: a replica that stops counting hands its share to this one', () => {
    const s = new ClusterShares();
    expect(s.rate('acme', 20, 1)).toBe(20);
    s.update([
      { systemId: 'acme', binds: 1 },
      { systemId: 'other', binds: 4 },
    ]);
    expect(s.rate('acme', 20, 1)).toBe(10);
    expect(s.rate('other', 50, 1)).toBe(10);
    s.update([{ systemId: 'other', binds: 4 }]);
    expect(s.rate('acme', 20, 1)).toBe(20);
  });
  it('a tiny share still lets a message through each 1/share seconds', () => {
    const t = new Throttles();
    const rate = replicaShare(1, 1, 2); // 1/3 msg/s
    expect(t.tryTake('a', rate, 0)).toBe(true);
    expect(t.tryTake('a', rate, 1000)).toBe(false);
    expect(t.tryTake('a', rate, 3000)).toBe(true);
  });
});
