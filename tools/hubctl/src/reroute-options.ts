// --reroute of `hubctl routing-rules create|update`: the rule's re-route policy for fast failures
// (smshub.config.v1.ReroutePolicy). "on" / "off", or
// "enabled=true,failures=UNDELIV;REJECTD:045,except_errors=069;070,window_ms=20000" (unset keys take
// routing's defaults: on for OTP and transactional traffic, UNDELIV and REJECTD, 30 s). admin checks the
// values (a status that may mean delivered is refused there); this only reads them.
import { CliError, EXIT } from './exit-codes.js';
import { parseIntFlag, parseKeyValues } from './values.js';

type Json = Record<string, unknown>;

const KEYS = ['enabled', 'failures', 'except_errors', 'window_ms'] as const;

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');

export function parseReroute(spec: string, flag = '--reroute'): Json {
  const v = spec.trim();
  if (v === 'on' || v === 'off') return { enabled: v === 'on', failures: [], exceptErrors: [] };
  const kv = parseKeyValues(v, flag, KEYS);
  const out: Json = { failures: list(kv.get('failures')), exceptErrors: list(kv.get('except_errors')) };
  const enabled = kv.get('enabled');
  if (enabled !== undefined) {
    if (!['true', 'false', 'on', 'off'].includes(enabled))
      throw new CliError(`${flag}: enabled must be true or false`, EXIT.USAGE);
    out.enabled = enabled === 'true' || enabled === 'on';
  }
  const w = kv.get('window_ms');
  if (w !== undefined) out.windowMs = parseIntFlag(w, `${flag} window_ms`, 1, 2 ** 32 - 1);
  return out;
}

/** Short form in `routing-rules list`: "reroute on (UNDELIV;REJECTD, 30000 ms)". */
export function rerouteText(p: Json | undefined): string {
  if (!p) return '';
  const on = p.enabled === undefined ? 'default' : p.enabled ? 'on' : 'off';
  const f = Array.isArray(p.failures) && p.failures.length > 0 ? (p.failures as string[]).join(';') : '';
  const w = typeof p.windowMs === 'number' ? `${p.windowMs} ms` : '';
  const detail = [f, w].filter((s) => s !== '').join(', ');
  return `reroute ${on}${detail ? ` (${detail})` : ''}`;
}
