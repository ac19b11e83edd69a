// The dry run and the learnt estimates behind RoutingService (grpc.ts), over the core's state in memory.
//
// Dry run: the message is turned into the SmsSubmitted event ingress would publish and decided by a
// RoutingEngine built on the tables in force, with the core's number lookup, adaptive estimates and
// connector health, but with a firewall state of its own and no shared windows. So:
//   - the same code path decides (normalisation, firewall, portability, rule match, strategy), then the
//     same post-engine steps as core.ts (opt-outs, quiet hours);
//   - nothing is published, and no duplicate / velocity / burst window is read or counted: those rules are
//     named in the answer ("stateful_rule_ids") as not evaluated;
//   - a portability lookup may fill the core's number cache (as the real message would);
//   - adaptive rules: the message id is drawn so that it does not fall in the exploring share, unless the
//     caller asks for a real draw (then the rule's exploration share applies as for traffic). A weighted
//     rule's split is one draw for a fresh id.

import { v7 as uuidv7 } from 'uuid';
import { SmsSubmitted, TrafficType as ProtoTrafficType } from '@smshub/contracts';
import {
  DEFAULT_ADAPTIVE_MIN_SAMPLES,
  DEFAULT_ADAPTIVE_PRIOR,
  DEFAULT_EXPLORATION,
  MAX_EXPLORATION,
  SALT_EXPLORE,
  adaptiveRows,
  serviceLevelFor,
  type AdaptiveStrategy,
} from './domain/adaptive.js';
import { reject } from './domain/customer-error.js';
import { RoutingEngine } from './domain/engine.js';
import { FirewallState } from './domain/firewall.js';
import { unitInterval } from './domain/hash.js';
import { normaliseDestination } from './domain/normalise.js';
import { strategyConnectors, type ConnectorHealth } from './domain/strategies.js';
import type { Money, RejectedDecision, RoutingDecision, TrafficType } from './domain/types.js';
import { Ton } from './domain/types.js';
import type { CachedNumberLookup } from './domain/number-lookup.js';
import { toRoutingRequest } from './mapping.js';
import { optedOut, type OptOutStore } from './optouts.js';
import type { QuietHoursStore } from './quiet-hours-store.js';
import type { AdaptiveStore } from './adaptive-store.js';
import type { RoutingSnapshot } from './store.js';

/** What the dry run and the estimates read (RoutingCore provides it). */
export interface RoutingView {
  snapshot(): RoutingSnapshot | undefined;
  readonly numbers: CachedNumberLookup;
  readonly adaptive: AdaptiveStore;
  readonly optOuts: OptOutStore;
  readonly quietHours: QuietHoursStore;
  readonly health?: ConnectorHealth | undefined;
}

export class NotReadyError extends Error {
  readonly retriable = true;
  constructor() {
    super('routing tables not loaded yet');
    this.name = 'NotReadyError';
  }
}

export class BadRequestError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

export interface DryRunInput {
  accountId: string;
  source: string;
  destination: string;
  /** null: a binary message. */
  text: string | null;
  trafficType: TrafficType;
  at?: Date;
  drawExploration?: boolean;
}

export interface CandidateView {
  connectorId: string;
  eligible: boolean;
  position: number;
  reason: string;
  price?: Money;
  score?: number;
}

export interface DryRunResult {
  outcome: 'routed' | 'held' | 'rejected';
  e164: string;
  country: string;
  mccMnc: string;
  ported: boolean;
  firewall: { rejected: boolean; ruleId: string; reason: string; statefulRuleIds: string[] };
  ruleId: string;
  strategy: string;
  candidates: CandidateView[];
  chosenConnectorId: string;
  chosenReason: string;
  rejected?: RejectedDecision;
  holdUntil?: Date;
  senderRewrite: string;
  tablesVersion: string;
}

const PROTO_TRAFFIC: Record<TrafficType, ProtoTrafficType> = {
  OTP: ProtoTrafficType.TRAFFIC_TYPE_OTP,
  TRANSACTIONAL: ProtoTrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
  MARKETING: ProtoTrafficType.TRAFFIC_TYPE_MARKETING,
  UNSPECIFIED: ProtoTrafficType.TRAFFIC_TYPE_UNSPECIFIED,
};

const FIREWALL_CATEGORIES = new Set([
  'firewall_sender',
  'firewall_content',
  'firewall_destination',
  'velocity',
  'duplicate',
]);

/** A message id outside the adaptive exploring share (at most MAX_EXPLORATION), or any id when `explore`. */
export function dryRunMessageId(explore: boolean): string {
  for (;;) {
    const id = uuidv7();
    if (explore || unitInterval(id, SALT_EXPLORE) >= MAX_EXPLORATION) return id;
  }
}

/** The SmsSubmitted event ingress would publish for the input (UCS-2 text, or an empty binary payload). */
export function submittedFor(input: DryRunInput, messageId: string, at: Date): SmsSubmitted {
  const src = input.source.trim();
  const alpha = src !== '' && !/^\+?\d+$/.test(src);
  const dst = input.destination.trim();
  const binary = input.text === null;
  return SmsSubmitted.fromPartial({
    messageId,
    accountId: input.accountId,
    systemId: '',
    source: {
      address: alpha ? src : src.replace(/^\+/, ''),
      ton: alpha ? Ton.ALPHANUMERIC : src.startsWith('+') || src.length > 8 ? Ton.INTERNATIONAL : Ton.UNKNOWN,
      npi: alpha ? 0 : 1,
    },
    destination: {
      address: dst.replace(/^\+/, ''),
      ton: dst.startsWith('+') ? Ton.INTERNATIONAL : Ton.UNKNOWN,
      npi: 1,
    },
    esmClass: 0,
    protocolId: 0,
    priority: 0,
    registeredDelivery: 1,
    dataCoding: binary ? 0x04 : 0x08,
    shortMessage: binary ? Buffer.alloc(0) : utf16be(input.text ?? ''),
    fromMessagePayload: false,
    serviceType: '',
    validityPeriodRaw: '',
    scheduleDeliveryTimeRaw: '',
    tlvs: [],
    receivedAt: at,
    trafficType: PROTO_TRAFFIC[input.trafficType],
  });
}

function utf16be(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) {
    const t = le[i]!;
    le[i] = le[i + 1]!;
    le[i + 1] = t;
  }
  return le;
}

/** The decision for `input` as the engine takes it now, without side effects (header). */
export async function dryRun(
  view: RoutingView,
  input: DryRunInput,
  clock: () => number,
): Promise<DryRunResult> {
  const snap = view.snapshot();
  if (!snap) throw new NotReadyError();
  if (input.accountId === '') throw new BadRequestError('account_id is required');
  if (input.destination.trim() === '') throw new BadRequestError('destination is required');
  const tables = snap.tables;
  const at = input.at ?? new Date(clock());
  const m = submittedFor(input, dryRunMessageId(input.drawExploration === true), at);
  const req = toRoutingRequest(m, snap.accountGroups.get(m.accountId));
  const engine = new RoutingEngine(tables, {
    lookup: view.numbers,
    clock: () => at.getTime(),
    adaptive: view.adaptive.lookup,
    normaliseCacheSize: 0,
    ...(view.health ? { health: view.health } : {}),
  });
  let d: RoutingDecision = await engine.decide(req);

  // Stateful firewall rules that apply (their windows are not evaluated by a dry run).
  const statefulRuleIds: string[] = [];
  const dest = d.destination;
  if (dest && !(d.kind === 'rejected' && d.category !== 'no_route' && d.category !== 'blocked')) {
    const prepared = tables.firewall.prepareShared(
      {
        hubMessageId: m.messageId,
        accountId: req.accountId,
        ...(req.accountGroup === undefined ? {} : { accountGroup: req.accountGroup }),
        destination: dest,
        sourceAddr: req.sourceAddr,
        sourceTon: req.sourceTon,
        text: req.text,
        atMs: at.getTime(),
      },
      new FirewallState(),
    );
    if ('check' in prepared && prepared.check) {
      for (const x of [...prepared.check.duplicates, ...prepared.check.velocity])
        if (!statefulRuleIds.includes(x.ruleId)) statefulRuleIds.push(x.ruleId);
    }
  }

  // The post-engine steps of core.ts: opt-outs, then quiet hours.
  let holdUntil: Date | undefined;
  if (d.kind === 'routed' && optedOut(view.optOuts.list, m, d.destination.e164))
    d = reject('opted_out', '', 'the subscriber opted out', d.destination);
  if (d.kind === 'routed' && view.quietHours.table.size > 0) {
    const v = view.quietHours.verdict(m, d.destination.country, at.getTime());
    if (v.kind === 'hold') holdUntil = new Date(v.until);
    else if (v.kind === 'expired')
      d = reject(
        'expired',
        '',
        `quiet hours: validity ends before the next allowed window (${v.opensAt === undefined ? 'none' : new Date(v.opensAt).toISOString()})`,
        d.destination,
      );
  }

  const firewallRejected = d.kind === 'rejected' && FIREWALL_CATEGORIES.has(d.category);
  const ruleId = d.kind === 'routed' ? d.ruleId : firewallRejected ? '' : d.ruleId;
  const out: DryRunResult = {
    outcome: d.kind === 'rejected' ? 'rejected' : holdUntil ? 'held' : 'routed',
    e164: dest?.e164 ?? '',
    country: dest?.country ?? '',
    mccMnc: dest?.mccMnc ?? '',
    ported: dest?.ported === true,
    firewall: {
      rejected: firewallRejected,
      ruleId: firewallRejected ? d.ruleId : '',
      reason: firewallRejected && d.kind === 'rejected' ? d.reason : '',
      statefulRuleIds,
    },
    ruleId,
    strategy: d.kind === 'routed' ? d.strategy : '',
    candidates: [],
    chosenConnectorId: '',
    chosenReason: '',
    senderRewrite: d.kind === 'routed' ? (d.senderRewrite?.sourceAddr ?? '') : '',
    tablesVersion: tables.version,
  };
  if (holdUntil) out.holdUntil = holdUntil;
  if (d.kind === 'rejected') out.rejected = d;
  else {
    out.chosenConnectorId = d.candidates[0]!.connectorId;
    out.chosenReason = d.candidates[0]!.reason;
  }

  // Every connector of the matched rule: the engine's candidates in order, then the others and why not.
  const rule = ruleId === '' ? undefined : tables.rules.get(ruleId);
  if (d.kind === 'routed') {
    d.candidates.forEach((c, i) =>
      out.candidates.push({
        connectorId: c.connectorId,
        eligible: true,
        position: i + 1,
        reason: c.reason,
        ...(c.expectedCost ? { price: c.expectedCost } : {}),
        ...(c.score === undefined ? {} : { score: c.score }),
      }),
    );
  }
  if (rule && rule.action.kind === 'route' && dest) {
    if (!out.strategy) out.strategy = rule.action.strategy.kind;
    const listed = new Set(out.candidates.map((c) => c.connectorId));
    for (const id of strategyConnectors(rule.action.strategy)) {
      if (listed.has(id)) continue;
      listed.add(id);
      const info = tables.connectors.get(id);
      const price = tables.buyRate(id, dest.e164, dest.mccMnc, at, dest.country);
      const reason = !info
        ? 'unknown connector'
        : !info.enabled
          ? 'disabled'
          : !price
            ? `no buy rate for ${dest.mccMnc ?? dest.country}`
            : 'not chosen by the strategy';
      out.candidates.push({
        connectorId: id,
        eligible: false,
        position: 0,
        reason,
        ...(price ? { price } : {}),
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Estimates

export interface EstimatesInput {
  ruleId: string;
  connectorId: string;
  /** "MCC-MNC", a country, or a number ("+4477...": its network, as routing resolves it). */
  destination: string;
  trafficType?: TrafficType;
}

export interface EstimateView {
  connectorId: string;
  destination: string;
  trafficType: TrafficType;
  delivered: number;
  failed: number;
  samples: number;
  deliveryProbability: number;
  p95LatencyMs: number | null;
  lastAt?: Date;
  trusted: boolean;
  price?: Money;
  deliveredPerUnit?: number;
  meetsLevel: boolean;
  pinned: boolean;
}

export interface EstimatesResult {
  estimates: EstimateView[];
  explorationShare: number;
  pinnedConnectorId: string;
  halfLifeMs: number;
}

const TRAFFIC_TYPES: TrafficType[] = ['OTP', 'TRANSACTIONAL', 'MARKETING', 'UNSPECIFIED'];

function isNumber(s: string): boolean {
  return /^\+?\d{6,}$/.test(s);
}

/** The adaptive strategy's learnt estimates, optionally through one adaptive rule's eyes. */
export async function estimates(
  view: RoutingView,
  input: EstimatesInput,
  clock: () => number,
): Promise<EstimatesResult> {
  const snap = view.snapshot();
  if (!snap) throw new NotReadyError();
  const tables = snap.tables;
  const now = clock();
  let strategy: AdaptiveStrategy | undefined;
  if (input.ruleId !== '') {
    const rule = tables.rules.get(input.ruleId);
    if (!rule) throw new BadRequestError(`no enabled routing rule ${input.ruleId}`);
    if (rule.action.kind !== 'route' || rule.action.strategy.kind !== 'adaptive')
      throw new BadRequestError(`rule ${input.ruleId} does not use the adaptive strategy`);
    strategy = rule.action.strategy;
  }
  const prior = strategy?.prior ?? DEFAULT_ADAPTIVE_PRIOR;
  const minSamples = strategy?.minSamples ?? DEFAULT_ADAPTIVE_MIN_SAMPLES;
  const a0 = prior.deliveryRatio * prior.strength;
  const b0 = (1 - prior.deliveryRatio) * prior.strength;
  const ruleConnectors = strategy ? new Set(strategy.connectors) : undefined;
  const types = input.trafficType ? [input.trafficType] : TRAFFIC_TYPES;
  const out: EstimateView[] = [];
  const half = view.adaptive.book.halfLifeMs;

  let destination = input.destination.trim();
  let number: { e164: string; country: string; mccMnc?: string } | undefined;
  if (isNumber(destination)) {
    const n = normaliseDestination(destination.replace(/^\+/, ''), Ton.INTERNATIONAL);
    if (!n.ok) throw new BadRequestError(`destination ${destination}: ${n.reason}`);
    const info = await view.numbers.lookup(n.e164).catch(() => null);
    const mccMnc = info?.mccMnc ?? tables.prefixes.lookup(n.e164)?.mccMnc;
    number = { e164: n.e164, country: n.country, ...(mccMnc ? { mccMnc } : {}) };
    destination = mccMnc ?? n.country;
  }

  if (strategy && number) {
    // Exactly what the strategy weighs for this number: every enabled, priced connector of the rule.
    const usable = strategy.connectors.filter(
      (id) =>
        tables.connectors.get(id)?.enabled === true && (input.connectorId === '' || id === input.connectorId),
    );
    for (const t of types) {
      const rows = adaptiveRows(strategy, usable, {
        hubMessageId: '',
        e164: number.e164,
        mccMnc: number.mccMnc,
        country: number.country,
        destinationKey: destination,
        trafficType: t,
        at: new Date(now),
        buyRate: tables.buyRate,
        fx: tables.fx,
        adaptive: view.adaptive.lookup,
      });
      for (const r of rows) {
        const est = view.adaptive.lookup(r.connectorId, destination, t, now);
        out.push({
          connectorId: r.connectorId,
          destination,
          trafficType: t,
          delivered: est?.successes ?? 0,
          failed: est?.failures ?? 0,
          samples: r.samples,
          deliveryProbability: r.mean,
          p95LatencyMs: r.p95LatencyMs,
          ...(est ? { lastAt: new Date(est.lastAt) } : {}),
          trusted: r.trusted,
          price: r.price,
          ...(r.comparable ? { deliveredPerUnit: r.value } : {}),
          meetsLevel: r.meetsLevel,
          pinned: strategy.pin === r.connectorId,
        });
      }
    }
  } else {
    for (const e of view.adaptive.book.entries(now)) {
      if (ruleConnectors && !ruleConnectors.has(e.connectorId)) continue;
      if (input.connectorId !== '' && e.connectorId !== input.connectorId) continue;
      if (destination !== '' && e.destinationKey !== destination) continue;
      if (!types.includes(e.trafficType)) continue;
      const est = e.estimate;
      const samples = est.successes + est.failures;
      const mean = (a0 + est.successes) / (a0 + b0 + samples);
      const trusted = samples >= minSamples;
      let meetsLevel = false;
      if (strategy) {
        const level = serviceLevelFor(strategy, e.trafficType);
        const latencyOk =
          level.maxP95Ms === undefined || (est.p95LatencyMs !== null && est.p95LatencyMs <= level.maxP95Ms);
        meetsLevel = trusted && mean >= level.minRatio && latencyOk;
      }
      out.push({
        connectorId: e.connectorId,
        destination: e.destinationKey,
        trafficType: e.trafficType,
        delivered: est.successes,
        failed: est.failures,
        samples,
        deliveryProbability: mean,
        p95LatencyMs: est.p95LatencyMs,
        lastAt: new Date(est.lastAt),
        trusted,
        meetsLevel,
        pinned: strategy?.pin === e.connectorId,
      });
    }
  }
  out.sort(
    (x, y) =>
      cmp(x.destination, y.destination) ||
      TRAFFIC_TYPES.indexOf(x.trafficType) - TRAFFIC_TYPES.indexOf(y.trafficType) ||
      cmp(x.connectorId, y.connectorId),
  );
  return {
    estimates: out,
    explorationShare: strategy
      ? Math.min(Math.max(strategy.exploration ?? DEFAULT_EXPLORATION, 0), MAX_EXPLORATION)
      : 0,
    pinnedConnectorId: strategy?.pin ?? '',
    halfLifeMs: half,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
