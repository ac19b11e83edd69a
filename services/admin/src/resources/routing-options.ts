// The jsonb columns of routing_rules (0300) that the proto models as messages: senders, time_window,
// strategy_options and sender_rewrite. Each is checked here the way services/routing compiles it when it
// loads a row (patterns.ts, time-window.ts, rules.ts, engine.ts), so a rule the admin API accepts never
// makes routing refuse its whole configuration. Services may not import each other (eslint module
// boundaries), so the checks are restated here rather than imported; where routing would accept a value
// that cannot work (an empty pattern, a stateful regex flag, a sender id SMPP cannot carry) it is refused.
import type {
  QualityPrior,
  RouteStrategyOptions,
  ScoreWeights,
  SenderPattern,
  SenderRewrite,
  TimeRange,
  TimeWindow,
} from '@smshub/contracts';
import { invalid } from '../errors.js';
import { intRange } from '../validate.js';

type Json = Record<string, unknown>;

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** A day in milliseconds: the largest p50 latency a prior may claim. */
const MAX_LATENCY_MS = 86_400_000;
/** GSM 03.40 limits an alphanumeric sender to 11 characters (services/ingress applies the same). */
const ALPHANUMERIC_MAX = 11;
const TON_ALPHANUMERIC = 5;
const TON_INTERNATIONAL = 1;

/** One pattern as routing stores it: {"glob": ...} or {"regex": ..., "flags"?: ...}. */
export function patternJson(field: string, p: SenderPattern): Json {
  const pattern = p.pattern;
  if (pattern === undefined) throw invalid(field, 'set glob or regex');
  if (pattern.$case === 'glob') {
    if (pattern.value === '') throw invalid(`${field}.glob`, 'must not be empty');
    if (p.flags !== undefined) throw invalid(`${field}.flags`, 'apply only to regex');
    return { glob: pattern.value };
  }
  if (pattern.value === '') throw invalid(`${field}.regex`, 'must not be empty');
  // "g" and "y" make RegExp.test remember where it stopped, so the same sender would match every other time.
  if (p.flags !== undefined && /[gy]/.test(p.flags))
    throw invalid(`${field}.flags`, '"g" and "y" are not allowed (they make matching stateful)');
  try {
    new RegExp(pattern.value, p.flags ?? 'i');
  } catch (err) {
    const what = p.flags !== undefined && !isValidFlags(p.flags) ? 'flags' : 'regex';
    throw invalid(`${field}.${what}`, `is not valid: ${(err as Error).message}`);
  }
  return p.flags === undefined ? { regex: pattern.value } : { regex: pattern.value, flags: p.flags };
}

function isValidFlags(flags: string): boolean {
  try {
    new RegExp('', flags);
    return true;
  } catch {
    return false;
  }
}

export function patternsJson(field: string, ps: SenderPattern[]): Json[] {
  return ps.map((p, i) => patternJson(`${field}[${i}]`, p));
}

export function patternsFromJson(v: unknown): SenderPattern[] {
  if (!Array.isArray(v)) return [];
  return (v as Json[]).flatMap((p): SenderPattern[] => {
    if (typeof p['glob'] === 'string') return [{ pattern: { $case: 'glob', value: p['glob'] } }];
    if (typeof p['regex'] === 'string')
      return [
        {
          pattern: { $case: 'regex', value: p['regex'] },
          ...(typeof p['flags'] === 'string' ? { flags: p['flags'] } : {}),
        },
      ];
    return [];
  });
}

function timeZone(field: string, v: string): string {
  if (v === '') throw invalid(field, 'is required (an IANA time zone such as Europe/London)');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
  } catch {
    throw invalid(field, `${JSON.stringify(v)} is not a known IANA time zone`);
  }
  return v;
}

function hhMm(field: string, v: string): string {
  if (!HH_MM.test(v)) throw invalid(field, `must be HH:MM between 00:00 and 23:59, got ${JSON.stringify(v)}`);
  return v;
}

/** {"timeZone", "days", "ranges"} or null (no window: the rule matches at any time). */
export function timeWindowJson(field: string, w: TimeWindow | undefined): Json | null {
  if (w === undefined) return null;
  return {
    timeZone: timeZone(`${field}.time_zone`, w.timeZone),
    days: w.days.map((d, i) => {
      if (!WEEKDAYS.includes(d))
        throw invalid(
          `${field}.days[${i}]`,
          `must be one of ${WEEKDAYS.join(', ')}, got ${JSON.stringify(d)}`,
        );
      return d;
    }),
    ranges: w.ranges.map((r, i) => ({
      from: hhMm(`${field}.ranges[${i}].from`, r.from),
      to: hhMm(`${field}.ranges[${i}].to`, r.to),
    })),
  };
}

export function timeWindowFromJson(v: unknown): TimeWindow | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const w = v as Json;
  const ranges = Array.isArray(w['ranges']) ? (w['ranges'] as Json[]) : [];
  return {
    timeZone: typeof w['timeZone'] === 'string' ? w['timeZone'] : '',
    days: Array.isArray(w['days']) ? (w['days'] as string[]) : [],
    ranges: ranges.map((r): TimeRange => ({ from: String(r['from'] ?? ''), to: String(r['to'] ?? '') })),
  };
}

function between(field: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max) throw invalid(field, `must be between ${min} and ${max}`);
  return v;
}

/**
 * {"minSamples"?, "prior"?, "weights"?, "exploration"?, "sla"?: {"minRatio", "maxP95Ms"?}, "pin"?}; {} when
 * nothing is tuned. The adaptive fields are as routing's store.ts reads them (a pin must be a target: see
 * routing-rules.ts).
 */
export function strategyOptionsJson(field: string, o: RouteStrategyOptions | undefined): Json {
  if (o === undefined) return {};
  const out: Json = {};
  if (o.minSamples !== undefined)
    out['minSamples'] = intRange(`${field}.min_samples`, o.minSamples, 0, 2 ** 32 - 1);
  if (o.prior !== undefined)
    out['prior'] = {
      deliveryRatio: between(`${field}.prior.delivery_ratio`, o.prior.deliveryRatio, 0, 1),
      p50LatencyMs: between(`${field}.prior.p50_latency_ms`, o.prior.p50LatencyMs, 0, MAX_LATENCY_MS),
    };
  if (o.weights !== undefined) {
    const w = o.weights;
    for (const k of ['quality', 'cost', 'latency'] as const)
      if (!Number.isFinite(w[k]) || w[k] < 0) throw invalid(`${field}.weights.${k}`, 'must be 0 or more');
    if (w.quality + w.cost + w.latency <= 0)
      throw invalid(`${field}.weights`, 'need a positive sum (set quality, cost or latency above 0)');
    out['weights'] = { quality: w.quality, cost: w.cost, latency: w.latency };
  }
  if (o.exploration !== undefined)
    out['exploration'] = between(`${field}.exploration`, o.exploration, 0, 0.2);
  if (o.minDeliveryRatio !== undefined) {
    const sla: Json = { minRatio: between(`${field}.min_delivery_ratio`, o.minDeliveryRatio, 0, 1) };
    if (o.maxP95LatencyMs !== undefined)
      sla['maxP95Ms'] = intRange(`${field}.max_p95_latency_ms`, o.maxP95LatencyMs, 1, MAX_LATENCY_MS);
    out['sla'] = sla;
  } else if (o.maxP95LatencyMs !== undefined) {
    throw invalid(`${field}.max_p95_latency_ms`, 'needs min_delivery_ratio');
  }
  if (o.pin !== undefined && o.pin !== '') out['pin'] = o.pin;
  return out;
}

export function strategyOptionsFromJson(v: unknown): RouteStrategyOptions | undefined {
  if (typeof v !== 'object' || v === null || Object.keys(v).length === 0) return undefined;
  const o = v as Json;
  const prior = o['prior'] as Partial<QualityPrior> | undefined;
  const weights = o['weights'] as Partial<ScoreWeights> | undefined;
  const sla = o['sla'] as { minRatio?: unknown; maxP95Ms?: unknown } | undefined;
  return {
    ...(typeof o['minSamples'] === 'number' ? { minSamples: o['minSamples'] } : {}),
    ...(prior && typeof prior === 'object'
      ? { prior: { deliveryRatio: prior.deliveryRatio ?? 0, p50LatencyMs: prior.p50LatencyMs ?? 0 } }
      : {}),
    ...(weights && typeof weights === 'object'
      ? { weights: { quality: weights.quality ?? 0, cost: weights.cost ?? 0, latency: weights.latency ?? 0 } }
      : {}),
    ...(typeof o['exploration'] === 'number' ? { exploration: o['exploration'] } : {}),
    ...(sla && typeof sla.minRatio === 'number' ? { minDeliveryRatio: sla.minRatio } : {}),
    ...(sla && typeof sla.maxP95Ms === 'number' ? { maxP95LatencyMs: sla.maxP95Ms } : {}),
    ...(typeof o['pin'] === 'string' ? { pin: o['pin'] } : {}),
  };
}

/**
 * The sender id must be one egress can send and the ingress checks would accept: with TON 5 (the default
 * for an id with a non-digit) 1 to 11 printable ASCII characters; with TON 1 (the default for digits) an
 * E.164 number of up to 15 digits; with any other TON up to 20 digits (SMPP source_addr is 21 octets).
 */
function sourceAddr(field: string, addr: string, ton: number): string {
  if (addr === '') throw invalid(field, 'is required');
  if (ton === TON_ALPHANUMERIC) {
    if (addr.length > ALPHANUMERIC_MAX || !/^[\x20-\x7e]+$/.test(addr))
      throw invalid(
        field,
        `an alphanumeric sender id (TON 5) is 1 to ${ALPHANUMERIC_MAX} printable ASCII characters`,
      );
  } else if (ton === TON_INTERNATIONAL) {
    if (!/^\+?[0-9]{1,15}$/.test(addr))
      throw invalid(
        field,
        'with TON 1 (international) must be an E.164 number: up to 15 digits, optional "+"',
      );
  } else if (!/^\+?[0-9]{1,20}$/.test(addr)) {
    throw invalid(field, `with TON ${ton} must be up to 20 digits, optional "+"`);
  }
  return addr;
}

/** {"sourceAddr", "sourceTon"?, "sourceNpi"?, "onlyIfSender"?} or null (no rewrite). */
export function senderRewriteJson(field: string, rw: SenderRewrite | undefined): Json | null {
  if (rw === undefined) return null;
  const ton = rw.sourceTon === undefined ? undefined : intRange(`${field}.source_ton`, rw.sourceTon, 0, 255);
  const npi = rw.sourceNpi === undefined ? undefined : intRange(`${field}.source_npi`, rw.sourceNpi, 0, 255);
  // Routing's default TON (engine.ts): alphanumeric when the id has anything but "+" and digits.
  const alpha = !/^\+?\d+$/.test(rw.sourceAddr);
  const out: Json = {
    sourceAddr: sourceAddr(
      `${field}.source_addr`,
      rw.sourceAddr,
      ton ?? (alpha ? TON_ALPHANUMERIC : TON_INTERNATIONAL),
    ),
  };
  if (ton !== undefined) out['sourceTon'] = ton;
  if (npi !== undefined) out['sourceNpi'] = npi;
  if (rw.onlyIfSender.length > 0)
    out['onlyIfSender'] = patternsJson(`${field}.only_if_sender`, rw.onlyIfSender);
  return out;
}

export function senderRewriteFromJson(v: unknown): SenderRewrite | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const rw = v as Json;
  return {
    sourceAddr: typeof rw['sourceAddr'] === 'string' ? rw['sourceAddr'] : '',
    ...(typeof rw['sourceTon'] === 'number' ? { sourceTon: rw['sourceTon'] } : {}),
    ...(typeof rw['sourceNpi'] === 'number' ? { sourceNpi: rw['sourceNpi'] } : {}),
    onlyIfSender: patternsFromJson(rw['onlyIfSender']),
  };
}
