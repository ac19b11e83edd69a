import { CommandStatus } from '@smshub/smpp';
import type { Rng } from './prng.js';
import type { MessageSelector, Range, ReceiptBehaviour, SimulatedStat, SimulatorOptions } from './types.js';

/** A compiled MessageSelector. */
export interface Selector {
  prefixes: string[];
  share: number;
}

/**
 * SimulatorOptions compiled once (on creation and on setBehaviour) into the tables the hot path reads:
 * cumulative weights, so each draw is one PRNG call and a short scan, with no allocation.
 */
export interface Plan {
  latency: Range;
  hasLatency: boolean;
  tpsCap: number;
  /** Sum of errorRates; a draw below it picks an error. */
  errorTotal: number;
  errorStatuses: number[];
  errorCumulative: number[];
  stats: SimulatedStat[];
  statCumulative: number[];
  receiptDelay: Range;
  idStyle: 'hex' | 'decimal';
  pad: number;
  textVariant: NonNullable<ReceiptBehaviour['textVariant']>;
  carrier: NonNullable<ReceiptBehaviour['carrier']>;
  intermediate: boolean;
  disconnectEvery: number;
  /** fakeReceipts, compiled; null: off. */
  fake: Selector | null;
  /** lateDelivery, compiled; null: off. */
  late: (Selector & { delay: Range }) | null;
  /** handsets, compiled; null: none. */
  handsets: { numbers: Set<string>; token: RegExp; reply: string } | null;
}

const digits = (a: string): string => a.trim().replace(/^\+/, '');

function compileSelector(name: string, s: MessageSelector): Selector {
  if (s === null || typeof s !== 'object') throw new RangeError(`${name} must be an object`);
  const share = s.share ?? 1;
  if (!Number.isFinite(share) || share < 0 || share > 1)
    throw new RangeError(`${name}.share must be between 0 and 1`);
  const prefixes = (s.prefixes ?? []).map((p) => {
    if (typeof p !== 'string' || !/^\+?[0-9]{1,15}$/.test(p.trim()))
      throw new RangeError(`${name}.prefixes: "${String(p)}" is not a number prefix`);
    return digits(p);
  });
  return { prefixes, share };
}

/** Whether the selector picks a message to `destination` (one PRNG draw when share < 1). */
export function selects(sel: Selector | null, destination: string, rng: Rng): boolean {
  if (!sel || sel.share === 0) return false;
  if (sel.prefixes.length > 0) {
    const d = digits(destination);
    if (!sel.prefixes.some((p) => d.startsWith(p))) return false;
  }
  return sel.share >= 1 || rng() < sel.share;
}

/** The probe token in a message's text (the first match), or undefined. */
export function findToken(plan: Plan, text: string): string | undefined {
  return plan.handsets?.token.exec(text)?.[0];
}

/** Whether `destination` is one of the handset numbers. */
export function isHandset(plan: Plan, destination: string): boolean {
  return plan.handsets !== null && plan.handsets.numbers.has(digits(destination));
}

const STATS: readonly SimulatedStat[] = ['DELIVRD', 'UNDELIV', 'EXPIRED', 'REJECTD'];
const TEXT_VARIANTS = ['standard', 'seconds', 'capitalText', 'noText'] as const;
const CARRIERS = ['text', 'tlv', 'both'] as const;

function checkRange(name: string, r: Range | undefined): Range {
  if (r === undefined) return 0;
  if (typeof r === 'number') {
    if (!Number.isFinite(r) || r < 0) throw new RangeError(`${name} must be a number >= 0`);
    return r;
  }
  if (!Number.isFinite(r.min) || !Number.isFinite(r.max) || r.min < 0 || r.max < r.min)
    throw new RangeError(`${name} must be { min, max } with 0 <= min <= max`);
  return { min: r.min, max: r.max };
}

function isZero(r: Range): boolean {
  return typeof r === 'number' ? r === 0 : r.max === 0;
}

/** Validates and compiles. Throws RangeError naming the bad option. */
export function compilePlan(o: SimulatorOptions): Plan {
  const errorStatuses: number[] = [];
  const errorCumulative: number[] = [];
  let errorTotal = 0;
  for (const [key, rate] of Object.entries(o.errorRates ?? {})) {
    const status = Number(key);
    if (!Number.isInteger(status) || status <= 0 || status > 0xffffffff)
      throw new RangeError(`errorRates: ${key} is not a non-zero command_status`);
    if (rate === undefined) continue;
    if (!Number.isFinite(rate) || rate < 0 || rate > 1)
      throw new RangeError(`errorRates[${key}] must be between 0 and 1`);
    if (rate === 0) continue;
    errorTotal += rate;
    errorStatuses.push(status);
    errorCumulative.push(errorTotal);
  }
  if (errorTotal > 1 + 1e-9) throw new RangeError('errorRates add up to more than 1');

  const r = o.receipts ?? {};
  const mix = r.mix ?? { DELIVRD: 1 };
  const stats: SimulatedStat[] = [];
  const statCumulative: number[] = [];
  let weight = 0;
  for (const [stat, w] of Object.entries(mix)) {
    if (!(STATS as readonly string[]).includes(stat))
      throw new RangeError(`receipts.mix: unknown stat ${stat} (use ${STATS.join(', ')})`);
    if (w === undefined) continue;
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`receipts.mix.${stat} must be a weight >= 0`);
    if (w === 0) continue;
    weight += w;
    stats.push(stat as SimulatedStat);
    statCumulative.push(weight);
  }
  if (weight === 0) throw new RangeError('receipts.mix needs at least one positive weight');
  for (let i = 0; i < statCumulative.length; i++) statCumulative[i] = (statCumulative[i] as number) / weight;

  const textVariant = r.textVariant ?? 'standard';
  if (!TEXT_VARIANTS.includes(textVariant))
    throw new RangeError(`receipts.textVariant must be one of ${TEXT_VARIANTS.join(', ')}`);
  const carrier = r.carrier ?? 'both';
  if (!CARRIERS.includes(carrier))
    throw new RangeError(`receipts.carrier must be one of ${CARRIERS.join(', ')}`);
  const idStyle = r.idStyle ?? 'hex';
  if (idStyle !== 'hex' && idStyle !== 'decimal')
    throw new RangeError('receipts.idStyle must be hex or decimal');
  const pad = r.pad ?? 0;
  if (!Number.isInteger(pad) || pad < 0 || pad > 64)
    throw new RangeError('receipts.pad must be an integer 0..64');
  const tpsCap = o.tpsCap ?? 0;
  if (!Number.isFinite(tpsCap) || tpsCap < 0) throw new RangeError('tpsCap must be >= 0');
  const disconnectEvery = o.disconnectEvery ?? 0;
  if (!Number.isInteger(disconnectEvery) || disconnectEvery < 0)
    throw new RangeError('disconnectEvery must be an integer >= 0');
  const latency = checkRange('acceptLatencyMs', o.acceptLatencyMs);
  const fake = o.fakeReceipts ? compileSelector('fakeReceipts', o.fakeReceipts) : null;
  const late = o.lateDelivery
    ? {
        ...compileSelector('lateDelivery', o.lateDelivery),
        delay: checkRange('lateDelivery.delayMs', o.lateDelivery.delayMs),
      }
    : null;
  let handsets: Plan['handsets'] = null;
  if (o.handsets) {
    const h = o.handsets;
    if (!Array.isArray(h.numbers)) throw new RangeError('handsets.numbers must be a list of numbers');
    const numbers = new Set(
      h.numbers.map((n) => {
        if (typeof n !== 'string' || !/^\+?[0-9]{3,15}$/.test(n.trim()))
          throw new RangeError(`handsets.numbers: "${String(n)}" is not a number`);
        return digits(n);
      }),
    );
    let token: RegExp;
    try {
      token = new RegExp(h.tokenPattern ?? 'PRB-[0-9A-Za-z]+');
    } catch (e) {
      throw new RangeError(`handsets.tokenPattern: ${(e as Error).message}`);
    }
    const reply = h.replyTemplate ?? 'ACK {token}';
    if (!reply.includes('{token}')) throw new RangeError('handsets.replyTemplate must contain {token}');
    handsets = { numbers, token, reply };
  }

  return {
    latency,
    hasLatency: !isZero(latency),
    tpsCap,
    errorTotal,
    errorStatuses,
    errorCumulative,
    stats,
    statCumulative,
    receiptDelay: checkRange('receipts.delayMs', r.delayMs),
    idStyle,
    pad,
    textVariant,
    carrier,
    intermediate: r.intermediate ?? false,
    disconnectEvery,
    fake,
    late,
    handsets,
  };
}

/** A draw from a Range (whole milliseconds for { min, max }). */
export function sampleRange(r: Range, rng: Rng): number {
  if (typeof r === 'number') return r;
  return r.min + Math.floor(rng() * (r.max - r.min + 1));
}

/** command_status to inject for this submit, or 0 (accept). */
export function pickError(plan: Plan, rng: Rng): number {
  if (plan.errorTotal === 0) return 0;
  const u = rng();
  if (u >= plan.errorTotal) return 0;
  const cum = plan.errorCumulative;
  for (let i = 0; i < cum.length; i++) if (u < (cum[i] as number)) return plan.errorStatuses[i] as number;
  return 0;
}

export function pickStat(plan: Plan, rng: Rng): SimulatedStat {
  if (plan.stats.length === 1) return plan.stats[0] as SimulatedStat;
  const u = rng();
  const cum = plan.statCumulative;
  for (let i = 0; i < cum.length; i++) if (u < (cum[i] as number)) return plan.stats[i] as SimulatedStat;
  return plan.stats[plan.stats.length - 1] as SimulatedStat;
}

/**
 * Whether a final receipt is due, from registered_delivery bits 0-1: 0 none, 1 always, 2 on failure only,
 * 3 on success only (SMPP 5.0).
 */
export function wantsReceipt(registeredDelivery: number, stat: SimulatedStat): boolean {
  switch (registeredDelivery & 0x03) {
    case 1:
      return true;
    case 2:
      return stat !== 'DELIVRD';
    case 3:
      return stat === 'DELIVRD';
    default:
      return false;
  }
}

/**
 * Token bucket for tpsCap: `rate` tokens per second, holding at most `rate` (one second of burst), shared
 * by every session of a simulator.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private rate: number,
    now: number,
  ) {
    this.tokens = rate;
    this.last = now;
  }
  setRate(rate: number): void {
    this.rate = rate;
    this.tokens = Math.min(this.tokens, rate);
  }
  take(now: number): boolean {
    if (this.rate <= 0) return true;
    if (now > this.last) {
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

export const ThrottledStatus = CommandStatus.ESME_RTHROTTLED;
