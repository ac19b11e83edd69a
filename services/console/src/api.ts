// The console's JSON API under /api: sign-in and session, then one route per page, each calling the
// hub's services with the session's token. Mutations need the session's CSRF token in X-CSRF-Token (and a
// same-origin Origin when the browser sends one); the cookie is SameSite=Strict besides.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isRole, type Role } from '@smshub/auth';
import {
  Account,
  AccountBalance,
  Connector,
  FirewallRule,
  GetBreakdownResponse,
  GetSeriesResponse,
  GetSummaryResponse,
  MessageSummary,
  RoutingRule,
  SettlementParty,
  SettlementPeriod,
  SettlementTotal,
  StatsDimension,
  TopUp,
  type GetMessageResponse,
  type StatsFilter,
  type WhoAmIResponse,
} from '@smshub/contracts';
import { type Backends, ConsoleError, streamArgs, unary } from './backends.js';
import { capabilitiesOf, CONSOLE_ROLES, type Action } from './capabilities.js';
import { csrfMatches, type Session, type SessionStore } from './session.js';
import { registerLiveApi } from './live-api.js';
import { registerRoutingApi } from './routing-api.js';
import { registerDeadLetterApi } from './deadletters-api.js';
import { messageView, withoutTexts } from './views.js';

export const COOKIE = 'smshub_console';
/** With TLS the cookie carries the __Host- prefix: Secure, Path=/, no Domain (a sibling host cannot set it). */
export const cookieName = (tls: boolean) => (tls ? `__Host-${COOKIE}` : COOKIE);

export interface ApiDeps {
  backends: Backends;
  sessions: SessionStore;
  tls: boolean;
  /** Session lifetime for the cookie's Max-Age (seconds). */
  maxAgeSeconds: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
  }
}

function cookieOf(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function setCookie(reply: FastifyReply, deps: ApiDeps, value: string, maxAge: number): void {
  const attrs = [
    `${cookieName(deps.tls)}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAge}`,
    ...(deps.tls ? ['Secure'] : []),
  ];
  reply.header('set-cookie', attrs.join('; '));
}

/** The role of a token, as admin's WhoAmI states it (every role may ask). */
export async function roleOfToken(backends: Backends, token: string): Promise<Role> {
  const admin = backends.need('admin');
  const me = await unary<WhoAmIResponse>(token, (md, o, cb) => admin.whoAmI({}, md, o, cb));
  const role = me.roles.find((r): r is Role => isRole(r) && CONSOLE_ROLES.includes(r));
  if (!role)
    throw new ConsoleError(
      403,
      'this token cannot sign in to the console (roles admin, operations, finance)',
    );
  return role;
}

function need(req: FastifyRequest, action?: Action): Session {
  const s = req.session;
  if (!s) throw new ConsoleError(401, 'sign in first');
  if (action && !capabilitiesOf(s.role).actions.includes(action))
    throw new ConsoleError(403, `your role (${s.role}) may not do this`);
  return s;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const date = (v: unknown, fallback: Date): Date => {
  // A time without a zone (a datetime-local field) is UTC, as the console labels it.
  const text = typeof v === 'string' && /T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v) ? `${v}Z` : v;
  const d = typeof text === 'string' && text ? new Date(text) : fallback;
  if (Number.isNaN(d.getTime())) throw new ConsoleError(400, `not a time: ${String(v)}`);
  return d;
};
const minuteFloor = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000);

/** A money amount typed by a user ("12.50") as minor units at scale 6; refuses anything else. */
export function parseAmount(text: string, currency: string) {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m || !/^[A-Z]{3}$/.test(currency)) throw new ConsoleError(400, `not an amount: "${text} ${currency}"`);
  const minor = BigInt(m[1]!) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'));
  return { currencyCode: currency, minorUnits: minor, scale: 6 };
}

/** Messages per search page. */
const PAGE = 50;
/** A search without an account asks at most this many accounts. */
const MAX_FANOUT = 500;

/** Fields of a routing rule the console edits (update_mask paths); anything else stays as stored. */
const RULE_FIELDS = [
  'name',
  'priority',
  'enabled',
  'destination_prefixes',
  'countries',
  'account_ids',
  'strategy',
  'targets',
  'block',
  'block_reason',
  'reroute',
  'demote_suspected',
] as const;

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { backends, sessions } = deps;

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    reply.header('cache-control', 'no-store');
    const found = sessions.get(cookieOf(req, cookieName(deps.tls)));
    req.session = found?.session;
    // A sealed session whose last use moved on: the browser keeps the newer cookie.
    if (found?.cookie) setCookie(reply, deps, found.cookie, deps.maxAgeSeconds);
    if (req.method === 'GET' || req.method === 'HEAD') return;
    // Mutations: same origin only, and the session's CSRF token (sign-in has no session yet: origin only).
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      const host = req.headers.host;
      let same = false;
      try {
        same = new URL(origin).host === host;
      } catch {
        same = false;
      }
      if (!same) throw new ConsoleError(403, 'cross-origin request refused');
    } else if (origin === 'null') throw new ConsoleError(403, 'cross-origin request refused');
    if (req.url === '/api/session' && req.method === 'POST') return;
    if (!req.session) throw new ConsoleError(401, 'sign in first');
    if (!csrfMatches(req.session, req.headers['x-csrf-token'] as string | undefined))
      throw new ConsoleError(403, 'missing or wrong CSRF token: reload the page');
  });

  // ---- session ---------------------------------------------------------------------------------------
  app.post('/api/session', async (req, reply) => {
    const token = str((req.body as { token?: unknown } | undefined)?.token).trim();
    if (!token) throw new ConsoleError(400, 'a token is needed');
    let role: Role;
    try {
      role = await roleOfToken(backends, token);
    } catch (err) {
      if (err instanceof ConsoleError && err.httpStatus === 401)
        throw new ConsoleError(401, 'this token is not valid (unknown, expired or revoked)');
      throw err;
    }
    if (!CONSOLE_ROLES.includes(role))
      throw new ConsoleError(403, 'this token cannot sign in to the console');
    if (req.session) sessions.delete(req.session);
    const { session: s, cookie } = sessions.create(token, role);
    setCookie(reply, deps, cookie, deps.maxAgeSeconds);
    req.log.info({ role }, 'console sign-in');
    return { ...capabilitiesOf(role), csrf: s.csrf };
  });
  app.get('/api/session', async (req) => {
    const s = need(req);
    return { ...capabilitiesOf(s.role), csrf: s.csrf };
  });
  app.delete('/api/session', async (req, reply) => {
    if (req.session) sessions.delete(req.session);
    setCookie(reply, deps, '', 0);
    return { ok: true };
  });

  // ---- statistics (overview, connectors, accounts) -----------------------------------------------------
  const statsWindow = (q: Record<string, unknown>, defMinutes: number) => {
    const minutes = Math.min(Math.max(Number(q.minutes) || defMinutes, 5), 31 * 24 * 60);
    const end = minuteFloor(Date.now() + 60_000);
    return { startTime: new Date(end.getTime() - minutes * 60_000), endTime: end };
  };
  const filterOf = (q: Record<string, unknown>): StatsFilter => ({
    accountIds: str(q.account) ? [str(q.account)] : [],
    connectorIds: str(q.connector) ? [str(q.connector)] : [],
    countries: str(q.country) ? [str(q.country)] : [],
    mccMncs: [],
    trafficTypes: [],
  });
  const hideMoney = (session: Session, v: unknown) =>
    capabilitiesOf(session.role).actions.includes('money.read') ? v : stripMoneyDeep(v);

  app.get('/api/stats/series', async (req) => {
    const s = need(req);
    const q = req.query as Record<string, unknown>;
    const window = statsWindow(q, 60);
    const stats = backends.need('stats');
    const res = await unary<GetSeriesResponse>(s.token, (md, o, cb) =>
      stats.getSeries(
        {
          window,
          filter: filterOf(q),
          stepSeconds: Math.max(60, Number(q.step) || 60),
          groupBy: StatsDimension.STATS_DIMENSION_UNSPECIFIED,
          limit: 0,
        },
        md,
        o,
        cb,
      ),
    );
    return hideMoney(s, GetSeriesResponse.toJSON(res));
  });
  app.get('/api/stats/summary', async (req) => {
    const s = need(req);
    const q = req.query as Record<string, unknown>;
    const stats = backends.need('stats');
    const res = await unary<GetSummaryResponse>(s.token, (md, o, cb) =>
      stats.getSummary({ window: statsWindow(q, 60), filter: filterOf(q) }, md, o, cb),
    );
    return hideMoney(s, GetSummaryResponse.toJSON(res));
  });
  const DIMENSIONS: Record<string, StatsDimension> = {
    account: StatsDimension.STATS_DIMENSION_ACCOUNT,
    connector: StatsDimension.STATS_DIMENSION_CONNECTOR,
    country: StatsDimension.STATS_DIMENSION_COUNTRY,
    network: StatsDimension.STATS_DIMENSION_MCC_MNC,
    traffic: StatsDimension.STATS_DIMENSION_TRAFFIC_TYPE,
  };
  app.get('/api/stats/breakdown', async (req) => {
    const s = need(req);
    const q = req.query as Record<string, unknown>;
    const dimension = DIMENSIONS[str(q.by)];
    if (dimension === undefined)
      throw new ConsoleError(400, `by must be one of ${Object.keys(DIMENSIONS).join(', ')}`);
    const stats = backends.need('stats');
    const res = await unary<GetBreakdownResponse>(s.token, (md, o, cb) =>
      stats.getBreakdown(
        { window: statsWindow(q, 60), filter: filterOf(q), dimension, order: 0, limit: 100 },
        md,
        o,
        cb,
      ),
    );
    return hideMoney(s, GetBreakdownResponse.toJSON(res));
  });

  // ---- connectors ---------------------------------------------------------------------------------------
  registerLiveApi(app, backends, (req) => need(req));
  registerDeadLetterApi(app, backends, need);
  app.get('/api/connectors', async (req) => {
    const s = need(req);
    const admin = backends.need('admin');
    const out: unknown[] = [];
    let pageToken = '';
    do {
      const res = await unary<{ connectors: Connector[]; nextPageToken: string }>(s.token, (md, o, cb) =>
        admin.listConnectors({ pageSize: 500, pageToken, supplierId: '' }, md, o, cb),
      );
      for (const c of res.connectors) out.push(Connector.toJSON(c));
      pageToken = res.nextPageToken;
    } while (pageToken);
    return { connectors: out };
  });
  app.post('/api/connectors/:id/enabled', async (req) => {
    const s = need(req, 'connectors.toggle');
    const { id } = req.params as { id: string };
    const body = (req.body ?? {}) as { enabled?: unknown; revision?: unknown };
    if (typeof body.enabled !== 'boolean') throw new ConsoleError(400, 'enabled must be true or false');
    const admin = backends.need('admin');
    const res = await unary<{ connector?: Connector }>(s.token, (md, o, cb) =>
      admin.updateConnector(
        {
          connector: Connector.fromPartial({ id, enabled: body.enabled as boolean }),
          updateMask: ['enabled'],
          expectedRevision: BigInt(str(body.revision) || '0'),
        },
        md,
        o,
        cb,
      ),
    );
    req.log.info({ connector: id, enabled: body.enabled }, 'connector switched from the console');
    return { connector: res.connector ? Connector.toJSON(res.connector) : null };
  });

  // ---- messages -----------------------------------------------------------------------------------------
  app.get('/api/messages', async (req) => {
    const s = need(req);
    const q = req.query as Record<string, unknown>;
    const dlr = backends.need('messages');
    const id = str(q.id).trim();
    const customerId = str(q.customerId).trim();
    if (id || customerId) {
      try {
        const res = await unary<GetMessageResponse>(s.token, (md, o, cb) =>
          dlr.getMessage(
            { messageId: id, customerMessageId: customerId, accountId: str(q.account).trim() },
            md,
            o,
            cb,
          ),
        );
        return {
          messages: res.message ? [withoutTexts(MessageSummary.toJSON(res.message))] : [],
          nextPageToken: '',
        };
      } catch (err) {
        if (err instanceof ConsoleError && err.httpStatus === 404) return { messages: [], nextPageToken: '' };
        throw err;
      }
    }
    const to = str(q.to).replace(/[^\d]/g, '');
    const now = Date.now();
    const list = (accountId: string, pageToken: string) =>
      unary<{ messages: MessageSummary[]; nextPageToken: string }>(s.token, (md, o, cb) =>
        dlr.listMessages(
          {
            accountId,
            startTime: date(q.from, new Date(now - 24 * 3_600_000)),
            endTime: date(q.until, new Date(now + 60_000)),
            statuses: [],
            destinationPrefix: to,
            pageSize: PAGE,
            pageToken,
          },
          md,
          o,
          cb,
        ),
      );
    const account = str(q.account).trim();
    if (account) {
      const res = await list(account, str(q.page));
      return {
        messages: res.messages.map((m) => withoutTexts(MessageSummary.toJSON(m))),
        nextPageToken: res.nextPageToken,
      };
    }
    // No account named: dlr lists one account at a time, so ask each (a few at once) and keep the newest
    // PAGE of all; the page says to name an account for more.
    const admin = backends.need('admin');
    const accounts = await unary<{ accounts: Account[] }>(s.token, (md, o, cb) =>
      admin.listAccounts({ pageSize: MAX_FANOUT, pageToken: '', state: 0 }, md, o, cb),
    );
    const found: MessageSummary[] = [];
    const ids = accounts.accounts.map((a) => a.id);
    for (let i = 0; i < ids.length; i += 8) {
      const pages = await Promise.all(ids.slice(i, i + 8).map((id) => list(id, '')));
      for (const p of pages) found.push(...p.messages);
    }
    found.sort((a, b) => (b.context?.receivedAt?.getTime() ?? 0) - (a.context?.receivedAt?.getTime() ?? 0));
    return {
      messages: found.slice(0, PAGE).map((m) => withoutTexts(MessageSummary.toJSON(m))),
      nextPageToken: '',
      acrossAccounts: ids.length,
      truncated: found.length > PAGE,
    };
  });
  app.get('/api/messages/:id', async (req) => {
    const s = need(req);
    const { id } = req.params as { id: string };
    const dlr = backends.need('messages');
    const res = await unary<GetMessageResponse>(s.token, (md, o, cb) =>
      dlr.getMessage({ messageId: id, customerMessageId: '', accountId: '' }, md, o, cb),
    );
    return messageView(res, { money: capabilitiesOf(s.role).actions.includes('money.read') });
  });

  // ---- accounts -----------------------------------------------------------------------------------------
  app.get('/api/accounts', async (req) => {
    const s = need(req);
    const admin = backends.need('admin');
    const out: unknown[] = [];
    let pageToken = '';
    do {
      const res = await unary<{ accounts: Account[]; nextPageToken: string }>(s.token, (md, o, cb) =>
        admin.listAccounts({ pageSize: 500, pageToken, state: 0 }, md, o, cb),
      );
      for (const a of res.accounts) out.push(Account.toJSON(a));
      pageToken = res.nextPageToken;
    } while (pageToken);
    return { accounts: out };
  });
  app.get('/api/accounts/:id', async (req) => {
    const s = need(req);
    const { id } = req.params as { id: string };
    const admin = backends.need('admin');
    const account = await unary<{ account?: Account }>(s.token, (md, o, cb) =>
      admin.getAccount({ id } as never, md, o, cb),
    );
    const money = capabilitiesOf(s.role).actions.includes('money.read');
    let balance: unknown = null;
    let topUps: unknown[] = [];
    if (money) {
      const b = await unary<{ balance?: AccountBalance }>(s.token, (md, o, cb) =>
        admin.getBalance({ accountId: id }, md, o, cb),
      );
      balance = b.balance ? AccountBalance.toJSON(b.balance) : null;
      const t = await unary<{ topUps: TopUp[] }>(s.token, (md, o, cb) =>
        admin.listTopUps({ accountId: id, pageSize: 20, pageToken: '' }, md, o, cb),
      );
      topUps = t.topUps.map((x) => TopUp.toJSON(x));
    }
    return {
      account: account.account ? withoutSecrets(Account.toJSON(account.account)) : null,
      balance,
      topUps,
    };
  });
  app.post('/api/accounts/:id/topups', async (req) => {
    const s = need(req, 'accounts.topup');
    const { id } = req.params as { id: string };
    const body = (req.body ?? {}) as Record<string, unknown>;
    const admin = backends.need('admin');
    // The browser sends one key per form: a retried or double-clicked top-up is applied once.
    const key = str(body.idempotencyKey) || randomUUID();
    const res = await unary<{ topUp?: TopUp; balance?: AccountBalance }>(s.token, (md, o, cb) =>
      admin.createTopUp(
        {
          accountId: id,
          amount: parseAmount(str(body.amount), str(body.currency)),
          idempotencyKey: key,
          reference: str(body.reference),
        },
        md,
        o,
        cb,
      ),
    );
    return {
      topUp: res.topUp ? TopUp.toJSON(res.topUp) : null,
      balance: res.balance ? AccountBalance.toJSON(res.balance) : null,
    };
  });
  app.post('/api/accounts/:id/credit-limit', async (req) => {
    const s = need(req, 'accounts.credit');
    const { id } = req.params as { id: string };
    const body = (req.body ?? {}) as Record<string, unknown>;
    const admin = backends.need('admin');
    const res = await unary<{ balance?: AccountBalance }>(s.token, (md, o, cb) =>
      admin.setCreditLimit(
        { accountId: id, creditLimit: parseAmount(str(body.amount), str(body.currency)) },
        md,
        o,
        cb,
      ),
    );
    return { balance: res.balance ? AccountBalance.toJSON(res.balance) : null };
  });

  // ---- routing and firewall ----------------------------------------------------------------------------
  registerRoutingApi(app, backends, (req) => need(req));
  app.get('/api/routing', async (req) => {
    const s = need(req);
    const admin = backends.need('admin');
    const [routes, rules] = await Promise.all([
      unary<{ routingRules: RoutingRule[] }>(s.token, (md, o, cb) =>
        admin.listRoutingRules({ pageSize: 1000, pageToken: '', accountId: '' }, md, o, cb),
      ),
      unary<{ firewallRules: FirewallRule[] }>(s.token, (md, o, cb) =>
        admin.listFirewallRules({ pageSize: 1000, pageToken: '', accountId: '' }, md, o, cb),
      ),
    ]);
    return {
      routingRules: routes.routingRules.map((r) => RoutingRule.toJSON(r)),
      firewallRules: rules.firewallRules.map((r) => FirewallRule.toJSON(r)),
    };
  });
  app.put('/api/routing/rules/:id', async (req) => {
    const s = need(req, 'routing.edit');
    const { id } = req.params as { id: string };
    const body = (req.body ?? {}) as { rule?: unknown; fields?: unknown; revision?: unknown };
    const fields = Array.isArray(body.fields) ? body.fields.map(String) : [];
    const bad = fields.filter((f) => !(RULE_FIELDS as readonly string[]).includes(f));
    if (fields.length === 0 || bad.length)
      throw new ConsoleError(400, `fields must name some of ${RULE_FIELDS.join(', ')}`);
    let rule: RoutingRule;
    try {
      rule = RoutingRule.fromJSON(body.rule ?? {});
    } catch (err) {
      throw new ConsoleError(400, `not a routing rule: ${(err as Error).message}`);
    }
    const admin = backends.need('admin');
    const res = await unary<{ routingRule?: RoutingRule }>(s.token, (md, o, cb) =>
      admin.updateRoutingRule(
        {
          routingRule: { ...rule, id },
          updateMask: fields,
          expectedRevision: BigInt(str(body.revision) || '0'),
        },
        md,
        o,
        cb,
      ),
    );
    req.log.info({ rule: id, fields }, 'routing rule changed from the console');
    return { routingRule: res.routingRule ? RoutingRule.toJSON(res.routingRule) : null };
  });
  app.post('/api/firewall/rules/:id/enabled', async (req) => {
    const s = need(req, 'routing.edit');
    const { id } = req.params as { id: string };
    const body = (req.body ?? {}) as { enabled?: unknown; revision?: unknown };
    if (typeof body.enabled !== 'boolean') throw new ConsoleError(400, 'enabled must be true or false');
    const admin = backends.need('admin');
    const res = await unary<{ firewallRule?: FirewallRule }>(s.token, (md, o, cb) =>
      admin.updateFirewallRule(
        {
          firewallRule: FirewallRule.fromPartial({ id, enabled: body.enabled as boolean }),
          updateMask: ['enabled'],
          expectedRevision: BigInt(str(body.revision) || '0'),
        },
        md,
        o,
        cb,
      ),
    );
    return { firewallRule: res.firewallRule ? FirewallRule.toJSON(res.firewallRule) : null };
  });

  // ---- settlement --------------------------------------------------------------------------------------
  const settlementQuery = (q: Record<string, unknown>) => {
    const party =
      str(q.party) === 'supplier'
        ? SettlementParty.SETTLEMENT_PARTY_SUPPLIER
        : SettlementParty.SETTLEMENT_PARTY_CUSTOMER;
    const today = new Date(new Date().toISOString().slice(0, 10));
    const start = date(q.from, new Date(today.getTime() - 6 * 86_400_000));
    const end = date(q.to, new Date(today.getTime() + 86_400_000));
    return {
      party,
      partyId: str(q.partyId),
      period:
        str(q.period) === 'month'
          ? SettlementPeriod.SETTLEMENT_PERIOD_MONTH
          : SettlementPeriod.SETTLEMENT_PERIOD_DAY,
      startTime: start,
      endTime: end,
      byDestination: str(q.byDestination) === 'true',
    };
  };
  app.get('/api/settlement', async (req) => {
    const s = need(req);
    const rating = backends.need('settlement');
    const query = settlementQuery(req.query as Record<string, unknown>);
    const totals: unknown[] = [];
    let pageToken = '';
    do {
      const res = await unary<{ totals: SettlementTotal[]; nextPageToken: string }>(s.token, (md, o, cb) =>
        rating.getTotals({ query, pageSize: 1000, pageToken }, md, o, cb),
      );
      for (const t of res.totals) totals.push(SettlementTotal.toJSON(t));
      pageToken = res.nextPageToken;
    } while (pageToken && totals.length < 20_000);
    return { totals };
  });
  app.get('/api/settlement.csv', async (req, reply) => {
    const s = need(req);
    const rating = backends.need('settlement');
    const q = req.query as Record<string, unknown>;
    const query = settlementQuery(q);
    const [md, opts] = streamArgs(s.token);
    const stream = rating.exportCsv({ query, perMessage: str(q.perMessage) === 'true' }, md, opts);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (m: { chunk: Buffer }) => chunks.push(Buffer.from(m.chunk)));
      stream.on('end', () => resolve());
      stream.on('error', (err) => reject(err));
    }).catch((err: unknown) => {
      throw err instanceof ConsoleError ? err : fromStreamError(err);
    });
    const name = `settlement-${str(q.party) || 'customer'}-${query.startTime.toISOString().slice(0, 10)}.csv`;
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(Buffer.concat(chunks));
  });
}

function fromStreamError(err: unknown): ConsoleError {
  const e = err as { code?: number; details?: string };
  const http = e.code === 7 ? 403 : e.code === 16 ? 401 : e.code === 3 ? 400 : e.code === 14 ? 503 : 502;
  return new ConsoleError(http, e.details ?? 'export failed', { cause: err });
}

/** Account JSON without SMPP password material. */
function withoutSecrets(a: unknown): unknown {
  const acc = a as { smppCredentials?: Record<string, unknown>[] };
  if (Array.isArray(acc.smppCredentials))
    acc.smppCredentials = acc.smppCredentials.map((c) =>
      Object.fromEntries(Object.entries(c).filter(([k]) => !/password|hash|secret/i.test(k))),
    );
  return acc;
}

/** Statistics without revenue, cost and margin (for a role without money permissions). */
function stripMoneyDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripMoneyDeep);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => k !== 'money')
        .map(([k, x]) => [k, stripMoneyDeep(x)]),
    );
  return v;
}
