// Firewall rules: smshub.config.v1.FirewallRule <-> routing_firewall_rules (0300). A rule is one check of
// routing's firewall (`kind` + JSON `params`); the proto's pattern fields are a shorthand for the common kinds:
// destination_prefixes -> destination_block, senders (glob or regex, as routing rules' senders) and the
// deprecated source_patterns (globs only) -> sender_deny/sender_allow, content_patterns -> keyword. The parameters are checked here exactly as routing compiles them, because a
// rule routing cannot compile makes it refuse the whole reload. Routing rebuilds on RESOURCE_KIND_FIREWALL_RULE.
import {
  ChangeAction,
  FirewallAction,
  ResourceKind,
  type CreateFirewallRuleRequest,
  type DeleteFirewallRuleRequest,
  type FirewallRule,
  type GetFirewallRuleRequest,
  type ListFirewallRulesRequest,
  type UpdateFirewallRuleRequest,
} from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { tx, type AdminContext } from '../context.js';
import { alreadyExists, invalid, notFound, checkRevision } from '../errors.js';
import { deleteResource } from './delete.js';
import { patternJson, patternsFromJson } from './routing-options.js';
import {
  applyMask,
  country,
  decodePageToken,
  pageOf,
  distinct,
  expectedRevision,
  pageSize,
  prefixDigits,
  requireId,
  requireText,
  OUTPUT_ONLY,
} from '../validate.js';

export const FIREWALL_KINDS = [
  'destination_block',
  'premium_range',
  'sender_deny',
  'sender_allow',
  'keyword',
  'content_regex',
  'url_shortener',
  'duplicate',
  'velocity_prefix',
  'velocity_account',
  'sequential_burst',
] as const;

type Params = Record<string, unknown>;

const SHORTHAND = ['destination_prefixes', 'source_patterns', 'senders', 'content_patterns'];

// Regular-expression syntax that no sender id carries; as a glob such a value would match nothing.
const REGEX_SYNTAX = /[\^$\\()[\]{}|]|\.\*/;

/**
 * One source_patterns value as routing stores it. source_patterns are globs (what every stored rule made
 * from them means); a value written as a regular expression ("^ACME$") would silently match nothing, so it
 * is refused with a pointer to senders, which says which of the two a pattern is.
 */
export function sourceGlob(field: string, v: string): Params {
  if (v.trim() === '') throw invalid(field, 'must not be empty');
  if (REGEX_SYNTAX.test(v))
    throw invalid(
      field,
      `${JSON.stringify(v)} uses regular-expression syntax, but source_patterns are globs ("*", "?") and ` +
        "it would match nothing: put it in senders as a regex (hubctl --sender '/pattern/'), or drop the " +
        'regex syntax',
    );
  return { glob: v };
}

function positiveInt(field: string, p: Params, key: string, min = 1, max = 1_000_000_000): void {
  const v = p[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(field, `"${key}" must be an integer in ${min}..${max}`);
}

function stringList(field: string, p: Params, key: string, required: boolean): string[] {
  const v = p[key];
  if (v === undefined && !required) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string') || (required && v.length === 0))
    throw invalid(field, `"${key}" must be a non-empty list of strings`);
  return v as string[];
}

/** Checks a kind's parameters the way routing's firewall compiles them. */
export function checkParams(kind: string, p: Params, field = 'firewall_rule.params_json'): void {
  switch (kind) {
    case 'destination_block':
    case 'premium_range':
      stringList(field, p, 'prefixes', true).forEach((x) => prefixDigits(field, x));
      return;
    case 'sender_deny':
    case 'sender_allow': {
      const pats = p['patterns'];
      if (!Array.isArray(pats) || pats.length === 0)
        throw invalid(
          field,
          '"patterns" must be a non-empty list of {"glob": ...} or {"regex": ..., "flags": ...}',
        );
      pats.forEach((x: unknown, i) => {
        const o = (x ?? {}) as Params;
        if (typeof o['glob'] === 'string' && o['glob'] !== '') return;
        if (typeof o['regex'] === 'string') {
          // As for senders: "g" and "y" make RegExp.test stateful (every other match would be missed).
          if (typeof o['flags'] === 'string' && /[gy]/.test(o['flags']))
            throw invalid(field, `patterns[${i}].flags: "g" and "y" are not allowed`);
          try {
            new RegExp(o['regex'], typeof o['flags'] === 'string' ? o['flags'] : 'i');
            return;
          } catch {
            throw invalid(field, `patterns[${i}] is not a valid regular expression`);
          }
        }
        throw invalid(field, `patterns[${i}] must be {"glob": ...} or {"regex": ...}`);
      });
      if (
        p['senderKind'] !== undefined &&
        p['senderKind'] !== 'alphanumeric' &&
        p['senderKind'] !== 'numeric'
      )
        throw invalid(field, '"senderKind" must be "alphanumeric" or "numeric"');
      return;
    }
    case 'keyword':
      if (stringList(field, p, 'keywords', true).every((k) => k.trim() === ''))
        throw invalid(field, '"keywords" must hold a non-blank keyword');
      return;
    case 'content_regex':
      if (typeof p['pattern'] !== 'string') throw invalid(field, '"pattern" is required');
      try {
        new RegExp(p['pattern'], typeof p['flags'] === 'string' ? p['flags'].replace(/[gy]/g, '') : 'iu');
      } catch {
        throw invalid(field, '"pattern" is not a valid regular expression');
      }
      return;
    case 'url_shortener':
      stringList(field, p, 'domains', false);
      return;
    case 'duplicate':
      positiveInt(field, p, 'windowSeconds');
      return;
    case 'velocity_prefix':
      positiveInt(field, p, 'limit');
      positiveInt(field, p, 'windowSeconds');
      stringList(field, p, 'prefixes', true).forEach((x) => prefixDigits(field, x));
      return;
    case 'velocity_account':
      positiveInt(field, p, 'limit');
      positiveInt(field, p, 'windowSeconds');
      return;
    case 'sequential_burst':
      positiveInt(field, p, 'count', 2);
      positiveInt(field, p, 'windowSeconds');
      positiveInt(field, p, 'varyingDigits', 1, 6);
      return;
    default:
      throw invalid('firewall_rule.kind', `must be one of ${FIREWALL_KINDS.join(', ')}`);
  }
}

export interface FirewallValues {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  accountIds: string[];
  accountGroups: string[];
  countries: string[];
  reason: string;
  params: Params;
}

/**
 * Validates a FirewallRule for a write: kind with params_json (then the pattern fields, which Get fills from the
 * parameters, are ignored), or exactly one of the shorthand pattern fields.
 */
export function firewallValues(r: FirewallRule): FirewallValues {
  const id = requireId('firewall_rule.id', r.id);
  if (r.trafficTypes.length > 0)
    throw invalid(
      'firewall_rule.traffic_types',
      'is not supported: routing firewall rules apply to all traffic',
    );
  if (r.customerErrorCode !== '')
    throw invalid(
      'firewall_rule.customer_error_code',
      'is not supported: routing answers firewall rejects itself',
    );
  if (r.priority !== 0)
    throw invalid(
      'firewall_rule.priority',
      'is not supported: firewall checks run in a fixed order (see services/routing)',
    );
  if (r.action !== FirewallAction.FIREWALL_ACTION_UNSPECIFIED && !(r.action in FirewallAction))
    throw invalid('firewall_rule.action', 'must be ALLOW or BLOCK');
  const allow = r.action === FirewallAction.FIREWALL_ACTION_ALLOW;
  let kind = r.kind;
  let params: Params;
  const senderPatterns = r.sourcePatterns.length + r.senders.length > 0;
  const shorthand = [r.destinationPrefixes.length > 0, senderPatterns, r.contentPatterns.length > 0].filter(
    Boolean,
  ).length;
  if (r.paramsJson !== '') {
    if (kind === '') throw invalid('firewall_rule.kind', 'is required with params_json');
    try {
      params = JSON.parse(r.paramsJson) as Params;
    } catch {
      throw invalid('firewall_rule.params_json', 'is not valid JSON');
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params))
      throw invalid('firewall_rule.params_json', 'must be a JSON object');
  } else {
    if (shorthand !== 1)
      throw invalid(
        'firewall_rule',
        'set exactly one of destination_prefixes, senders (or source_patterns), content_patterns (or kind with params_json)',
      );
    if (r.destinationPrefixes.length > 0) {
      kind ||= 'destination_block';
      params = {
        prefixes: r.destinationPrefixes.map((p, i) =>
          prefixDigits(`firewall_rule.destination_prefixes[${i}]`, p),
        ),
      };
    } else if (senderPatterns) {
      kind ||= allow ? 'sender_allow' : 'sender_deny';
      // Get fills source_patterns with the globs of senders, so a rule read and written back has each glob
      // twice: kept once.
      const patterns = new Map<string, Params>();
      for (const x of [
        ...r.senders.map((p, i) => patternJson(`firewall_rule.senders[${i}]`, p)),
        ...r.sourcePatterns.map((v, i) => sourceGlob(`firewall_rule.source_patterns[${i}]`, v)),
      ])
        patterns.set(JSON.stringify(x), x);
      params = { patterns: [...patterns.values()] };
    } else {
      kind ||= 'keyword';
      params = { keywords: r.contentPatterns };
    }
  }
  if (allow && kind !== 'sender_allow')
    throw invalid('firewall_rule.action', 'ALLOW is only meaningful for sender_allow rules (senders)');
  checkParams(kind, params);
  return {
    id,
    name: requireText('firewall_rule.name', r.name, 200),
    kind,
    enabled: r.enabled,
    accountIds: distinct('firewall_rule.account_ids', r.accountIds),
    accountGroups: distinct('firewall_rule.account_groups', r.accountGroups),
    countries: distinct(
      'firewall_rule.countries',
      r.countries.map((c, i) => country(`firewall_rule.countries[${i}]`, c)),
    ),
    reason: requireText('firewall_rule.reason', r.reason, 500),
    params,
  };
}

export interface FirewallRow {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
  account_ids: string[];
  account_groups: string[];
  countries: string[];
  reason: string;
  params: Params;
  revision: string;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT id, name, kind, enabled, account_ids, account_groups, countries, reason, params,
  revision::text AS revision, created_at, updated_at FROM routing_firewall_rules`;

export function firewallFromRow(r: FirewallRow): FirewallRule {
  const p = r.params;
  const list = (k: string) =>
    Array.isArray(p[k]) ? (p[k] as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const sender = r.kind === 'sender_allow' || r.kind === 'sender_deny';
  const senders = sender ? patternsFromJson(p['patterns']) : [];
  return {
    id: r.id,
    name: r.name,
    priority: 0,
    enabled: r.enabled,
    action:
      r.kind === 'sender_allow' ? FirewallAction.FIREWALL_ACTION_ALLOW : FirewallAction.FIREWALL_ACTION_BLOCK,
    accountIds: r.account_ids,
    sourcePatterns: senders.flatMap((x) => (x.pattern?.$case === 'glob' ? [x.pattern.value] : [])),
    senders,
    destinationPrefixes: r.kind === 'destination_block' || r.kind === 'premium_range' ? list('prefixes') : [],
    contentPatterns: r.kind === 'keyword' ? list('keywords') : [],
    trafficTypes: [],
    customerErrorCode: '',
    revision: BigInt(r.revision),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    kind: r.kind,
    paramsJson: JSON.stringify(p),
    accountGroups: r.account_groups,
    countries: r.countries,
    reason: r.reason,
  };
}

async function load(c: PoolClient, id: string, lock = false): Promise<FirewallRow | undefined> {
  const { rows } = await c.query<FirewallRow>(`${SELECT} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

function change(action: ChangeAction, r: FirewallRule) {
  return {
    kind: ResourceKind.RESOURCE_KIND_FIREWALL_RULE,
    action,
    resourceId: r.id,
    revision: r.revision,
    snapshot: { $case: 'firewallRule' as const, value: r },
  };
}

const PARAMS = (v: FirewallValues) => [
  v.id,
  v.name,
  v.kind,
  v.enabled,
  v.accountIds,
  v.accountGroups,
  v.countries,
  v.reason,
  JSON.stringify(v.params),
];

export function firewallHandlers(ctx: AdminContext) {
  return {
    async createFirewallRule(req: CreateFirewallRuleRequest) {
      if (!req.firewallRule) throw invalid('firewall_rule', 'is required');
      const v = firewallValues(req.firewallRule);
      const rule = await tx(ctx, 'firewall_rule', async (c) => {
        if (await load(c, v.id)) throw alreadyExists('firewall rule', v.id);
        await c.query(
          `INSERT INTO routing_firewall_rules (id, name, kind, enabled, account_ids, account_groups, countries, reason, params)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`,
          PARAMS(v),
        );
        return firewallFromRow((await load(c, v.id))!);
      });
      await ctx.publisher.change(change(ChangeAction.CHANGE_ACTION_CREATED, rule));
      return { firewallRule: rule };
    },

    async getFirewallRule(req: GetFirewallRuleRequest) {
      const { rows } = await ctx.pool.query<FirewallRow>(`${SELECT} WHERE id = $1`, [req.id]);
      if (!rows[0]) throw notFound('firewall rule', req.id);
      return { firewallRule: firewallFromRow(rows[0]) };
    },

    async listFirewallRules(req: ListFirewallRulesRequest) {
      const size = pageSize(req.pageSize);
      const filters = { accountId: req.accountId };
      const after = decodePageToken(req.pageToken, filters);
      const { rows } = await ctx.pool.query<FirewallRow>(
        `${SELECT} WHERE ($1 = '' OR cardinality(account_ids) = 0 OR $1 = ANY(account_ids))
           AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3`,
        [req.accountId, after ?? null, size + 1],
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => r.id, filters);
      return { firewallRules: page.map(firewallFromRow), nextPageToken };
    },

    async updateFirewallRule(req: UpdateFirewallRuleRequest) {
      if (!req.firewallRule) throw invalid('firewall_rule', 'is required');
      const id = req.firewallRule.id;
      const expected = expectedRevision(req.expectedRevision);
      const rule = await tx(ctx, 'firewall_rule', async (c) => {
        const stored = await load(c, id, true);
        if (!stored) throw notFound('firewall rule', id);
        const current = firewallFromRow(stored);
        checkRevision('firewall rule', id, expected, current.revision);
        let merged = applyMask(current, req.firewallRule!, req.updateMask, 'FirewallRule', [
          'id',
          ...OUTPUT_ONLY,
        ]);
        // A masked change of the pattern fields rebuilds the parameters from them.
        const mask = req.updateMask ?? [];
        if (SHORTHAND.some((m) => mask.includes(m)) && !mask.includes('params_json')) {
          merged = { ...merged, paramsJson: '', kind: mask.includes('kind') ? merged.kind : '' };
          // senders and source_patterns describe the same patterns: the one in the mask replaces both.
          if (mask.includes('senders') && !mask.includes('source_patterns'))
            merged = { ...merged, sourcePatterns: [] };
          if (mask.includes('source_patterns') && !mask.includes('senders'))
            merged = { ...merged, senders: [] };
        }
        const v = firewallValues({ ...merged, id });
        await c.query(
          `UPDATE routing_firewall_rules SET name = $2, kind = $3, enabled = $4, account_ids = $5, account_groups = $6,
             countries = $7, reason = $8, params = $9::jsonb, revision = revision + 1
           WHERE id = $1`,
          PARAMS(v),
        );
        return firewallFromRow((await load(c, id))!);
      });
      await ctx.publisher.change(change(ChangeAction.CHANGE_ACTION_UPDATED, rule));
      return { firewallRule: rule };
    },

    async deleteFirewallRule(req: DeleteFirewallRuleRequest) {
      return deleteResource(ctx, {
        kind: ResourceKind.RESOURCE_KIND_FIREWALL_RULE,
        what: 'firewall rule',
        txName: 'firewall_rule',
        id: req.id,
        expectedRevision: req.expectedRevision,
        load: load,
        remove: async (c) => {
          await c.query('DELETE FROM routing_firewall_rules WHERE id = $1', [req.id]);
        },
      });
    },
  };
}
