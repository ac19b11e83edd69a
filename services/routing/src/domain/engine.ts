// RoutingEngine: number intelligence -> firewall -> rule match -> strategy, over an immutable snapshot.
//
// Flow of decide(req):
//   1. normalise the destination (invalid -> rejected invalid_number, err 001)
//   2. firewall (static checks, then duplicate/velocity windows) -> rejected with the firewall's category
//   3. portability: the NumberLookup's answer (MCC-MNC, ported); when it does not know the number or fails,
//      the prefix table's longest match. A peekable lookup (e.g. the TTL cache) that already has the
//      answer keeps the whole decision synchronous: decide() then does no await at all.
//   4. the winning routing rule (none -> rejected no_route, err 010; block action -> rejected blocked, 011)
//   5. its strategy orders the connectors (empty after removing disabled ones -> rejected no_route)
//
// Atomic reload: all configuration lives in one frozen RoutingTables object. decide() reads
// `this.tables` once at its start and uses only that snapshot, so a swap() (a single reference
// assignment) never shows a message half of an old table and half of a new one, even across the await
// of step 3. Firewall counters live outside the snapshot and survive swaps.

import type { AdaptiveLookup } from './adaptive.js';
import { reject } from './customer-error.js';
import { CompiledFirewall, FirewallState, type FirewallRule, type FirewallStateOptions } from './firewall.js';
import { FxTable, type FxRate } from './money.js';
import type { SharedFirewallWindows, StatefulCheck } from './shared-windows.js';
import { DestinationNormaliser } from './normalise.js';
import { isPeekable, isPrefetching, type NumberInfo, type NumberLookup } from './number-lookup.js';
import { PrefixTable, type PrefixEntry } from './prefix-table.js';
import { RuleIndex, type RoutingRule } from './rules.js';
import {
  runStrategy,
  type BuyRateLookup,
  type ConnectorHealth,
  type ConnectorInfo,
  type QualityLookup,
  type QualityStats,
} from './strategies.js';
import {
  Npi,
  Ton,
  type Clock,
  type Destination,
  type RoutedDecision,
  type RoutingDecision,
  type RoutingRequest,
} from './types.js';

/** Everything routing needs that changes only on reload. Build with buildRoutingTables(). */
export interface RoutingTables {
  readonly version: string;
  readonly prefixes: PrefixTable;
  readonly rules: RuleIndex;
  readonly firewall: CompiledFirewall;
  readonly connectors: ReadonlyMap<string, ConnectorInfo>;
  readonly fx: FxTable;
  readonly buyRate: BuyRateLookup;
  readonly quality: QualityLookup;
  /** Default country per account, for national numbers. */
  readonly accountCountry: ReadonlyMap<string, string>;
}

export interface RoutingTablesInput {
  version: string;
  /** Entries, or a table already built (e.g. shared with a buy-rate lookup that needs countries). */
  prefixes: Iterable<PrefixEntry> | PrefixTable;
  rules: readonly RoutingRule[];
  firewall: readonly FirewallRule[];
  connectors: Iterable<ConnectorInfo>;
  fxRates?: Iterable<FxRate>;
  /** Defaults to "no buy rates known". */
  buyRate?: BuyRateLookup;
  /** Defaults to "no statistics" (every connector cold). */
  quality?: QualityLookup;
  accountCountry?: Iterable<[string, string]>;
}

/** Compiles and freezes a snapshot; throws (with every problem listed) when any part is invalid. */
export function buildRoutingTables(input: RoutingTablesInput): RoutingTables {
  return Object.freeze({
    version: input.version,
    prefixes: input.prefixes instanceof PrefixTable ? input.prefixes : new PrefixTable(input.prefixes),
    rules: new RuleIndex(input.rules),
    firewall: new CompiledFirewall(input.firewall),
    connectors: new Map([...input.connectors].map((c) => [c.id, Object.freeze({ ...c })])),
    fx: new FxTable(input.fxRates ?? []),
    buyRate: input.buyRate ?? (() => null),
    quality: input.quality ?? (() => null),
    accountCountry: new Map(input.accountCountry ?? []),
  });
}

/** In-memory quality statistics keyed by connector and destination key. */
export function qualityFromMap(stats: ReadonlyMap<string, QualityStats>): QualityLookup {
  return (connectorId, destinationKey) => stats.get(`${connectorId}|${destinationKey}`) ?? null;
}

export interface RoutingEngineDeps {
  lookup?: NumberLookup;
  health?: ConnectorHealth;
  clock?: Clock;
  firewallState?: FirewallStateOptions;
  /**
   * Duplicate and velocity windows shared with the other replicas (PostgreSQL in the service). When set,
   * those checks are decided per batch by decideBatch(); sequential_burst stays in this process's memory.
   */
  sharedWindows?: SharedFirewallWindows;
  /** Destination normalisations remembered (by address, TON and default country); 0 = none. Default 100,000. */
  normaliseCacheSize?: number;
  /** Learnt estimates for the adaptive strategy (adaptive.ts); none when unset. */
  adaptive?: AdaptiveLookup;
}

const ALWAYS_HEALTHY: ConnectorHealth = { isHealthy: () => true };

interface Pending {
  kind: 'pending';
  tables: RoutingTables;
  req: RoutingRequest;
  destination: Destination;
}

export class RoutingEngine {
  private current: RoutingTables;
  private readonly lookup: NumberLookup | undefined;
  private readonly health: ConnectorHealth;
  private readonly firewallState: FirewallState;
  private readonly clock: Clock;
  private readonly normaliser: DestinationNormaliser;
  private readonly shared: SharedFirewallWindows | undefined;
  private readonly adaptive: AdaptiveLookup | undefined;

  constructor(tables: RoutingTables, deps: RoutingEngineDeps = {}) {
    this.adaptive = deps.adaptive;
    this.shared = deps.sharedWindows;
    this.current = tables;
    this.lookup = deps.lookup;
    this.health = deps.health ?? ALWAYS_HEALTHY;
    this.clock = deps.clock ?? Date.now;
    this.firewallState = new FirewallState(deps.firewallState);
    this.normaliser = new DestinationNormaliser(deps.normaliseCacheSize);
  }

  get tables(): RoutingTables {
    return this.current;
  }

  /** Replaces the snapshot; messages already in decide() finish on the one they started with. */
  swap(next: RoutingTables): RoutingTables {
    const previous = this.current;
    this.current = next;
    this.firewallState.retain(next.firewall.ruleIds);
    return previous;
  }

  /**
   * Warms a prefetching lookup (the TTL cache over Postgres) with the destinations of requests about to be
   * decided, in one call, so that their decisions find the answers already there. Invalid destinations are
   * skipped; their normalisation is remembered for decide(). Decisions are the same with or without it.
   */
  prefetch(
    reqs: ReadonlyArray<Pick<RoutingRequest, 'accountId' | 'destinationAddr' | 'destTon'>>,
  ): Promise<void> {
    const lookup = this.lookup;
    if (!lookup || !isPrefetching(lookup)) return Promise.resolve();
    const tables = this.current;
    const numbers: string[] = [];
    for (const req of reqs) {
      const n = this.normaliser.normalise(
        req.destinationAddr,
        req.destTon,
        tables.accountCountry.get(req.accountId),
      );
      if (n.ok) numbers.push(n.e164);
    }
    return lookup.prefetch(numbers);
  }

  decide(req: RoutingRequest): Promise<RoutingDecision> {
    if (this.shared) return this.decideBatch([req]).then((d) => d[0]!);
    try {
      return this.decideOrThrow(req);
    } catch (err) {
      // A throwing injected lookup (buy rate, quality) surfaces as a rejected promise, never synchronously.
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Decides a consumed batch in order, on the snapshot current at call time. Without shared windows this
   * is decide() per request. With them, every request's static checks run first, then the batch's
   * duplicate and velocity checks in one call to the shared windows (first come, first served in batch
   * order), then routing for the admitted ones.
   */
  async decideBatch(reqs: readonly RoutingRequest[]): Promise<RoutingDecision[]> {
    const shared = this.shared;
    if (!shared) {
      const out: RoutingDecision[] = [];
      for (const req of reqs) out.push(await this.decide(req));
      return out;
    }
    const tables = this.current;
    const atMs = this.clock();
    const firstPass: Array<RoutingDecision | Pending> = [];
    const checks: StatefulCheck[] = [];
    const checked: number[] = [];
    for (const req of reqs) {
      const n = this.normaliser.normalise(
        req.destinationAddr,
        req.destTon,
        tables.accountCountry.get(req.accountId),
      );
      if (!n.ok) {
        firstPass.push(reject('invalid_number', '', n.reason));
        continue;
      }
      const destination: Destination = { e164: n.e164, country: n.country };
      const input = this.firewallInput(req, destination, atMs);
      const fw = tables.firewall.checkStatic(input);
      if (fw) {
        firstPass.push(fw);
        continue;
      }
      const prepared = tables.firewall.prepareShared(input, this.firewallState);
      if ('rejected' in prepared) {
        firstPass.push(prepared.rejected);
        continue;
      }
      if (prepared.check) {
        checks.push(prepared.check);
        checked.push(firstPass.length);
      }
      firstPass.push({ kind: 'pending', tables, req, destination });
    }
    if (checks.length > 0) {
      const verdicts = await shared.decide(checks, atMs);
      verdicts.forEach((v, i) => {
        if (v) firstPass[checked[i]!] = v;
      });
    }
    const out: RoutingDecision[] = [];
    for (const d of firstPass) out.push(d.kind === 'pending' ? await this.complete(d) : d);
    return out;
  }

  private firewallInput(req: RoutingRequest, destination: Destination, atMs: number) {
    return {
      hubMessageId: req.hubMessageId,
      accountId: req.accountId,
      ...(req.accountGroup === undefined ? {} : { accountGroup: req.accountGroup }),
      destination,
      sourceAddr: req.sourceAddr,
      sourceTon: req.sourceTon,
      text: req.text,
      atMs,
    };
  }

  private decideOrThrow(req: RoutingRequest): Promise<RoutingDecision> {
    const first = this.start(req);
    if (first.kind !== 'pending') return Promise.resolve(first);
    return this.complete(first);
  }

  /** Steps 3-5 of a request past the firewall. */
  private complete(first: Pending): Promise<RoutingDecision> {
    const digits = first.destination.e164;
    const lookup = this.lookup;
    if (!lookup) return Promise.resolve(this.finish(first, null));
    if (isPeekable(lookup)) {
      const known = lookup.peek(digits);
      if (known !== undefined) return Promise.resolve(this.finish(first, known));
    }
    return lookup.lookup(digits).then(
      (info) => this.finish(first, info),
      // Source unavailable: fall back to the prefix table rather than failing the message.
      () => this.finish(first, null),
    );
  }

  /** Steps 1-2 on the snapshot current at call time. */
  private start(req: RoutingRequest): RoutingDecision | Pending {
    const tables = this.current;
    const n = this.normaliser.normalise(
      req.destinationAddr,
      req.destTon,
      tables.accountCountry.get(req.accountId),
    );
    if (!n.ok) return reject('invalid_number', '', n.reason);
    const destination: Destination = { e164: n.e164, country: n.country };
    const fw = tables.firewall.check(this.firewallInput(req, destination, this.clock()), this.firewallState);
    if (fw) return fw;
    return { kind: 'pending', tables, req, destination };
  }

  /** Steps 3-5. */
  private finish(p: Pending, info: NumberInfo | null): RoutingDecision {
    const { tables, req } = p;
    const destination: Destination = { ...p.destination };
    if (info) {
      destination.mccMnc = info.mccMnc;
      destination.ported = info.ported;
    } else {
      const m = tables.prefixes.lookup(destination.e164);
      if (m) destination.mccMnc = m.mccMnc;
    }
    const rule = tables.rules.match({
      accountId: req.accountId,
      ...(req.accountGroup === undefined ? {} : { accountGroup: req.accountGroup }),
      e164: destination.e164,
      country: destination.country,
      ...(destination.mccMnc === undefined ? {} : { mccMnc: destination.mccMnc }),
      sourceAddr: req.sourceAddr,
      trafficType: req.trafficType,
      atMs: req.receivedAt.getTime(),
    });
    if (!rule)
      return reject(
        'no_route',
        '',
        `no routing rule matches account ${req.accountId} to ${destination.country}`,
        destination,
      );
    const action = rule.rule.action;
    if (action.kind === 'block') return reject('blocked', rule.rule.id, action.reason, destination);
    const candidates = runStrategy(action.strategy, {
      hubMessageId: req.hubMessageId,
      e164: destination.e164,
      mccMnc: destination.mccMnc,
      country: destination.country,
      destinationKey: destination.mccMnc ?? destination.country,
      at: req.receivedAt,
      connectors: tables.connectors,
      health: this.health,
      buyRate: tables.buyRate,
      fx: tables.fx,
      quality: tables.quality,
      trafficType: req.trafficType,
      ...(this.adaptive ? { adaptive: this.adaptive } : {}),
    });
    if (candidates.length === 0) {
      return reject(
        'no_route',
        rule.rule.id,
        `rule ${rule.rule.id} has no enabled connector with a price for ${destination.country}`,
        destination,
      );
    }
    const out: RoutedDecision = {
      kind: 'routed',
      destination,
      candidates,
      strategy: action.strategy.kind,
      ruleId: rule.rule.id,
    };
    if (action.reroute) out.reroute = action.reroute;
    const rw = action.senderRewrite;
    if (rw && (!rule.rewriteIf || rule.rewriteIf.some((x) => x.test(req.sourceAddr)))) {
      const alpha = !/^\+?\d+$/.test(rw.sourceAddr);
      out.senderRewrite = {
        sourceAddr: rw.sourceAddr,
        sourceTon: rw.sourceTon ?? (alpha ? Ton.ALPHANUMERIC : Ton.INTERNATIONAL),
        sourceNpi: rw.sourceNpi ?? (alpha ? Npi.UNKNOWN : Npi.ISDN),
      };
    }
    return out;
  }
}
