import { TrafficType } from '@smshub/contracts';

/**
 * The traffic type of an SMPP message (routing and firewall rules match on it). A customer declares it per
 * message in submit_sm's service_type, case-insensitively:
 *
 *   OTP                 -> OTP
 *   TRANS, TXN          -> TRANSACTIONAL
 *   PROMO, MKT          -> MARKETING
 *
 * Any other service_type (empty, or the SMPP 3.4 values CMT, CPT, VMN, VMA, WAP, USSD a client may send)
 * declares nothing, and the account's default_traffic_type applies. The keywords fit service_type's five
 * characters, and clients that cannot set service_type (or set it to something else) still get the
 * account's default.
 */
const DECLARED: Record<string, TrafficType> = {
  OTP: TrafficType.TRAFFIC_TYPE_OTP,
  TRANS: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
  TXN: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
  PROMO: TrafficType.TRAFFIC_TYPE_MARKETING,
  MKT: TrafficType.TRAFFIC_TYPE_MARKETING,
};

/** The traffic type service_type declares, or undefined when it declares none. */
export function declaredTrafficType(serviceType: string | undefined): TrafficType | undefined {
  if (!serviceType) return undefined;
  return DECLARED[serviceType.trim().toUpperCase()];
}

/** The message's traffic type: what service_type declares, else the account's default. */
export function trafficTypeOf(serviceType: string | undefined, accountDefault: TrafficType): TrafficType {
  return declaredTrafficType(serviceType) ?? accountDefault;
}
