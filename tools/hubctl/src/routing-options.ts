// Flags of a routing rule's sender patterns, time window, strategy options and sender rewrite, and their
// short form in `routing-rules list`. The flags give the common shapes; anything else (a regex holding "," or
// ";") goes through -f in the proto3 JSON form. The server checks the values as routing compiles them; the
// checks here only catch what cannot be read at all.
import { CliError, EXIT } from './exit-codes.js';
import { parseIntFlag, parseKeyValues } from './values.js';

type Json = Record<string, unknown>;

function usage(message: string): never {
  throw new CliError(message, EXIT.USAGE);
}

/**
 * "ACME*" (a glob) or "/^\d{5}$/i" (a regex, read as a JavaScript literal: the flags are exactly those
 * after the last "/", none = case-sensitive). Returns the SenderPattern message (TypeScript form).
 */
export function parseSenderPattern(spec: string, flag = '--sender'): Json {
  const v = spec.trim();
  if (v === '') usage(`${flag}: a pattern must not be empty`);
  if (v.startsWith('/')) {
    const end = v.lastIndexOf('/');
    if (end === 0) usage(`${flag}: a regex is written /pattern/flags, got "${spec}"`);
    return { pattern: { $case: 'regex', value: v.slice(1, end) }, flags: v.slice(end + 1) };
  }
  return { pattern: { $case: 'glob', value: v } };
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "mon-fri" or "sat" -> the day names in between (wrapping over Sunday: "fri-mon"). */
function expandDays(spec: string, flag: string): string[] {
  const [from = '', to] = spec.split('-').map((s) => s.trim().toLowerCase());
  const a = DAYS.indexOf(from);
  const b = to === undefined ? a : DAYS.indexOf(to);
  if (a < 0 || b < 0) usage(`${flag}: days are ${DAYS.join(', ')} or a range like mon-fri, got "${spec}"`);
  const out: string[] = [];
  for (let i = a; ; i = (i + 1) % 7) {
    out.push(DAYS[i]!);
    if (i === b) return out;
  }
}

const TIME_WINDOW_KEYS = ['tz', 'days', 'hours'] as const;

/**
 * A time window: the proto3 JSON object ('{"timeZone":"Europe/London","days":["mon"],"ranges":[...]}') or
 * "tz=Europe/London,days=mon-fri;sat,hours=09:00-17:00;22:00-06:00" (days and hours optional: every day,
 * the whole day).
 */
export function parseTimeWindow(spec: string, flag = '--time-window'): Json {
  const v = spec.trim();
  if (v.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (err) {
      return usage(`${flag}: not valid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      usage(`${flag} must be a JSON object`);
    const w = parsed as Json;
    return {
      timeZone: String(w.timeZone ?? w.time_zone ?? ''),
      days: Array.isArray(w.days) ? w.days.map(String) : [],
      ranges: (Array.isArray(w.ranges) ? (w.ranges as Json[]) : []).map((r) => ({
        from: String(r.from ?? ''),
        to: String(r.to ?? ''),
      })),
    };
  }
  const kv = parseKeyValues(v, flag, TIME_WINDOW_KEYS);
  const timeZone = kv.get('tz') ?? '';
  if (timeZone === '') usage(`${flag}: tz is required, e.g. tz=Europe/London`);
  const items = (s: string | undefined) =>
    (s ?? '')
      .split(';')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  return {
    timeZone,
    days: [...new Set(items(kv.get('days')).flatMap((d) => expandDays(d, flag)))],
    ranges: items(kv.get('hours')).map((r) => {
      const m = /^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$/.exec(r);
      if (!m) usage(`${flag}: hours are HH:MM-HH:MM ranges separated by ";", got "${r}"`);
      return { from: m[1]!, to: m[2]! };
    }),
  };
}

const OPTION_KEYS = [
  'min_samples',
  'prior_delivery_ratio',
  'prior_p50_latency_ms',
  'weight_quality',
  'weight_cost',
  'weight_latency',
  'exploration',
  'min_delivery_ratio',
  'max_p95_latency_ms',
  'pin',
] as const;

function decimal(v: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(v)) usage(`${flag} must be a number like 0.6, got "${v}"`);
  return Number(v);
}

/**
 * Strategy options from repeated key=value pairs (joined before parsing, so each flag may hold one or
 * several): min_samples, prior_delivery_ratio with prior_p50_latency_ms (both or neither), weight_quality,
 * weight_cost, weight_latency (an unnamed weight is 0); for ROUTE_STRATEGY_ADAPTIVE exploration (0..0.2),
 * min_delivery_ratio with optional max_p95_latency_ms (the service level), pin (a target). Returns a RouteStrategyOptions message.
 */
export function parseStrategyOptions(specs: readonly string[], flag = '--strategy-option'): Json {
  const kv = parseKeyValues(specs.join(','), flag, OPTION_KEYS);
  const out: Json = {};
  if (kv.has('min_samples'))
    out.minSamples = parseIntFlag(kv.get('min_samples')!, `${flag} min_samples`, 0, 2 ** 32 - 1);
  const ratio = kv.get('prior_delivery_ratio');
  const latency = kv.get('prior_p50_latency_ms');
  if ((ratio === undefined) !== (latency === undefined))
    usage(`${flag}: give prior_delivery_ratio and prior_p50_latency_ms together`);
  if (ratio !== undefined && latency !== undefined)
    out.prior = {
      deliveryRatio: decimal(ratio, `${flag} prior_delivery_ratio`),
      p50LatencyMs: decimal(latency, `${flag} prior_p50_latency_ms`),
    };
  const weights = ['quality', 'cost', 'latency'] as const;
  if (weights.some((w) => kv.has(`weight_${w}`)))
    out.weights = Object.fromEntries(
      weights.map((w) => [
        w,
        kv.has(`weight_${w}`) ? decimal(kv.get(`weight_${w}`)!, `${flag} weight_${w}`) : 0,
      ]),
    );
  if (kv.has('exploration')) out.exploration = decimal(kv.get('exploration')!, `${flag} exploration`);
  if (kv.has('min_delivery_ratio'))
    out.minDeliveryRatio = decimal(kv.get('min_delivery_ratio')!, `${flag} min_delivery_ratio`);
  if (kv.has('max_p95_latency_ms'))
    out.maxP95LatencyMs = parseIntFlag(
      kv.get('max_p95_latency_ms')!,
      `${flag} max_p95_latency_ms`,
      1,
      86_400_000,
    );
  if (kv.has('pin')) out.pin = kv.get('pin')!;
  return out;
}

const REWRITE_KEYS = ['source_addr', 'source_ton', 'source_npi', 'only_if_sender'] as const;

/**
 * "ACME" (the new sender id, TON/NPI defaulted by routing) or
 * "source_addr=ACME,source_ton=5,source_npi=0,only_if_sender=ACME*;/^acme/i". Returns a SenderRewrite message.
 */
export function parseSenderRewrite(spec: string, flag = '--sender-rewrite'): Json {
  const v = spec.trim();
  if (!v.includes('=')) {
    if (v === '') usage(`${flag}: the new sender id is required`);
    return { sourceAddr: v, onlyIfSender: [] };
  }
  const kv = parseKeyValues(v, flag, REWRITE_KEYS);
  const sourceAddr = kv.get('source_addr') ?? '';
  if (sourceAddr === '') usage(`${flag}: source_addr is required`);
  const out: Json = {
    sourceAddr,
    onlyIfSender: (kv.get('only_if_sender') ?? '')
      .split(';')
      .filter((s) => s.trim() !== '')
      .map((s) => parseSenderPattern(s, `${flag} only_if_sender`)),
  };
  if (kv.has('source_ton')) out.sourceTon = parseIntFlag(kv.get('source_ton')!, `${flag} source_ton`, 0, 255);
  if (kv.has('source_npi')) out.sourceNpi = parseIntFlag(kv.get('source_npi')!, `${flag} source_npi`, 0, 255);
  return out;
}

/** A SenderPattern in proto3 JSON as people write it: ACME* or /^\d+$/i (regex flags as routing applies them). */
export function patternText(p: Json): string {
  if (typeof p.regex === 'string') return `/${p.regex}/${typeof p.flags === 'string' ? p.flags : 'i'}`;
  return String(p.glob ?? '');
}

/** "mon,tue 08:00-20:00 Europe/Berlin" for a TimeWindow in proto3 JSON. */
export function timeWindowText(w: Json): string {
  const days = (w.days as string[] | undefined) ?? [];
  const ranges = ((w.ranges as Json[] | undefined) ?? []).map((r) => `${String(r.from)}-${String(r.to)}`);
  return [days.join(',') || 'every day', ranges.join(',') || 'all day', String(w.timeZone ?? '')].join(' ');
}

/** "min 50, prior 0.85/4000ms, weights q0.6 c0.3 l0.1" for RouteStrategyOptions in proto3 JSON. */
export function strategyOptionsText(o: Json): string {
  const parts: string[] = [];
  if (o.minSamples !== undefined) parts.push(`min ${String(o.minSamples)}`);
  const p = o.prior as Json | undefined;
  if (p) parts.push(`prior ${String(p.deliveryRatio ?? 0)}/${String(p.p50LatencyMs ?? 0)}ms`);
  const w = o.weights as Json | undefined;
  if (w) parts.push(`weights q${String(w.quality ?? 0)} c${String(w.cost ?? 0)} l${String(w.latency ?? 0)}`);
  if (o.exploration !== undefined) parts.push(`exploration ${String(o.exploration)}`);
  if (o.minDeliveryRatio !== undefined)
    parts.push(
      `level ${String(o.minDeliveryRatio)}${o.maxP95LatencyMs !== undefined ? `/p95 ${String(o.maxP95LatencyMs)}ms` : ''}`,
    );
  if (typeof o.pin === 'string' && o.pin !== '') parts.push(`pin ${o.pin}`);
  return parts.join(', ');
}

/** "ACME (ton 5, npi 0) if ACME*" for a SenderRewrite in proto3 JSON. */
export function senderRewriteText(rw: Json): string {
  const tonNpi = [
    rw.sourceTon !== undefined ? `ton ${String(rw.sourceTon)}` : '',
    rw.sourceNpi !== undefined ? `npi ${String(rw.sourceNpi)}` : '',
  ].filter((s) => s !== '');
  const only = ((rw.onlyIfSender as Json[] | undefined) ?? []).map(patternText);
  return (
    String(rw.sourceAddr ?? '') +
    (tonNpi.length > 0 ? ` (${tonNpi.join(', ')})` : '') +
    (only.length > 0 ? ` if ${only.join(' or ')}` : '')
  );
}
