// RoutingRule.reroute (smshub.config.v1.ReroutePolicy) <-> routing_rules.reroute (jsonb, 0341).
// Re-routing sends a message once more through its next candidate after a fast "not delivered" receipt;
// a status that may mean delivered must never do that, so only UNDELIV and REJECTD can be listed. The
// stored form is read by libs/contracts' reroutePolicyFromJson (admin's API and routing's loader).
import type { ReroutePolicy } from '@smshub/contracts';
import { invalid } from '../errors.js';

const FAILURE = /^(UNDELIV|REJECTD)(:\d{3})?$/;
const MAYBE_DELIVERED = /^(UNKNOWN|ACCEPTD|EXPIRED|DELETED|ENROUTE|DELIVRD)(:|$)/;
export const REROUTE_WINDOW_MS = { min: 1000, max: 600_000 };

/** The jsonb to store for a rule's policy (null = routing's defaults); throws INVALID_ARGUMENT. */
export function reroutePolicyJson(
  field: string,
  p: ReroutePolicy | undefined,
): Record<string, unknown> | null {
  if (p === undefined) return null;
  const out: Record<string, unknown> = {};
  if (p.enabled !== undefined) out['enabled'] = p.enabled;
  const failures = p.failures.map((f, i) => {
    const v = f.trim().toUpperCase();
    if (MAYBE_DELIVERED.test(v))
      throw invalid(`${field}.failures[${i}]`, `${v} may mean delivered and is never re-routed`);
    if (!FAILURE.test(v))
      throw invalid(
        `${field}.failures[${i}]`,
        'must be UNDELIV or REJECTD, optionally with ":" and a 3-digit err',
      );
    return v;
  });
  if (new Set(failures).size !== failures.length) throw invalid(`${field}.failures`, 'has duplicates');
  if (failures.length > 0) out['failures'] = failures;
  p.exceptErrors.forEach((e, i) => {
    if (!/^\d{3}$/.test(e)) throw invalid(`${field}.except_errors[${i}]`, 'must be a 3-digit receipt err');
  });
  if (p.exceptErrors.length > 0) out['exceptErrors'] = [...new Set(p.exceptErrors)];
  if (p.windowMs !== undefined) {
    if (p.windowMs < REROUTE_WINDOW_MS.min || p.windowMs > REROUTE_WINDOW_MS.max)
      throw invalid(`${field}.window_ms`, `must be ${REROUTE_WINDOW_MS.min}..${REROUTE_WINDOW_MS.max}`);
    out['windowMs'] = p.windowMs;
  }
  return out;
}
