// Re-routing of fast failures (issue 21 item 2): the terms routing attaches to a routed message.
//
// A rule's policy may leave anything unset; the defaults are decided here, once:
// - enabled: on for OTP and transactional traffic (latency-sensitive, worth a second supplier's cost),
//   off for marketing and undeclared traffic;
// - failures: UNDELIV and REJECTD with any err (the supplier says "not delivered");
// - window: 30 s from the supplier's acceptance to the failing receipt (a late failure means the
//   handset was tried for long; a second attempt would arrive too late for an OTP).
// Statuses that may mean delivered (UNKNOWN, ACCEPTD, EXPIRED, DELETED) and ENROUTE can never be listed
// (admin refuses them); dlr applies the terms and allows one extra attempt per message.
import type { TrafficType } from './types.js';

export interface ReroutePolicy {
  enabled?: boolean;
  /** "UNDELIV", "REJECTD" or "STAT:err" (3-digit receipt err). */
  failures?: string[];
  /** Receipt err values that never re-route. */
  exceptErrors?: string[];
  windowMs?: number;
}

/** What a routed message carries (mirrors smshub.sms.v1.RerouteTerms). */
export interface RerouteTerms {
  failures: string[];
  exceptErrors: string[];
  windowMs: number;
  ruleId: string;
}

export const REROUTE_DEFAULT_FAILURES: readonly string[] = ['UNDELIV', 'REJECTD'];
export const REROUTE_DEFAULT_WINDOW_MS = 30_000;

/** Whether a rule without an explicit `enabled` re-routes traffic of this type. */
export function rerouteByDefault(trafficType: TrafficType): boolean {
  return trafficType === 'OTP' || trafficType === 'TRANSACTIONAL';
}

/** The terms for one message routed by `ruleId`, or undefined when it must not be re-routed. */
export function rerouteTerms(
  policy: ReroutePolicy | undefined,
  trafficType: TrafficType,
  ruleId: string,
): RerouteTerms | undefined {
  const enabled = policy?.enabled ?? rerouteByDefault(trafficType);
  if (!enabled) return undefined;
  return {
    failures: policy?.failures?.length ? [...policy.failures] : [...REROUTE_DEFAULT_FAILURES],
    exceptErrors: [...(policy?.exceptErrors ?? [])],
    windowMs: policy?.windowMs ?? REROUTE_DEFAULT_WINDOW_MS,
    ruleId,
  };
}
