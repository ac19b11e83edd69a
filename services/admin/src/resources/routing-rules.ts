// Routing rules: smshub.config.v1.RoutingRule <-> routing_rules + routing_rule_candidates (0300), including
// the jsonb columns senders, time_window, strategy_options and sender_rewrite (checked in routing-options.ts).
// Routing rebuilds its tables on RESOURCE_KIND_ROUTING_RULE.
import {
  ChangeAction,
  ResourceKind,
  RouteStrategy,
  reroutePolicyFromJson,
  type CreateRoutingRuleRequest,
  type DeleteRoutingRuleRequest,
  type GetRoutingRuleRequest,
  type ListRoutingRulesRequest,
  type RoutingRule,
  type UpdateRoutingRuleRequest,
} from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { tx, type AdminContext } from '../context.js';
import { alreadyExists, failedPrecondition, invalid, notFound, checkRevision } from '../errors.js';
import { deleteResource } from './delete.js';
import {
  applyMask,
  country,
  currency,
  decodePageToken,
  pageOf,
  distinct,
  expectedRevision,
  intRange,
  mccMnc,
  pageSize,
  prefixDigits,
  requireId,
  requireText,
  OUTPUT_ONLY,
} from '../validate.js';
import { reverse, TRAFFIC } from './accounts.js';
import {
  patternsFromJson,
  patternsJson,
  senderRewriteFromJson,
  senderRewriteJson,
  strategyOptionsFromJson,
  strategyOptionsJson,
  timeWindowFromJson,
  timeWindowJson,
} from './routing-options.js';
import { reroutePolicyJson } from './reroute-policy.js';

const STRATEGIES: Record<number, string> = {
  [RouteStrategy.ROUTE_STRATEGY_PRIORITY]: 'priority',
  [RouteStrategy.ROUTE_STRATEGY_LEAST_COST]: 'least_cost',
  [RouteStrategy.ROUTE_STRATEGY_QUALITY]: 'best_quality',
  [RouteStrategy.ROUTE_STRATEGY_WEIGHTED]: 'weighted',
  [RouteStrategy.ROUTE_STRATEGY_SCORE]: 'score',
  [RouteStrategy.ROUTE_STRATEGY_ADAPTIVE]: 'adaptive',
};

/** Strategies that compare costs and so need strategy_currency (the table checks the same). */
const PRICED = ['least_cost', 'score', 'adaptive'];

export interface RuleValues {
  id: string;
  name: string;
  priority: number;
  enabled: boolean;
  accountIds: string[];
  accountGroups: string[];
  destinationPrefixes: string[];
  countries: string[];
  mccMncs: string[];
  trafficTypes: string[];
  action: 'route' | 'block';
  blockReason: string;
  strategy: string;
  strategyCurrency: string | null;
  targets: { connectorId: string; weight: number }[];
  /** jsonb values of the columns of the same names. */
  senders: Record<string, unknown>[];
  timeWindow: Record<string, unknown> | null;
  strategyOptions: Record<string, unknown>;
  senderRewrite: Record<string, unknown> | null;
  /** routing_rules.reroute (0341); null = routing's defaults. */
  reroute: Record<string, unknown> | null;
  /** routing_rules.demote_suspected (0342); null = routing's default (on for OTP traffic). */
  demoteSuspected: boolean | null;
}

export function trafficNames(field: string, v: number[]): string[] {
  return distinct(
    field,
    v.map((t, i) => {
      const n = TRAFFIC[t];
      if (n === undefined) throw invalid(`${field}[${i}]`, 'is not a known traffic type');
      return n;
    }),
  );
}

export function ruleValues(r: RoutingRule): RuleValues {
  const id = requireId('routing_rule.id', r.id);
  if (r.accountIds.length > 0 && r.accountGroups.length > 0)
    throw invalid('routing_rule.account_groups', 'cannot be combined with account_ids');
  r.accountIds.forEach((a, i) => requireText(`routing_rule.account_ids[${i}]`, a, 64, true));
  r.accountGroups.forEach((a, i) => requireText(`routing_rule.account_groups[${i}]`, a, 64, true));
  const block = r.block;
  const strategy =
    r.strategy === RouteStrategy.ROUTE_STRATEGY_UNSPECIFIED ? 'priority' : STRATEGIES[r.strategy];
  if (strategy === undefined) throw invalid('routing_rule.strategy', 'is not a known strategy');
  const strategyCurrency =
    r.strategyCurrency === '' ? null : currency('routing_rule.strategy_currency', r.strategyCurrency);
  if (!block && PRICED.includes(strategy) && strategyCurrency === null)
    throw invalid(
      'routing_rule.strategy_currency',
      'is required for ROUTE_STRATEGY_LEAST_COST, ROUTE_STRATEGY_SCORE and ROUTE_STRATEGY_ADAPTIVE',
    );
  if (!block && r.targets.length === 0)
    throw invalid('routing_rule.targets', 'at least one is required (or set block)');
  const targets = r.targets.map((t, i) => ({
    connectorId: requireId(`routing_rule.targets[${i}].connector_id`, t.connectorId),
    weight:
      strategy === 'weighted'
        ? intRange(`routing_rule.targets[${i}].weight`, t.weight, 0, 1_000_000)
        : t.weight || 1,
  }));
  distinct(
    'routing_rule.targets',
    targets.map((t) => t.connectorId),
  );
  if (!block && strategy === 'weighted' && targets.every((t) => t.weight === 0))
    throw invalid('routing_rule.targets', 'weighted strategy needs a target with weight > 0');
  // Routing refuses its whole configuration for a pin that is not a target: refused here instead.
  const pin = r.strategyOptions?.pin ?? '';
  if (pin !== '' && !targets.some((t) => t.connectorId === pin))
    throw invalid('routing_rule.strategy_options.pin', 'must be one of the targets');
  return {
    id,
    name: requireText('routing_rule.name', r.name, 200),
    priority: intRange('routing_rule.priority', r.priority, -1_000_000, 1_000_000),
    enabled: r.enabled,
    accountIds: distinct('routing_rule.account_ids', r.accountIds),
    accountGroups: distinct('routing_rule.account_groups', r.accountGroups),
    destinationPrefixes: distinct(
      'routing_rule.destination_prefixes',
      r.destinationPrefixes.map((p, i) => prefixDigits(`routing_rule.destination_prefixes[${i}]`, p)),
    ),
    countries: distinct(
      'routing_rule.countries',
      r.countries.map((c, i) => country(`routing_rule.countries[${i}]`, c)),
    ),
    mccMncs: distinct(
      'routing_rule.mcc_mncs',
      r.mccMncs.map((m, i) => {
        const { mcc, mnc } = mccMnc(`routing_rule.mcc_mncs[${i}]`, m);
        return `${mcc}-${mnc}`;
      }),
    ),
    trafficTypes: trafficNames('routing_rule.traffic_types', r.trafficTypes),
    action: block ? 'block' : 'route',
    blockReason: requireText('routing_rule.block_reason', r.blockReason, 500),
    strategy,
    strategyCurrency,
    targets: block ? [] : targets,
    senders: patternsJson('routing_rule.senders', r.senders),
    timeWindow: timeWindowJson('routing_rule.time_window', r.timeWindow),
    strategyOptions: strategyOptionsJson('routing_rule.strategy_options', r.strategyOptions),
    senderRewrite: senderRewriteJson('routing_rule.sender_rewrite', r.senderRewrite),
    reroute: reroutePolicyJson('routing_rule.reroute', r.reroute),
    demoteSuspected: r.demoteSuspected ?? null,
  };
}

interface RuleRow {
  id: string;
  name: string;
  priority: number;
  enabled: boolean;
  account_ids: string[];
  account_groups: string[];
  destination_prefixes: string[];
  countries: string[];
  mcc_mncs: string[];
  traffic_types: string[];
  action: string;
  block_reason: string;
  strategy: string;
  strategy_currency: string | null;
  senders: unknown;
  time_window: unknown;
  strategy_options: unknown;
  sender_rewrite: unknown;
  reroute: unknown;
  demote_suspected: boolean | null;
  revision: string;
  created_at: Date;
  updated_at: Date;
  candidates: { connectorId: string; weight: number }[] | null;
}

const SELECT = `SELECT r.id, r.name, r.priority, r.enabled, r.account_ids, r.account_groups, r.destination_prefixes,
  r.countries, r.mcc_mncs, r.traffic_types, r.action, r.block_reason, r.strategy, r.strategy_currency,
  r.senders, r.time_window, r.strategy_options, r.sender_rewrite, r.reroute, r.demote_suspected, r.revision::text AS revision, r.created_at, r.updated_at,
  (SELECT json_agg(json_build_object('connectorId', c.connector_id, 'weight', c.weight) ORDER BY c.position)
     FROM routing_rule_candidates c WHERE c.rule_id = r.id) AS candidates
  FROM routing_rules r`;

export function ruleFromRow(r: RuleRow): RoutingRule {
  return {
    id: r.id,
    name: r.name,
    priority: r.priority,
    enabled: r.enabled,
    accountIds: r.account_ids,
    destinationPrefixes: r.destination_prefixes,
    mccMncs: r.mcc_mncs,
    trafficTypes: r.traffic_types.map((t) => reverse(TRAFFIC, t)),
    strategy: reverse(STRATEGIES, r.strategy),
    targets: (r.candidates ?? []).map((c) => ({ connectorId: c.connectorId, weight: c.weight })),
    revision: BigInt(r.revision),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    accountGroups: r.account_groups,
    countries: r.countries,
    strategyCurrency: r.strategy_currency ?? '',
    block: r.action === 'block',
    blockReason: r.block_reason,
    // Always present (undefined when unset), so an update mask can name them.
    senders: patternsFromJson(r.senders),
    timeWindow: timeWindowFromJson(r.time_window),
    strategyOptions: strategyOptionsFromJson(r.strategy_options),
    senderRewrite: senderRewriteFromJson(r.sender_rewrite),
    reroute: reroutePolicyFromJson(r.reroute),
    demoteSuspected: r.demote_suspected ?? undefined,
  };
}

async function load(c: PoolClient, id: string, lock = false): Promise<RuleRow | undefined> {
  const { rows } = await c.query<RuleRow>(`${SELECT} WHERE r.id = $1${lock ? ' FOR UPDATE OF r' : ''}`, [id]);
  return rows[0];
}

async function writeCandidates(c: PoolClient, v: RuleValues): Promise<void> {
  const ids = v.targets.map((t) => t.connectorId);
  if (ids.length > 0) {
    const { rows } = await c.query<{ id: string }>(
      'SELECT id FROM egress_connectors WHERE id = ANY($1::text[])',
      [ids],
    );
    const known = new Set(rows.map((r) => r.id));
    const missing = ids.filter((i) => !known.has(i));
    if (missing.length > 0)
      throw failedPrecondition(
        `routing_rule.targets: connector ${missing.map((m) => JSON.stringify(m)).join(', ')} does not exist`,
      );
  }
  await c.query('DELETE FROM routing_rule_candidates WHERE rule_id = $1', [v.id]);
  if (ids.length > 0)
    await c.query(
      `INSERT INTO routing_rule_candidates (rule_id, position, connector_id, weight)
       SELECT $1, p - 1, t.connector_id, t.weight FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS t(connector_id, weight, p)`,
      [v.id, ids, v.targets.map((t) => t.weight)],
    );
}

function change(action: ChangeAction, r: RoutingRule) {
  return {
    kind: ResourceKind.RESOURCE_KIND_ROUTING_RULE,
    action,
    resourceId: r.id,
    revision: r.revision,
    snapshot: { $case: 'routingRule' as const, value: r },
  };
}

const PARAMS = (v: RuleValues) => [
  v.id,
  v.name,
  v.priority,
  v.enabled,
  v.accountIds,
  v.accountGroups,
  v.destinationPrefixes,
  v.countries,
  v.mccMncs,
  v.trafficTypes,
  v.action,
  v.blockReason,
  v.strategy,
  v.strategyCurrency,
  // node-postgres would send a JS array as a Postgres array, so the jsonb values go as JSON text.
  JSON.stringify(v.senders),
  v.timeWindow === null ? null : JSON.stringify(v.timeWindow),
  JSON.stringify(v.strategyOptions),
  v.senderRewrite === null ? null : JSON.stringify(v.senderRewrite),
  v.reroute === null ? null : JSON.stringify(v.reroute),
  v.demoteSuspected,
];

export function routingRuleHandlers(ctx: AdminContext) {
  return {
    async createRoutingRule(req: CreateRoutingRuleRequest) {
      if (!req.routingRule) throw invalid('routing_rule', 'is required');
      const v = ruleValues(req.routingRule);
      const rule = await tx(ctx, 'routing_rule', async (c) => {
        if (await load(c, v.id)) throw alreadyExists('routing rule', v.id);
        await c.query(
          `INSERT INTO routing_rules (id, name, priority, enabled, account_ids, account_groups, destination_prefixes,
             countries, mcc_mncs, traffic_types, action, block_reason, strategy, strategy_currency, senders,
             time_window, strategy_options, sender_rewrite, reroute, demote_suspected)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16::jsonb,
             $17::jsonb, $18::jsonb, $19::jsonb, $20)`,
          PARAMS(v),
        );
        await writeCandidates(c, v);
        return ruleFromRow((await load(c, v.id))!);
      });
      await ctx.publisher.change(change(ChangeAction.CHANGE_ACTION_CREATED, rule));
      return { routingRule: rule };
    },

    async getRoutingRule(req: GetRoutingRuleRequest) {
      const { rows } = await ctx.pool.query<RuleRow>(`${SELECT} WHERE r.id = $1`, [req.id]);
      if (!rows[0]) throw notFound('routing rule', req.id);
      return { routingRule: ruleFromRow(rows[0]) };
    },

    async listRoutingRules(req: ListRoutingRulesRequest) {
      const size = pageSize(req.pageSize);
      const filters = { accountId: req.accountId };
      const after = decodePageToken(req.pageToken, filters);
      const { rows } = await ctx.pool.query<RuleRow>(
        `${SELECT} WHERE ($1 = '' OR cardinality(r.account_ids) = 0 OR $1 = ANY(r.account_ids))
           AND ($2::text IS NULL OR r.id > $2) ORDER BY r.id LIMIT $3`,
        [req.accountId, after ?? null, size + 1],
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => r.id, filters);
      return { routingRules: page.map(ruleFromRow), nextPageToken };
    },

    async updateRoutingRule(req: UpdateRoutingRuleRequest) {
      if (!req.routingRule) throw invalid('routing_rule', 'is required');
      const id = req.routingRule.id;
      const expected = expectedRevision(req.expectedRevision);
      const rule = await tx(ctx, 'routing_rule', async (c) => {
        const stored = await load(c, id, true);
        if (!stored) throw notFound('routing rule', id);
        const current = ruleFromRow(stored);
        checkRevision('routing rule', id, expected, current.revision);
        const merged = applyMask(current, req.routingRule!, req.updateMask, 'RoutingRule', [
          'id',
          ...OUTPUT_ONLY,
        ]);
        const v = ruleValues({ ...merged, id });
        await c.query(
          `UPDATE routing_rules SET name = $2, priority = $3, enabled = $4, account_ids = $5, account_groups = $6,
             destination_prefixes = $7, countries = $8, mcc_mncs = $9, traffic_types = $10, action = $11,
             block_reason = $12, strategy = $13, strategy_currency = $14, senders = $15::jsonb,
             time_window = $16::jsonb, strategy_options = $17::jsonb, sender_rewrite = $18::jsonb,
             reroute = $19::jsonb, demote_suspected = $20, revision = revision + 1
           WHERE id = $1`,
          PARAMS(v),
        );
        await writeCandidates(c, v);
        return ruleFromRow((await load(c, id))!);
      });
      await ctx.publisher.change(change(ChangeAction.CHANGE_ACTION_UPDATED, rule));
      return { routingRule: rule };
    },

    async deleteRoutingRule(req: DeleteRoutingRuleRequest) {
      return deleteResource(ctx, {
        kind: ResourceKind.RESOURCE_KIND_ROUTING_RULE,
        what: 'routing rule',
        txName: 'routing_rule',
        id: req.id,
        expectedRevision: req.expectedRevision,
        load: load,
        remove: async (c) => {
          await c.query('DELETE FROM routing_rules WHERE id = $1', [req.id]);
        },
      });
    },
  };
}
