// Loads the routing configuration from Postgres into one RoutingTables snapshot.
//
// Everything is read in one REPEATABLE READ transaction, so a snapshot never mixes a rule with the
// candidates of a later edit. Tables: routing_* (ours, 0300_routing.sql), egress_connectors (id, enabled),
// rating_rates (connector buy rates) and rating_exchange_rates (rates effective now), accounts (group and
// default country). Row -> domain mapping is here; validation is the domain's (buildRoutingTables throws
// with every problem listed, and the caller keeps the tables it had).

import { reroutePolicyFromJson } from '@smshub/contracts';
import type { Pool, PoolClient } from '@smshub/db';
import { buyRateLookup, type BuyRateRow } from './buy-rates.js';
import { buildRoutingTables, type RoutingTables } from './domain/engine.js';
import type { FirewallRule } from './domain/firewall.js';
import type { AdaptiveStrategy } from './domain/adaptive.js';
import type { FxRate } from './domain/money.js';
import { PrefixTable, type PrefixEntry } from './domain/prefix-table.js';
import type { RoutingRule } from './domain/rules.js';
import type { QualityLookup, Strategy } from './domain/strategies.js';
import type { TrafficType } from './domain/types.js';

/** The tables plus what the message mapper needs per account. Replaced as a whole on reload. */
export interface RoutingSnapshot {
  tables: RoutingTables;
  /** accounts.routing_group by account id. */
  accountGroups: ReadonlyMap<string, string>;
  counts: { prefixes: number; rules: number; firewallRules: number; connectors: number; buyRates: number };
}

export class ConfigLoadError extends Error {
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigLoadError';
  }
}

export interface RuleRow {
  id: string;
  priority: number;
  enabled: boolean;
  account_ids: string[];
  account_groups: string[];
  destination_prefixes: string[];
  countries: string[];
  mcc_mncs: string[];
  senders: unknown;
  time_window: unknown;
  traffic_types: string[];
  action: string;
  block_reason: string;
  strategy: string;
  strategy_currency: string | null;
  strategy_options: Record<string, unknown>;
  sender_rewrite: unknown;
  reroute?: unknown;
  candidates: Array<{ connectorId: string; weight: number }> | null;
}

export interface FirewallRow {
  id: string;
  kind: string;
  enabled: boolean;
  account_ids: string[];
  account_groups: string[];
  countries: string[];
  reason: string;
  params: Record<string, unknown>;
}

const nonEmpty = <T>(a: T[] | null | undefined): a is T[] => Array.isArray(a) && a.length > 0;

function strategyOf(row: RuleRow): Strategy {
  const candidates = row.candidates ?? [];
  const connectors = candidates.map((c) => c.connectorId);
  const o = row.strategy_options;
  const tuning = {
    ...(typeof o['minSamples'] === 'number' ? { minSamples: o['minSamples'] } : {}),
    ...(o['prior'] && typeof o['prior'] === 'object'
      ? { prior: o['prior'] as { deliveryRatio: number; p50LatencyMs: number } }
      : {}),
  };
  switch (row.strategy) {
    case 'weighted':
      return {
        kind: 'weighted',
        split: candidates.map((c) => ({ connectorId: c.connectorId, weight: c.weight })),
      };
    case 'least_cost':
      return { kind: 'least_cost', connectors, currency: row.strategy_currency ?? '' };
    case 'best_quality':
      return { kind: 'best_quality', connectors, ...tuning };
    case 'adaptive':
      return adaptiveOf(row, connectors);
    case 'score':
      return {
        kind: 'score',
        connectors,
        currency: row.strategy_currency ?? '',
        weights: (o['weights'] as { quality: number; cost: number; latency?: number } | undefined) ?? {
          quality: 1,
          cost: 1,
        },
        ...tuning,
      };
    default:
      return { kind: 'priority', connectors };
  }
}

/**
 * strategy_options of an adaptive rule: {"minSamples": 30, "prior": {"deliveryRatio": 0.9, "strength": 10},
 * "exploration": 0.05, "sla": {"OTP": {"minRatio": 0.95, "maxP95Ms": 10000}} or {"minRatio": 0.9},
 * "pin": "<connector id>"}; anything else is ignored, bad values are refused by the rule validation.
 */
function adaptiveOf(row: RuleRow, connectors: string[]): Strategy {
  const o = row.strategy_options;
  const num = (k: string) => (typeof o[k] === 'number' ? { [k]: o[k] as number } : {});
  const prior = o['prior'] as { deliveryRatio?: unknown; strength?: unknown } | undefined;
  return {
    kind: 'adaptive',
    connectors,
    currency: row.strategy_currency ?? '',
    ...num('minSamples'),
    ...num('exploration'),
    ...(prior && typeof prior.deliveryRatio === 'number'
      ? {
          prior: {
            deliveryRatio: prior.deliveryRatio,
            strength: typeof prior.strength === 'number' ? prior.strength : 10,
          },
        }
      : {}),
    ...(o['sla'] && typeof o['sla'] === 'object' ? { sla: o['sla'] as AdaptiveStrategy['sla'] } : {}),
    ...(typeof o['pin'] === 'string' && o['pin'] !== '' ? { pin: o['pin'] } : {}),
  };
}

/** One routing_rules row (with its candidates) as a domain rule. */
export function ruleFromRow(row: RuleRow): RoutingRule {
  const match: RoutingRule['match'] = {};
  if (nonEmpty(row.account_ids)) match.accountIds = row.account_ids;
  if (nonEmpty(row.account_groups)) match.accountGroups = row.account_groups;
  if (nonEmpty(row.destination_prefixes)) match.destinationPrefixes = row.destination_prefixes;
  if (nonEmpty(row.countries)) match.countries = row.countries;
  if (nonEmpty(row.mcc_mncs)) match.mccMncs = row.mcc_mncs;
  if (Array.isArray(row.senders) && row.senders.length > 0)
    match.senders = row.senders as NonNullable<RoutingRule['match']['senders']>;
  if (row.time_window) match.timeWindow = row.time_window as NonNullable<RoutingRule['match']['timeWindow']>;
  if (nonEmpty(row.traffic_types)) match.trafficTypes = row.traffic_types as TrafficType[];
  const action: RoutingRule['action'] =
    row.action === 'block'
      ? { kind: 'block', reason: row.block_reason || `blocked by rule ${row.id}` }
      : {
          kind: 'route',
          strategy: strategyOf(row),
          ...(row.sender_rewrite
            ? {
                senderRewrite: row.sender_rewrite as NonNullable<
                  Extract<RoutingRule['action'], { kind: 'route' }>['senderRewrite']
                >,
              }
            : {}),
          ...(row.reroute ? { reroute: reroutePolicyFromJson(row.reroute) ?? {} } : {}),
        };
  return { id: row.id, priority: row.priority, enabled: row.enabled, match, action };
}

/** One routing_firewall_rules row as a domain firewall rule (params carry the kind's fields). */
export function firewallFromRow(row: FirewallRow): FirewallRule {
  const scope = {
    ...(nonEmpty(row.account_ids) ? { accountIds: row.account_ids } : {}),
    ...(nonEmpty(row.account_groups) ? { accountGroups: row.account_groups } : {}),
    ...(nonEmpty(row.countries) ? { countries: row.countries } : {}),
  };
  return {
    ...row.params,
    id: row.id,
    kind: row.kind,
    enabled: row.enabled,
    scope,
    ...(row.reason ? { reason: row.reason } : {}),
  } as FirewallRule;
}

const RULES_SQL = `
  SELECT r.id, r.priority, r.enabled, r.account_ids, r.account_groups, r.destination_prefixes, r.countries,
         r.mcc_mncs, r.senders, r.time_window, r.traffic_types, r.action, r.block_reason, r.strategy,
         r.strategy_currency, r.strategy_options, r.sender_rewrite, r.reroute,
         (SELECT json_agg(json_build_object('connectorId', c.connector_id, 'weight', c.weight) ORDER BY c.position)
            FROM routing_rule_candidates c WHERE c.rule_id = r.id) AS candidates
    FROM routing_rules r`;

async function readAll(
  client: PoolClient,
  quality: QualityLookup,
  version: string,
): Promise<RoutingSnapshot> {
  const prefixRows = await client.query<PrefixEntry>(
    'SELECT prefix, country, mcc, mnc, operator FROM routing_number_prefixes',
  );
  const ruleRows = await client.query<RuleRow>(RULES_SQL);
  const fwRows = await client.query<FirewallRow>(
    `SELECT id, kind, enabled, account_ids, account_groups, countries, reason, params FROM routing_firewall_rules`,
  );
  const connectorRows = await client.query<{ id: string; enabled: boolean }>(
    'SELECT id, enabled FROM egress_connectors',
  );
  const rateRows = await client.query<{
    id: string;
    owner_id: string;
    prefix: string | null;
    mcc_mnc: string | null;
    country: string | null;
    price_amount: string;
    price_scale: number;
    currency: string;
    effective_from: Date;
    effective_to: Date | null;
  }>(
    `SELECT id, owner_id, prefix, mcc_mnc, country, price_amount::text, price_scale, currency, effective_from, effective_to
       FROM rating_rates
      WHERE owner_kind = 'connector' AND (effective_to IS NULL OR effective_to > now())`,
  );
  const fxRows = await client.query<FxRate>(
    `SELECT DISTINCT ON (from_currency, to_currency) from_currency AS "from", to_currency AS "to", rate::text AS rate
       FROM rating_exchange_rates
      WHERE effective_from <= now() AND (effective_to IS NULL OR effective_to > now())
      ORDER BY from_currency, to_currency, effective_from DESC`,
  );
  const accountRows = await client.query<{
    id: string;
    routing_group: string | null;
    default_country: string | null;
  }>(
    `SELECT id::text, routing_group, default_country FROM accounts
      WHERE routing_group IS NOT NULL OR default_country IS NOT NULL`,
  );

  const prefixes = new PrefixTable(prefixRows.rows);
  const buyRows: BuyRateRow[] = rateRows.rows.map((r) => ({
    id: r.id,
    connectorId: r.owner_id,
    prefix: r.prefix,
    mccMnc: r.mcc_mnc,
    country: r.country,
    priceAmount: BigInt(r.price_amount),
    priceScale: r.price_scale,
    currency: r.currency.trim(),
    effectiveFrom: r.effective_from,
    effectiveTo: r.effective_to,
  }));
  const buyRate = buyRateLookup(buyRows, (e164) => prefixes.lookup(e164)?.country);
  const problems: string[] = [];
  const rules: RoutingRule[] = [];
  for (const row of ruleRows.rows) {
    try {
      rules.push(ruleFromRow(row));
    } catch (err) {
      problems.push(`routing rule ${row.id}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigLoadError(problems.join('; '));
  let tables: RoutingTables;
  try {
    tables = buildRoutingTables({
      version,
      prefixes,
      rules,
      firewall: fwRows.rows.map(firewallFromRow),
      connectors: connectorRows.rows,
      fxRates: fxRows.rows.map((r) => ({ from: r.from.trim(), to: r.to.trim(), rate: r.rate })),
      buyRate,
      quality,
      accountCountry: accountRows.rows.flatMap((a) =>
        a.default_country ? [[a.id, a.default_country] as [string, string]] : [],
      ),
    });
  } catch (err) {
    throw new ConfigLoadError(`routing configuration is invalid: ${(err as Error).message}`, { cause: err });
  }
  return {
    tables,
    accountGroups: new Map(
      accountRows.rows.flatMap((a) => (a.routing_group ? [[a.id, a.routing_group] as [string, string]] : [])),
    ),
    counts: {
      prefixes: prefixes.size,
      rules: rules.length,
      firewallRules: fwRows.rows.length,
      connectors: connectorRows.rows.length,
      buyRates: buyRate.size,
    },
  };
}

/**
 * Reads the whole routing configuration as of one database snapshot. Throws ConfigLoadError (not
 * retriable) when the data does not compile; Postgres errors pass through (retriable by the caller).
 */
export async function loadRoutingSnapshot(
  pool: Pool,
  quality: QualityLookup,
  version: string,
): Promise<RoutingSnapshot> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      return await readAll(client, quality, version);
    } finally {
      await client.query('ROLLBACK');
    }
  } finally {
    client.release();
  }
}
