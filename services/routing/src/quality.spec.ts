import { describe, expect, it } from 'vitest';
import { DeliveryStats } from '@smshub/contracts';
import { QualityStore } from './quality.js';

const stats = (p: Partial<DeliveryStats>) =>
  DeliveryStats.fromPartial({
    connectorId: 'con_a',
    destination: { $case: 'mccMnc', value: '234-15' },
    delivered: 970n,
    failed: 30n,
    deliveryRatioPpm: 970_000,
    latencyP50Ms: 1800,
    computedAt: new Date('2026-11-22T10:00:00Z'),
    ...p,
  });

describe('QualityStore', () => {
  it('serves the statistics of a connector towards a network', () => {
    const q = new QualityStore();
    expect(q.apply(stats({}))).toBe(true);
    expect(q.lookup('con_a', '234-15')).toMatchObject({
      deliveryRatio: 0.97,
      p50LatencyMs: 1800,
      samples: 1000,
    });
    expect(q.lookup('con_a', '234-10')).toBeNull();
  });

  it('ignores an older snapshot and prefix-scoped statistics', () => {
    const q = new QualityStore();
    q.apply(stats({}));
    expect(q.apply(stats({ deliveryRatioPpm: 1, computedAt: new Date('2026-11-22T09:00:00Z') }))).toBe(false);
    expect(q.apply(stats({ destination: { $case: 'prefix', value: '4477' } }))).toBe(false);
    expect(q.lookup('con_a', '234-15')?.deliveryRatio).toBe(0.97);
    expect(q.size).toBe(1);
  });
});
