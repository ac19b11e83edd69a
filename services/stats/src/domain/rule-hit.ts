// The rule hit a routed or rejected record stands for (rule-hits.ts counts them per minute):
//   sms.routed.v1    a hit of the routing rule that produced the candidates (candidates[0].rule_id);
//   sms.rejected.v1  a hit of the rule that refused (rule_id; none when no rule did): a firewall rule when
//                    the customer error is a firewall one (FIREWALL_*, RATE_LIMITED, DUPLICATE), else a
//                    routing rule.
import type { SmsRejected, SmsRouted } from '@smshub/contracts';

export type RuleKind = 'routing' | 'firewall';
const FIREWALL_CODES = new Set(['RATE_LIMITED', 'DUPLICATE']);

export interface RuleHit {
  ruleId: string;
  kind: RuleKind;
  at: Date;
}

/** The rule hit a routed or rejected record stands for, or null (no rule named). */
export function ruleHitOf(
  r: { kind: 'routed'; value: SmsRouted } | { kind: 'rejected'; value: SmsRejected },
  fallback: Date,
): RuleHit | null {
  if (r.kind === 'routed') {
    const ruleId = r.value.candidates[0]?.ruleId ?? '';
    return ruleId === '' ? null : { ruleId, kind: 'routing', at: r.value.routedAt ?? fallback };
  }
  const ruleId = r.value.ruleId;
  if (ruleId === '') return null;
  const code = r.value.error?.code ?? '';
  const kind: RuleKind = code.startsWith('FIREWALL_') || FIREWALL_CODES.has(code) ? 'firewall' : 'routing';
  return { ruleId, kind, at: r.value.rejectedAt ?? fallback };
}
