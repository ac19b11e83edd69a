// Delivery quality per connector and network, from delivery.stats.v1 (compacted, produced by dlr), kept in
// memory. The quality and score strategies read it through a QualityLookup. Statistics are not part of
// the configuration snapshot: they change continuously and are read live.
//
// Keys: the domain asks by "MCC-MNC" (or the country when the network is unknown). dlr publishes per
// "mccmnc:<mcc>-<mnc>" and per "prefix:<digits>"; only the MCC-MNC scope is used (a prefix scope does
// not say which network or country it stands for). A snapshot older than the one held is ignored.

import type { DeliveryStats } from '@smshub/contracts';
import type { QualityLookup, QualityStats } from './domain/strategies.js';

export class QualityStore {
  private readonly stats = new Map<string, QualityStats & { computedAt: number }>();

  get size(): number {
    return this.stats.size;
  }

  /** Applies one delivery.stats.v1 value; returns false when it was ignored. */
  apply(s: DeliveryStats): boolean {
    if (s.destination?.$case !== 'mccMnc' || s.connectorId === '') return false;
    const key = `${s.connectorId}|${s.destination.value}`;
    const computedAt = s.computedAt?.getTime() ?? 0;
    const held = this.stats.get(key);
    if (held && held.computedAt > computedAt) return false;
    this.stats.set(key, {
      deliveryRatio: s.deliveryRatioPpm / 1_000_000,
      p50LatencyMs: s.latencyP50Ms,
      samples: Number(s.delivered + s.failed),
      computedAt,
    });
    return true;
  }

  readonly lookup: QualityLookup = (connectorId, destinationKey) =>
    this.stats.get(`${connectorId}|${destinationKey}`) ?? null;
}
