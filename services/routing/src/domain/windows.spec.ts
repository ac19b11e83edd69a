import { describe, expect, it } from 'vitest';
import { ExpiringKeySet, SequentialBurstDetector, SlidingWindowCounter } from './windows.js';

describe('SlidingWindowCounter', () => {
  it('counts within the window and forgets after it', () => {
    const c = new SlidingWindowCounter(10_000);
    c.add('k', 0);
    c.add('k', 500);
    c.add('k', 9_000);
    expect(c.count('k', 9_500)).toBe(3);
    expect(c.count('k', 10_500)).toBe(3); // window + one sub-bucket of history: conservative
    expect(c.count('k', 11_000)).toBe(1);
    expect(c.count('k', 19_500)).toBe(1);
    expect(c.count('k', 21_000)).toBe(0);
    expect(c.count('other', 0)).toBe(0);
  });

  it('evicts expired keys and stays under maxKeys', () => {
    const c = new SlidingWindowCounter(1_000, 50);
    for (let i = 0; i < 1_000; i++) c.add(`k${i}`, i * 100);
    expect(c.size).toBeLessThanOrEqual(50);
    const d = new SlidingWindowCounter(1_000, 1_000_000);
    for (let i = 0; i < 1_000; i++) d.add(`k${i}`, i * 100);
    expect(d.size).toBeLessThan(30);
  });
});

describe('SequentialBurstDetector', () => {
  it('counts distinct numbers sharing all but the last k digits within the window', () => {
    const d = new SequentialBurstDetector(3, 60_000, 3);
    d.record('acc', '+447400123001', 0);
    d.record('acc', '+447400123002', 1_000);
    expect(d.distinctWith('acc', '+447400123002', 2_000)).toBe(2); // same number again
    expect(d.distinctWith('acc', '+447400123999', 2_000)).toBe(3);
    expect(d.distinctWith('acc', '+447400124000', 2_000)).toBe(1); // other block
    expect(d.distinctWith('other', '+447400123999', 2_000)).toBe(1);
    expect(d.distinctWith('acc', '+447400123999', 60_500)).toBe(2); // first one expired
  });

  it('keeps memory bounded', () => {
    const d = new SequentialBurstDetector(3, 1_000, 2, 100);
    for (let i = 0; i < 10_000; i++) d.record('acc', `+4474${String(i).padStart(8, '0')}`, i);
    expect(d.size).toBeLessThanOrEqual(100);
  });
});

describe('ExpiringKeySet', () => {
  it('remembers a key for the window from its first recording', () => {
    const s = new ExpiringKeySet<string>(60_000);
    s.set('k', 'm1', 0);
    s.set('k', 'm2', 30_000);
    expect(s.get('k', 59_999)).toBe('m1');
    expect(s.get('k', 60_000)).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('is bounded', () => {
    const s = new ExpiringKeySet<number>(1e9, 10);
    for (let i = 0; i < 100; i++) s.set(`k${i}`, i, i);
    expect(s.size).toBe(10);
    expect(s.get('k99', 100)).toBe(99);
    expect(s.get('k0', 100)).toBeUndefined();
  });
});
