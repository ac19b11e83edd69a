// The audit log: every admin write (and every refused write attempt) as one AuditEvent: who (token id,
// role, name), what (method, resource, before/after as JSON with secrets masked), when, from where (peer)
// and how it ended. Stored in admin_audit_log (what `hubctl audit list` reads) and published on audit.v1
// for SIEMs. Writes are recorded in one place (server.ts wraps every method whose permission is a write),
// not per resource: a new write RPC is audited without touching this file (its request is the "after").
//
// Before/after are read around the write, not inside its transaction: an interleaved write by someone
// else can show up in "before". Recording happens after the write's commit; if storing or publishing the
// event fails the write still stands, and the event is logged at error level in full (the log pipeline
// is the fallback), with smshub_admin_audit_failures_total counting it.
import type { CallInfo, Principal } from '@smshub/auth';
import type { AuditEvent, ListAuditEventsRequest, TopicSpec } from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import { invalid } from './errors.js';
import { readToken } from './resources/tokens.js';
import { adminMetrics } from './metrics.js';
import { decodePageToken, isUuid, pageOf, pageSize, uuidv7 } from './validate.js';

const SECRET_KEY = /(password|secret|passphrase|privatekey|apikey|^token$|hash$)/i;
export const MASK = '***';

/** A JSON-able copy of `v` with secrets replaced by "***", bytes by their length, bigints as strings. */
export function masked(v: unknown, key = ''): unknown {
  if (v === undefined || v === null) return v;
  if (SECRET_KEY.test(key) && v !== '' && !(v instanceof Uint8Array && v.length === 0)) return MASK;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (Array.isArray(v)) return v.map((x) => masked(x));
  if (typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x, k)]));
  }
  return v;
}

function json(v: unknown): string {
  return v === undefined ? '' : JSON.stringify(masked(v));
}

/** What a write is about: resource kind and id, and how to read its state before and after. */
export interface AuditTarget {
  kind: string;
  id: string;
  /** Reads the state before the write (undefined for creations). */
  before?: () => Promise<unknown>;
  /** The state after, from the response. */
  after: (res: unknown) => unknown;
  /** The resource id when only the response knows it (creations). */
  idFrom?: (res: unknown) => string;
}

type Getter = (req: unknown) => Promise<unknown>;
type Obj = Record<string, unknown>;

const KINDS: Record<string, { slug: string; field: string; idField: string }> = {
  Account: { slug: 'account', field: 'account', idField: 'id' },
  Connector: { slug: 'connector', field: 'connector', idField: 'id' },
  RoutingRule: { slug: 'routing_rule', field: 'routingRule', idField: 'id' },
  FirewallRule: { slug: 'firewall_rule', field: 'firewallRule', idField: 'id' },
  Rate: { slug: 'rate', field: 'rate', idField: 'id' },
  NumberPrefix: { slug: 'number_prefix', field: 'numberPrefix', idField: 'prefix' },
  PortedNumber: { slug: 'ported_number', field: 'portedNumber', idField: 'msisdn' },
  Number: { slug: 'number', field: 'number', idField: 'id' },
};
const IMPORTS: Record<string, string> = {
  ImportRates: 'rate',
  ImportNumberPrefixes: 'number_prefix',
  ImportPortedNumbers: 'ported_number',
};

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** An E.164 number as the opt-out lists store it (digits, no "+"). */
const digits = (v: unknown): string => str(v).trim().replace(/^\+/, '');
const field = (o: unknown, k: string): unknown => (o && typeof o === 'object' ? (o as Obj)[k] : undefined);

/**
 * The target of write `method` with request `req`; `get` calls a read handler of the same API by name
 * ("getAccount", and "readToken" for a token by id).
 */
export function auditTarget(
  method: string,
  req: unknown,
  get: (name: string) => Getter | undefined,
): AuditTarget {
  const crud = /^(Create|Update|Delete)(\w+)$/.exec(method);
  const k = crud ? KINDS[crud[2]!] : undefined;
  if (crud && k) {
    const getter = get(`get${crud[2]}`);
    const read = (id: string) => async () => field(await getter?.({ [k.idField]: id }), k.field);
    const after = (res: unknown) => field(res, k.field);
    if (crud[1] === 'Create') {
      return { kind: k.slug, id: '', after, idFrom: (res) => str(field(after(res), k.idField)) };
    }
    if (crud[1] === 'Update') {
      const id = str(field(field(req, k.field), k.idField));
      return { kind: k.slug, id, before: read(id), after };
    }
    const id = str(field(req, k.idField));
    return { kind: k.slug, id, before: read(id), after: () => undefined };
  }
  const imported = IMPORTS[method];
  if (imported !== undefined) {
    const r = req as Obj;
    return {
      kind: imported,
      id: '*',
      after: (res) => ({
        csv: r.csv,
        replaceAll: r.replaceAll,
        dryRun: r.dryRun,
        summary: field(res, 'summary'),
      }),
    };
  }
  const accountId = str(field(req, 'accountId'));
  switch (method) {
    case 'SetSmppPassword':
      return {
        kind: 'account',
        id: accountId,
        after: (res) => ({
          systemId: field(req, 'systemId'),
          password: MASK,
          revision: field(res, 'revision'),
        }),
      };
    case 'AddOptOut': {
      const o = field(req, 'optOut');
      return {
        kind: 'opt_out',
        id: `${str(field(o, 'accountId'))}/${digits(field(o, 'msisdn'))}/${digits(field(o, 'scopeNumber'))}`,
        after: (res) => field(res, 'optOut'),
      };
    }
    case 'RemoveOptOut':
      return {
        kind: 'opt_out',
        id: `${accountId}/${digits(field(req, 'msisdn'))}/${field(req, 'allScopes') ? '*' : digits(field(req, 'scopeNumber'))}`,
        after: (res) => res,
      };
    case 'ImportOptOuts':
      return {
        kind: 'opt_out',
        id: `${accountId}/*`,
        after: (res) => ({
          csv: field(req, 'csv'),
          replaceAll: field(req, 'replaceAll'),
          dryRun: field(req, 'dryRun'),
          summary: res,
        }),
      };
    case 'SetOptOutKeywords':
    case 'DeleteOptOutKeywords': {
      const k = method === 'SetOptOutKeywords' ? field(req, 'keywordSet') : req;
      return {
        kind: 'opt_out_keyword_set',
        id: `${str(field(k, 'accountId'))}/${str(field(k, 'country'))}/${str(field(k, 'language'))}`,
        after: (res) => (method === 'SetOptOutKeywords' ? field(res, 'keywordSet') : undefined),
      };
    }
    case 'SetQuietHours':
    case 'DeleteQuietHours': {
      const q = method === 'SetQuietHours' ? field(req, 'quietHours') : req;
      return {
        kind: 'quiet_hours',
        id: `${str(field(q, 'country'))}/${str(field(q, 'accountId'))}`,
        after: (res) => (method === 'SetQuietHours' ? field(res, 'quietHours') : undefined),
      };
    }
    case 'ReplayDeadLetters':
      return {
        kind: 'dead_letters',
        id: str(field(req, 'group')),
        after: (res) => ({
          offsets: field(req, 'offsets'),
          upToOffset: field(req, 'upToOffset'),
          force: field(req, 'force'),
          replayed: field(res, 'replayed'),
          alreadyReplayedCount: field(res, 'alreadyReplayedCount'),
          missing: field(res, 'missing'),
        }),
      };
    case 'CreateTopUp':
      return { kind: 'balance', id: accountId, after: (res) => res };
    case 'SetCreditLimit': {
      const getter = get('getBalance');
      return {
        kind: 'balance',
        id: accountId,
        before: async () => field(await getter?.({ accountId }), 'balance'),
        after: (res) => field(res, 'balance'),
      };
    }
    case 'CreateToken':
      return {
        kind: 'token',
        id: '',
        after: (res) => ({ ...(field(res, 'token') as Obj), secret: MASK }),
        idFrom: (res) => str(field(field(res, 'token'), 'id')),
      };
    case 'RevokeToken':
    case 'SetTokenExpiry': {
      const id = str(field(req, 'id'));
      const getter = get('readToken');
      return { kind: 'token', id, before: async () => getter?.({ id }), after: (res) => field(res, 'token') };
    }
    default:
      // A write this file does not know yet: the request itself is what it did.
      return { kind: '', id: '', after: () => req };
  }
}

export interface AuditDeps {
  pool: Pool;
  producer: { produce: (...args: never[]) => Promise<void> };
  topic: TopicSpec<AuditEvent>;
  logger: Logger;
}

export interface AuditEntry {
  method: string;
  principal?: Principal;
  peer: string;
  kind: string;
  id: string;
  before?: unknown;
  after?: unknown;
  /** "OK" or a gRPC status name. */
  outcome: string;
  error?: string;
}

export class AuditLog {
  constructor(private readonly deps: AuditDeps) {}

  /** Stores and publishes one event; never throws (failures are logged with the event and counted). */
  async record(e: AuditEntry): Promise<AuditEvent> {
    const event: AuditEvent = {
      eventId: uuidv7(),
      time: new Date(),
      tokenId: e.principal?.tokenId ?? '',
      role: e.principal?.role ?? '',
      tokenName: e.principal?.name ?? '',
      method: e.method,
      resourceKind: e.kind,
      resourceId: e.id,
      beforeJson: json(e.before),
      afterJson: json(e.after),
      peer: e.peer,
      outcome: e.outcome,
      error: e.error ?? '',
      service: 'admin',
    };
    try {
      await this.deps.pool.query(
        `INSERT INTO admin_audit_log (event_id, at, token_id, role, token_name, method, resource_kind,
           resource_id, before_json, after_json, peer, outcome, error, service)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13, $14)`,
        [
          event.eventId,
          event.time,
          event.tokenId,
          event.role,
          event.tokenName,
          event.method,
          event.resourceKind,
          event.resourceId,
          event.beforeJson || null,
          event.afterJson || null,
          event.peer,
          event.outcome,
          event.error,
          event.service,
        ],
      );
    } catch (err) {
      adminMetrics.auditFailures.inc({ sink: 'database' });
      this.deps.logger.error({ err, audit: event }, 'storing an audit event failed');
    }
    try {
      const p = this.deps.producer as unknown as {
        produce(t: TopicSpec<AuditEvent>, v: AuditEvent): Promise<void>;
      };
      await p.produce(this.deps.topic, event);
    } catch (err) {
      adminMetrics.auditFailures.inc({ sink: 'kafka' });
      this.deps.logger.error({ err, audit: event }, 'publishing an audit event failed');
    }
    return event;
  }

  /**
   * Wraps write handler `fn` of `method`: reads the state before (through `handlers`, the API's own read
   * handlers), runs it, records the outcome.
   */
  wrap(
    method: string,
    fn: (req: unknown, call: CallInfo) => Promise<unknown>,
    handlers: Record<string, (req: unknown, call: CallInfo) => Promise<unknown>>,
  ): (req: unknown, call: CallInfo) => Promise<unknown> {
    return async (req, call) => {
      const get = (name: string): Getter | undefined => {
        if (name === 'readToken') return (r) => readToken(this.deps.pool, str(field(r, 'id')));
        const h = handlers[name];
        return h ? (r) => h(r, call) : undefined;
      };
      const t = auditTarget(method, req, get);
      const before = t.before ? await t.before().catch(() => undefined) : undefined;
      const base = { method, principal: call.principal, peer: call.peer, kind: t.kind, before };
      let res: unknown;
      try {
        res = await fn(req, call);
      } catch (err) {
        const e = err as { code?: number; message?: string };
        await this.record({
          ...base,
          id: t.id,
          outcome: typeof e.code === 'number' ? (STATUS_NAMES[e.code] ?? 'UNKNOWN') : 'INTERNAL',
          error: typeof e.code === 'number' ? (e.message ?? '') : 'internal error',
        });
        throw err;
      }
      await this.record({ ...base, id: t.idFrom?.(res) || t.id, after: t.after(res), outcome: 'OK' });
      return res;
    };
  }
}

const STATUS_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

interface AuditRow {
  event_id: string;
  at: Date;
  token_id: string;
  role: string;
  token_name: string;
  method: string;
  resource_kind: string;
  resource_id: string;
  before_json: unknown;
  after_json: unknown;
  peer: string;
  outcome: string;
  error: string;
  service: string;
}

/** ListAuditEvents: newest first, filters combined with AND. */
export async function listAuditEvents(pool: Pool, req: ListAuditEventsRequest) {
  const size = pageSize(req.pageSize);
  const filters = {
    s: req.startTime?.getTime(),
    e: req.endTime?.getTime(),
    t: req.tokenId,
    k: req.resourceKind,
    r: req.resourceId,
    m: req.method,
  };
  const after = decodePageToken(req.pageToken, filters);
  if (after !== undefined && !isUuid(after)) throw invalid('page_token', 'is not a token this API returned');
  const { rows } = await pool.query<AuditRow>(
    `SELECT * FROM admin_audit_log
      WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
        AND ($3 = '' OR token_id = $3) AND ($4 = '' OR resource_kind = $4)
        AND ($5 = '' OR resource_id = $5) AND ($6 = '' OR method = $6)
        AND ($7::uuid IS NULL OR event_id < $7::uuid)
      ORDER BY event_id DESC LIMIT $8`,
    [
      req.startTime ?? null,
      req.endTime ?? null,
      req.tokenId,
      req.resourceKind,
      req.resourceId,
      req.method,
      after ?? null,
      size + 1,
    ],
  );
  const { page, nextPageToken } = pageOf(rows, size, (r) => r.event_id, filters);
  return {
    events: page.map((r): AuditEvent => ({
      eventId: r.event_id,
      time: r.at,
      tokenId: r.token_id,
      role: r.role,
      tokenName: r.token_name,
      method: r.method,
      resourceKind: r.resource_kind,
      resourceId: r.resource_id,
      beforeJson: r.before_json === null ? '' : JSON.stringify(r.before_json),
      afterJson: r.after_json === null ? '' : JSON.stringify(r.after_json),
      peer: r.peer,
      outcome: r.outcome,
      error: r.error,
      service: r.service,
    })),
    nextPageToken,
  };
}
