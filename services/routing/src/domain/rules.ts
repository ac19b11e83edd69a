// Routing rules and their compiled index.
//
// A rule matches when every dimension it sets matches (AND across dimensions, OR within a list):
//   who         accountIds | accountGroups (one or the other, not both), or neither = any account
//   where       destinationPrefixes (E.164 digits), countries (ISO alpha-2), mccMncs ("234-15")
//   sender      any of the sender patterns (glob or regex)
//   when        a time window (days + HH:MM ranges in an IANA zone)
//   what        traffic types
//
// Precedence among matching rules (first wins), documented in README.md:
//   1. priority, higher first (default 0)
//   2. account specificity: accountIds (2) > accountGroups (1) > any account (0)
//   3. destination specificity: prefix (100 + length of the longest matching prefix, so longer wins)
//      > MCC-MNC (50) > country (10) > any destination (0)
//   4. number of other constraints set (sender, time window, traffic type): more first
//   5. rule id, ascending (so equal rules resolve the same way on every instance)
//
// Index: rules are bucketed by who (one bucket per account id, per group, and "any"), and inside a bucket by
// where (a digit trie of prefixes, maps by MCC-MNC and country, and a list of rules with no destination).
// A message visits at most three buckets and, in each, walks at most 15 trie nodes plus two map lookups;
// only the rules found there are sorted by precedence and evaluated in full.

import { MAX_EXPLORATION } from './adaptive.js';
import { DigitTrie } from './digit-trie.js';
import { compilePattern, type CompiledPattern, type SenderPattern } from './patterns.js';
import type { Strategy } from './strategies.js';
import { compileTimeWindow, inTimeWindow, type CompiledTimeWindow, type TimeWindow } from './time-window.js';
import type { TrafficType } from './types.js';
import type { ReroutePolicy } from './reroute.js';

export interface RuleMatch {
  accountIds?: string[];
  accountGroups?: string[];
  destinationPrefixes?: string[];
  countries?: string[];
  mccMncs?: string[];
  senders?: SenderPattern[];
  timeWindow?: TimeWindow;
  trafficTypes?: TrafficType[];
}

export interface SenderRewrite {
  sourceAddr: string;
  /** Defaults: 5 (alphanumeric) when sourceAddr has a non-digit, else 1 (international). */
  sourceTon?: number;
  /** Default: 0 for alphanumeric, 1 (ISDN) otherwise. */
  sourceNpi?: number;
  /** Rewrite only when the original sender matches one of these. */
  onlyIfSender?: SenderPattern[];
}

export type RuleAction =
  | { kind: 'route'; strategy: Strategy; senderRewrite?: SenderRewrite; reroute?: ReroutePolicy }
  | { kind: 'block'; reason: string };

export interface RoutingRule {
  id: string;
  /** Higher wins. Default 0. */
  priority?: number;
  /** Default true. Disabled rules are left out of the index. */
  enabled?: boolean;
  match: RuleMatch;
  action: RuleAction;
}

export interface MatchContext {
  accountId: string;
  accountGroup?: string;
  /** E.164 with "+". */
  e164: string;
  country: string;
  mccMnc?: string;
  sourceAddr: string;
  trafficType: TrafficType;
  atMs: number;
}

export interface CompiledRule {
  readonly rule: RoutingRule;
  readonly priority: number;
  readonly accountTier: number;
  readonly baseDestScore: number;
  readonly constraintCount: number;
  readonly prefixes: readonly string[] | undefined;
  readonly countries: ReadonlySet<string> | undefined;
  readonly mccMncs: ReadonlySet<string> | undefined;
  readonly senders: readonly CompiledPattern[] | undefined;
  readonly timeWindow: CompiledTimeWindow | undefined;
  readonly trafficTypes: ReadonlySet<TrafficType> | undefined;
  readonly rewriteIf: readonly CompiledPattern[] | undefined;
  /** Per-lookup scratch: stamp of the lookup that last saw this rule and its destination score there. */
  stamp: number;
  destScore: number;
}

interface Bucket {
  prefixes: DigitTrie<CompiledRule[]> | undefined;
  byMccMnc: Map<string, CompiledRule[]>;
  byCountry: Map<string, CompiledRule[]>;
  any: CompiledRule[];
}

export class RuleCompileError extends Error {
  readonly retriable = false;
  constructor(readonly problems: ReadonlyArray<{ ruleId: string; message: string }>) {
    super(
      `routing rules have ${problems.length} problem(s): ${problems.map((p) => `${p.ruleId}: ${p.message}`).join('; ')}`,
    );
    this.name = 'RuleCompileError';
  }
}

const nonEmpty = <T>(a: readonly T[] | undefined): a is readonly T[] => a !== undefined && a.length > 0;

function compileRule(rule: RoutingRule): CompiledRule {
  const m = rule.match;
  if (nonEmpty(m.accountIds) && nonEmpty(m.accountGroups)) {
    throw new Error('set accountIds or accountGroups, not both');
  }
  for (const p of m.destinationPrefixes ?? []) {
    if (!/^\d{1,15}$/.test(p))
      throw new Error(`destination prefix ${JSON.stringify(p)} must be E.164 digits without "+"`);
  }
  for (const mm of m.mccMncs ?? []) {
    if (!/^\d{3}-\d{2,3}$/.test(mm)) throw new Error(`mccMnc ${JSON.stringify(mm)} must look like "234-15"`);
  }
  if (rule.action.kind === 'route') validateStrategy(rule.action.strategy);
  const accountTier = nonEmpty(m.accountIds) ? 2 : nonEmpty(m.accountGroups) ? 1 : 0;
  const baseDestScore = nonEmpty(m.destinationPrefixes)
    ? 100
    : nonEmpty(m.mccMncs)
      ? 50
      : nonEmpty(m.countries)
        ? 10
        : 0;
  const constraintCount =
    (nonEmpty(m.senders) ? 1 : 0) + (m.timeWindow ? 1 : 0) + (nonEmpty(m.trafficTypes) ? 1 : 0);
  const rewriteIf = rule.action.kind === 'route' ? rule.action.senderRewrite?.onlyIfSender : undefined;
  return {
    rule,
    priority: rule.priority ?? 0,
    accountTier,
    baseDestScore,
    constraintCount,
    prefixes: nonEmpty(m.destinationPrefixes) ? [...m.destinationPrefixes] : undefined,
    countries: nonEmpty(m.countries) ? new Set(m.countries.map((c) => c.toUpperCase())) : undefined,
    mccMncs: nonEmpty(m.mccMncs) ? new Set(m.mccMncs) : undefined,
    senders: nonEmpty(m.senders) ? m.senders.map(compilePattern) : undefined,
    timeWindow: m.timeWindow ? compileTimeWindow(m.timeWindow) : undefined,
    trafficTypes: nonEmpty(m.trafficTypes) ? new Set(m.trafficTypes) : undefined,
    rewriteIf: nonEmpty(rewriteIf) ? rewriteIf.map(compilePattern) : undefined,
    stamp: 0,
    destScore: 0,
  };
}

function validateStrategy(s: Strategy): void {
  const ids = s.kind === 'weighted' ? s.split.map((x) => x.connectorId) : s.connectors;
  if (ids.length === 0) throw new Error(`${s.kind} strategy has no connectors`);
  if (s.kind === 'weighted') {
    for (const x of s.split)
      if (!(x.weight >= 0) || !Number.isFinite(x.weight))
        throw new Error(`weight of ${x.connectorId} must be >= 0`);
    if (!s.split.some((x) => x.weight > 0)) throw new Error('weighted strategy needs a positive weight');
  }
  if (s.kind === 'adaptive') {
    if (!/^[A-Z]{3}$/.test(s.currency)) throw new Error('adaptive strategy needs a currency');
    if (s.exploration !== undefined && !(s.exploration >= 0 && s.exploration <= MAX_EXPLORATION))
      throw new Error(`adaptive exploration must be within 0..${MAX_EXPLORATION}`);
    if (s.minSamples !== undefined && !(s.minSamples >= 0))
      throw new Error('adaptive minSamples must be >= 0');
    if (s.prior && !(s.prior.deliveryRatio > 0 && s.prior.deliveryRatio < 1 && s.prior.strength > 0))
      throw new Error('adaptive prior needs 0 < deliveryRatio < 1 and strength > 0');
    if (s.pin !== undefined && !s.connectors.includes(s.pin))
      throw new Error(`adaptive pin ${s.pin} is not one of the rule's connectors`);
    const levels = s.sla ? ('minRatio' in s.sla ? [s.sla] : Object.values(s.sla)) : [];
    for (const l of levels as Array<{ minRatio: number; maxP95Ms?: number }>)
      if (!(l.minRatio >= 0 && l.minRatio <= 1) || (l.maxP95Ms !== undefined && !(l.maxP95Ms > 0)))
        throw new Error('adaptive service level needs 0 <= minRatio <= 1 and maxP95Ms > 0');
  }
  if (s.kind === 'score') {
    const w = s.weights;
    if (
      [w.cost, w.quality, w.latency ?? 0].some((x) => !(x >= 0)) ||
      w.cost + w.quality + (w.latency ?? 0) <= 0
    ) {
      throw new Error('score weights must be >= 0 with a positive sum');
    }
  }
}

/** Strict precedence order: negative when `a` wins. */
export function comparePrecedence(a: CompiledRule, b: CompiledRule): number {
  return (
    b.priority - a.priority ||
    b.accountTier - a.accountTier ||
    b.destScore - a.destScore ||
    b.constraintCount - a.constraintCount ||
    (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0)
  );
}

function newBucket(): Bucket {
  return { prefixes: undefined, byMccMnc: new Map(), byCountry: new Map(), any: [] };
}

function pushTo<K>(m: Map<K, CompiledRule[]>, k: K, r: CompiledRule): void {
  const list = m.get(k);
  if (list) list.push(r);
  else m.set(k, [r]);
}

export class RuleIndex {
  private readonly byAccount = new Map<string, Bucket>();
  private readonly byGroup = new Map<string, Bucket>();
  private readonly anyAccount = newBucket();
  private stampCounter = 0;
  private stamp = 0;
  private readonly scratch: CompiledRule[] = [];
  private readonly enabled = new Map<string, RoutingRule>();
  readonly size: number;

  constructor(rules: readonly RoutingRule[]) {
    const problems: Array<{ ruleId: string; message: string }> = [];
    const ids = new Set<string>();
    let size = 0;
    for (const rule of rules) {
      if (ids.has(rule.id)) {
        problems.push({ ruleId: rule.id, message: 'duplicate rule id' });
        continue;
      }
      ids.add(rule.id);
      if (rule.enabled === false) continue;
      let c: CompiledRule;
      try {
        c = compileRule(rule);
      } catch (e) {
        problems.push({ ruleId: rule.id, message: (e as Error).message });
        continue;
      }
      size++;
      this.enabled.set(rule.id, rule);
      const buckets: Bucket[] = [];
      if (c.accountTier === 2)
        for (const a of rule.match.accountIds ?? []) buckets.push(this.bucket(this.byAccount, a));
      else if (c.accountTier === 1)
        for (const g of rule.match.accountGroups ?? []) buckets.push(this.bucket(this.byGroup, g));
      else buckets.push(this.anyAccount);
      for (const b of buckets) this.place(b, c);
    }
    if (problems.length > 0) throw new RuleCompileError(problems);
    this.size = size;
    for (const b of [...this.byAccount.values(), ...this.byGroup.values(), this.anyAccount])
      b.prefixes?.compact();
  }

  /** An enabled rule by id (the dry run and the estimates API). */
  get(id: string): RoutingRule | undefined {
    return this.enabled.get(id);
  }

  /** The winning rule for the context, or undefined when none matches. */
  match(ctx: MatchContext): CompiledRule | undefined {
    this.stamp = ++this.stampCounter;
    const found = this.scratch;
    found.length = 0;
    const digits = ctx.e164.startsWith('+') ? ctx.e164.slice(1) : ctx.e164;
    const a = this.byAccount.get(ctx.accountId);
    if (a) this.collect(a, ctx, digits);
    if (ctx.accountGroup !== undefined) {
      const g = this.byGroup.get(ctx.accountGroup);
      if (g) this.collect(g, ctx, digits);
    }
    this.collect(this.anyAccount, ctx, digits);
    // Selection rather than a full sort: the best candidate usually matches, so this is one linear pass.
    let remaining = found.length;
    while (remaining > 0) {
      let best = 0;
      for (let i = 1; i < remaining; i++)
        if (comparePrecedence(found[i] as CompiledRule, found[best] as CompiledRule) < 0) best = i;
      const r = found[best] as CompiledRule;
      if (this.matches(r, ctx, digits)) return r;
      found[best] = found[remaining - 1] as CompiledRule;
      remaining--;
    }
    return undefined;
  }

  private add(r: CompiledRule, score: number): void {
    if (r.stamp !== this.stamp) {
      r.stamp = this.stamp;
      r.destScore = score;
      this.scratch.push(r);
    } else if (score > r.destScore) {
      r.destScore = score;
    }
  }

  private readonly visitPrefix = (rules: CompiledRule[], len: number): void => {
    for (const r of rules) this.add(r, 100 + len);
  };

  private collect(b: Bucket, ctx: MatchContext, digits: string): void {
    if (b.prefixes) b.prefixes.forEachPrefixOf(digits, this.visitPrefix);
    if (ctx.mccMnc !== undefined) {
      const l = b.byMccMnc.get(ctx.mccMnc);
      if (l) for (const r of l) this.add(r, 50);
    }
    const c = b.byCountry.get(ctx.country);
    if (c) for (const r of c) this.add(r, 10);
    for (const r of b.any) this.add(r, 0);
  }

  private matches(r: CompiledRule, ctx: MatchContext, digits: string): boolean {
    if (r.prefixes && !r.prefixes.some((p) => digits.startsWith(p))) return false;
    if (r.mccMncs && (ctx.mccMnc === undefined || !r.mccMncs.has(ctx.mccMnc))) return false;
    if (r.countries && !r.countries.has(ctx.country)) return false;
    if (r.trafficTypes && !r.trafficTypes.has(ctx.trafficType)) return false;
    if (r.senders && !r.senders.some((p) => p.test(ctx.sourceAddr))) return false;
    if (r.timeWindow && !inTimeWindow(r.timeWindow, ctx.atMs)) return false;
    return true;
  }

  private bucket(m: Map<string, Bucket>, key: string): Bucket {
    let b = m.get(key);
    if (!b) {
      b = newBucket();
      m.set(key, b);
    }
    return b;
  }

  private place(b: Bucket, c: CompiledRule): void {
    if (c.prefixes) {
      b.prefixes ??= new DigitTrie<CompiledRule[]>(16);
      for (const p of c.prefixes) b.prefixes.set(p, [c], (x, y) => (x.includes(c) ? x : [...x, ...y]));
    } else if (c.mccMncs) {
      for (const mm of c.mccMncs) pushTo(b.byMccMnc, mm, c);
    } else if (c.countries) {
      for (const cc of c.countries) pushTo(b.byCountry, cc, c);
    } else {
      b.any.push(c);
    }
  }
}
