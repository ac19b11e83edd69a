// The adaptive strategy's learnt estimates (domain/adaptive.ts), fed by final statuses on sms.delivery.v1.
//
// State: the estimates are a pure function of sms.delivery.v1 (the decayed counters do not depend on the
// order events arrive in; event time = the status's done_at). Every routing replica reads the whole topic
// with a fresh consumer group per start (like delivery.stats.v1), so replicas hold the same estimates up to
// their consumer lag, and a restart rebuilds them by reading the log again: no extra table, no write on the
// hot path, no coordination. Observations older than `horizonHalfLives` half-lives (default 20: weight
// < 1e-6) are skipped, and the service starts its fresh group at the first record of that horizon
// (seek.ts: Kafka's time index, record time ~ done_at), so start-up reads minutes to hours of receipts,
// not the topic's whole retention. (A receipt whose record is much later than its done_at is still read
// and skipped by done_at; one stamped before the horizon is not read: its weight would be < 1e-6 anyway.)
//
// What counts: final events only. DELIVERED is a success (its submit -> done latency feeds the p95);
// UNDELIVERABLE, REJECTED, EXPIRED, DELETED and FAILED are failures; UNKNOWN is ignored (it may mean
// delivered). The key is (connector, "MCC-MNC" of destination_info, else its country, traffic type), the
// key the strategy asks by. A corrected revision of a final status counts again (rare; accepted).

import { DeliveryStatus, TrafficType as ProtoTrafficType } from '@smshub/contracts';
import { AdaptiveBook, type AdaptiveLookup, type Observation } from './domain/adaptive.js';
import type { TrafficType } from './domain/types.js';
import type { DeliveryView } from './delivery-view.js';

const TRAFFIC: Record<number, TrafficType> = {
  [ProtoTrafficType.TRAFFIC_TYPE_OTP]: 'OTP',
  [ProtoTrafficType.TRAFFIC_TYPE_TRANSACTIONAL]: 'TRANSACTIONAL',
  [ProtoTrafficType.TRAFFIC_TYPE_MARKETING]: 'MARKETING',
};

const FAILURES = new Set<DeliveryStatus>([
  DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE,
  DeliveryStatus.DELIVERY_STATUS_REJECTED,
  DeliveryStatus.DELIVERY_STATUS_EXPIRED,
  DeliveryStatus.DELIVERY_STATUS_DELETED,
  DeliveryStatus.DELIVERY_STATUS_FAILED,
]);

/** The observation an sms.delivery.v1 event stands for, or null when it teaches nothing. */
export function observationOf(d: DeliveryView): Observation | null {
  if (!d.final || d.connectorId === '') return null;
  const delivered = d.status === DeliveryStatus.DELIVERY_STATUS_DELIVERED;
  if (!delivered && !FAILURES.has(d.status)) return null;
  const info = d.context?.destinationInfo;
  const destinationKey = info?.mcc && info.mnc ? `${info.mcc}-${info.mnc}` : (info?.countryCode ?? '');
  if (destinationKey === '') return null;
  const at = (d.doneAt ?? d.updatedAt)?.getTime();
  if (at === undefined) return null;
  const submitted = d.context?.receivedAt?.getTime();
  return {
    connectorId: d.connectorId,
    destinationKey,
    trafficType: TRAFFIC[d.context?.trafficType ?? 0] ?? 'UNSPECIFIED',
    delivered,
    ...(delivered && submitted !== undefined ? { latencyMs: Math.max(0, at - submitted) } : {}),
    at,
  };
}

export class AdaptiveStore {
  readonly book: AdaptiveBook;
  /** Observations older than this (ms) are not learnt from (start-up reads sms.delivery.v1 from now - it). */
  readonly horizonMs: number;

  constructor(
    halfLifeMs: number,
    private readonly clock: () => number = Date.now,
    horizonHalfLives = 20,
  ) {
    this.book = new AdaptiveBook(halfLifeMs);
    this.horizonMs = halfLifeMs * horizonHalfLives;
  }

  /** Applies one sms.delivery.v1 event; returns true when it was learnt from. */
  apply(d: DeliveryView): boolean {
    const o = observationOf(d);
    if (!o || o.at < this.clock() - this.horizonMs) return false;
    this.book.record(o);
    return true;
  }

  readonly lookup: AdaptiveLookup = (connectorId, destinationKey, trafficType, now) =>
    this.book.lookup(connectorId, destinationKey, trafficType, now);
}
