import { describe, expect, it } from 'vitest';
import { TrafficType as T } from '@smshub/contracts';
import { declaredTrafficType, trafficTypeOf } from './traffic-type.js';

describe('traffic type of an SMPP message', () => {
  it('takes what service_type declares (any case), else the account default', () => {
    expect(trafficTypeOf('OTP', T.TRAFFIC_TYPE_MARKETING)).toBe(T.TRAFFIC_TYPE_OTP);
    expect(trafficTypeOf('otp', T.TRAFFIC_TYPE_UNSPECIFIED)).toBe(T.TRAFFIC_TYPE_OTP);
    expect(trafficTypeOf('TRANS', T.TRAFFIC_TYPE_OTP)).toBe(T.TRAFFIC_TYPE_TRANSACTIONAL);
    expect(trafficTypeOf('Txn', T.TRAFFIC_TYPE_OTP)).toBe(T.TRAFFIC_TYPE_TRANSACTIONAL);
    expect(trafficTypeOf('PROMO', T.TRAFFIC_TYPE_OTP)).toBe(T.TRAFFIC_TYPE_MARKETING);
    expect(trafficTypeOf('mkt', T.TRAFFIC_TYPE_OTP)).toBe(T.TRAFFIC_TYPE_MARKETING);
    expect(trafficTypeOf('', T.TRAFFIC_TYPE_OTP)).toBe(T.TRAFFIC_TYPE_OTP);
    expect(trafficTypeOf(undefined, T.TRAFFIC_TYPE_OTP)).toBe(T.TRAFFIC_TYPE_OTP);
    // SMPP's own service types declare nothing.
    for (const st of ['CMT', 'CPT', 'WAP', 'USSD']) expect(declaredTrafficType(st), st).toBeUndefined();
    expect(trafficTypeOf('CMT', T.TRAFFIC_TYPE_TRANSACTIONAL)).toBe(T.TRAFFIC_TYPE_TRANSACTIONAL);
  });
});
