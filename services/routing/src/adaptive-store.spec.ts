import { describe, expect, it } from 'vitest';
import { DeliveryStatus, SmsDelivery, TrafficType } from '@smshub/contracts';
import { AdaptiveStore, observationOf } from './adaptive-store.js';

const T = Date.parse('2026-07-06T10:00:00Z');

const delivery = (over: Partial<SmsDelivery> = {}) =>
  SmsDelivery.fromPartial({
    context: {
      messageId: 'm',
      trafficType: TrafficType.TRAFFIC_TYPE_OTP,
      receivedAt: new Date(T - 3000),
      destinationInfo: { countryCode: 'GB', mcc: '234', mnc: '30' },
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    doneAt: new Date(T),
    connectorId: 'con_a',
    ...over,
  });

describe('observationOf (sms.delivery.v1 -> what the adaptive strategy learns)', () => {
  it('a final DELIVERED is a success with its submit -> done latency, keyed by MCC-MNC and traffic type', () => {
    expect(observationOf(delivery())).toEqual({
      connectorId: 'con_a',
      destinationKey: '234-30',
      trafficType: 'OTP',
      delivered: true,
      latencyMs: 3000,
      at: T,
    });
  });

  it('failures count; UNKNOWN, intermediate, undispatched and unlocated statuses teach nothing', () => {
    for (const s of [
      DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE,
      DeliveryStatus.DELIVERY_STATUS_REJECTED,
      DeliveryStatus.DELIVERY_STATUS_EXPIRED,
    ])
      expect(observationOf(delivery({ status: s }))).toMatchObject({ delivered: false });
    expect(observationOf(delivery({ status: DeliveryStatus.DELIVERY_STATUS_UNKNOWN }))).toBeNull();
    expect(observationOf(delivery({ final: false }))).toBeNull();
    expect(observationOf(delivery({ connectorId: '' }))).toBeNull();
    const noNetwork = delivery();
    noNetwork.context!.destinationInfo = {
      countryCode: 'GB',
      mcc: '',
      mnc: '',
      matchedPrefix: '',
      ported: false,
      source: 0,
    };
    expect(observationOf(noNetwork)?.destinationKey).toBe('GB');
  });

  it('the store skips observations older than 20 half-lives', () => {
    const store = new AdaptiveStore(60_000, () => T);
    expect(store.apply(delivery({ doneAt: new Date(T - 21 * 60_000) }))).toBe(false);
    expect(store.apply(delivery())).toBe(true);
    expect(store.lookup('con_a', '234-30', 'OTP', T)?.successes).toBeCloseTo(1, 12);
  });
});
