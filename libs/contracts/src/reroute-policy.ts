// The stored form of smshub.config.v1.ReroutePolicy: routing_rules.reroute (jsonb, migration 0341), written
// by admin (which validates it) and read by admin's API and routing's rule loader.
//
// Rule: reading keeps only well-typed keys (a hand-edited or older row never fails a load): `enabled` when
// a boolean, `windowMs` when a number, `failures` and `exceptErrors` as their string elements ([] when
// missing: routing then uses its defaults). Anything but a JSON object is no policy (undefined).
import type { ReroutePolicy } from './gen/smshub/config/v1/routing.js';

/** The policy stored in routing_rules.reroute; undefined when the rule has none. */
export function reroutePolicyFromJson(v: unknown): ReroutePolicy | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const p: ReroutePolicy = { failures: strings(o['failures']), exceptErrors: strings(o['exceptErrors']) };
  if (typeof o['enabled'] === 'boolean') p.enabled = o['enabled'];
  if (typeof o['windowMs'] === 'number') p.windowMs = o['windowMs'];
  return p;
}

function strings(x: unknown): string[] {
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : [];
}
