// Opt-out lists (optouts, 0320) and their keyword sets (optout_keyword_sets, 0624).
//
// Every change is announced on config.changes.v1 as RESOURCE_KIND_OPT_OUT with the entry as snapshot
// (removals too), which routing applies to its in-memory lists; an import announces a RELOAD whose
// resource id is the account (routing reads that account's list again). Keyword sets are read by
// services/inbound (cached for seconds), announced as RESOURCE_KIND_OPT_OUT_KEYWORDS for other readers.
//
// Numbers: msisdn is E.164 ("+447700900123" or its digits), stored as digits; scope_number is the hub
// number's digits (a long number or a short code), "" for account-wide. Imports are all or nothing: every
// line is checked first, and any bad line refuses the file with the line numbers (up to 20 listed).
import {
  ChangeAction,
  OptOutScope,
  OptOutSource,
  ResourceKind,
  type AddOptOutRequest,
  type DeleteOptOutKeywordsRequest,
  type ExportOptOutsRequest,
  type ImportOptOutsRequest,
  type ListOptOutKeywordsRequest,
  type ListOptOutsRequest,
  type OptOut,
  type OptOutKeywordSet,
  type RemoveOptOutRequest,
  type SetOptOutKeywordsRequest,
} from '@smshub/contracts';
import type { CallInfo } from '@smshub/auth';
import type { AdminContext } from '../context.js';
import { read, tx } from '../context.js';
import { parseCsv, parseTime } from '../csv.js';
import { invalid, notFound } from '../errors.js';
import { decodePageToken, isUuid, pageOf, pageSize } from '../validate.js';

const MAX_CSV_BYTES = 32 * 1024 * 1024;
const MAX_LISTED_ERRORS = 20;

/** The built-in keywords (services/inbound/src/optout/match.ts DEFAULT_KEYWORDS: keep the two equal). */
export const DEFAULT_KEYWORD_SET: OptOutKeywordSet = {
  accountId: '',
  country: '',
  language: 'en',
  stopKeywords: ['STOP', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'],
  stopAllKeywords: ['STOPALL'],
  startKeywords: ['START', 'UNSTOP'],
  helpKeywords: ['HELP'],
  helpReply: 'Reply STOP to stop messages from this number, START to receive them again.',
  stopReply: '',
  startReply: '',
  scope: OptOutScope.OPT_OUT_SCOPE_NUMBER,
  updateTime: undefined,
};

export function subscriber(field: string, v: string): string {
  const d = v.trim().replace(/^\+/, '');
  if (!/^[1-9][0-9]{5,14}$/.test(d))
    throw invalid(field, 'must be an E.164 number ("+447700900123", 6-15 digits)');
  return d;
}

export function scopeNumber(field: string, v: string): string {
  const d = v.trim().replace(/^\+/, '');
  if (!/^[0-9]{0,15}$/.test(d))
    throw invalid(field, 'must be the hub number (digits, or a short code), or empty for account-wide');
  return d;
}

function accountId(field: string, v: string): string {
  if (!isUuid(v)) throw invalid(field, 'must be an account id (UUID)');
  return v;
}

interface Row {
  account_id: string;
  msisdn: string;
  scope_number: string;
  source: string;
  keyword: string;
  created_at: Date;
  actor: string;
}

const COLUMNS = `account_id::text AS account_id, msisdn, scope_number, source, keyword, created_at, actor`;
const SOURCES: Record<string, OptOutSource> = {
  keyword: OptOutSource.OPT_OUT_SOURCE_KEYWORD,
  import: OptOutSource.OPT_OUT_SOURCE_IMPORT,
  api: OptOutSource.OPT_OUT_SOURCE_API,
};

export function optOutFromRow(r: Row): OptOut {
  return {
    accountId: r.account_id,
    msisdn: r.msisdn,
    scopeNumber: r.scope_number,
    source: SOURCES[r.source] ?? OptOutSource.OPT_OUT_SOURCE_UNSPECIFIED,
    keyword: r.keyword,
    createTime: r.created_at,
    actor: r.actor,
  };
}

const sourceName = (s: OptOutSource) => Object.entries(SOURCES).find(([, v]) => v === s)?.[0] ?? '';

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export const EXPORT_HEADER = 'msisdn,scope_number,source,keyword,created_at,actor';

/** The CSV export of `rows` (ImportOptOuts reads it back). */
export function exportCsv(rows: readonly OptOut[]): string {
  const lines = rows.map((o) =>
    [
      `+${o.msisdn}`,
      o.scopeNumber,
      sourceName(o.source),
      o.keyword,
      o.createTime?.toISOString() ?? '',
      o.actor,
    ]
      .map(csvField)
      .join(','),
  );
  return [EXPORT_HEADER, ...lines].join('\n') + '\n';
}

export interface ImportLine {
  line: number;
  msisdn: string;
  scopeNumber: string;
  keyword: string;
  createdAt?: Date;
}

/** Every line of an import checked; throws INVALID_ARGUMENT naming the bad lines. Pure. */
export function importLines(csv: Uint8Array): ImportLine[] {
  if (csv.length === 0) throw invalid('csv', 'is required');
  if (csv.length > MAX_CSV_BYTES)
    throw invalid('csv', `is larger than ${MAX_CSV_BYTES} bytes; split the file`);
  const file = parseCsv(csv, ['msisdn'], ['scope_number', 'keyword', 'created_at', 'source', 'actor']);
  const errors = [...file.errors];
  const out: ImportLine[] = [];
  const seen = new Map<string, number>();
  for (const r of file.records) {
    try {
      if (r.width > file.header.length)
        throw new Error(`has ${r.width} fields, the header ${file.header.length}`);
      const msisdn = subscriber('msisdn', r.values['msisdn'] ?? '');
      const scope = scopeNumber('scope_number', r.values['scope_number'] ?? '');
      const created = r.values['created_at'] ?? '';
      const at = created === '' ? undefined : parseTime(created);
      if (created !== '' && !at) throw new Error('created_at: must be an RFC 3339 time');
      const key = `${msisdn}/${scope}`;
      const first = seen.get(key);
      if (first !== undefined) throw new Error(`+${msisdn} (scope "${scope}") is already on line ${first}`);
      seen.set(key, r.line);
      out.push({
        line: r.line,
        msisdn,
        scopeNumber: scope,
        keyword: (r.values['keyword'] ?? '').toUpperCase().slice(0, 64),
        ...(at ? { createdAt: at } : {}),
      });
    } catch (err) {
      errors.push({ line: r.line, message: (err as Error).message });
    }
  }
  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line);
    const listed = errors.slice(0, MAX_LISTED_ERRORS).map((e) => `line ${e.line}: ${e.message}`);
    if (errors.length > MAX_LISTED_ERRORS) listed.push(`${errors.length - MAX_LISTED_ERRORS} more`);
    throw invalid('csv', `nothing imported, ${errors.length} bad line(s): ${listed.join('; ')}`);
  }
  return out;
}

interface KeywordRow {
  account_id: string;
  country: string;
  language: string;
  stop_keywords: string[];
  stop_all_keywords: string[];
  start_keywords: string[];
  help_keywords: string[];
  help_reply: string;
  stop_reply: string;
  start_reply: string;
  scope: string;
  updated_at: Date;
}

function keywordSetFromRow(r: KeywordRow): OptOutKeywordSet {
  return {
    accountId: r.account_id,
    country: r.country,
    language: r.language,
    stopKeywords: r.stop_keywords,
    stopAllKeywords: r.stop_all_keywords,
    startKeywords: r.start_keywords,
    helpKeywords: r.help_keywords,
    helpReply: r.help_reply,
    stopReply: r.stop_reply,
    startReply: r.start_reply,
    scope: r.scope === 'account' ? OptOutScope.OPT_OUT_SCOPE_ACCOUNT : OptOutScope.OPT_OUT_SCOPE_NUMBER,
    updateTime: r.updated_at,
  };
}

function keywords(field: string, list: string[]): string[] {
  const out: string[] = [];
  for (const [i, k] of list.entries()) {
    const w = k.trim().normalize('NFKC').toUpperCase();
    if (!/^[\p{L}\p{N}]{1,32}$/u.test(w))
      throw invalid(`${field}[${i}]`, 'must be one word of 1-32 letters or digits');
    if (!out.includes(w)) out.push(w);
  }
  return out;
}

function reply(field: string, v: string): string {
  if (v.length > 640) throw invalid(field, 'must be at most 640 characters');
  return v;
}

function language(v: string): string {
  if (!/^([a-z]{2,3}(-[A-Za-z0-9]{2,8})*)?$/.test(v))
    throw invalid('keyword_set.language', 'must be a language tag ("en", "fr", "pt-BR") or empty');
  return v;
}

function country(v: string): string {
  if (!/^([A-Z]{2})?$/.test(v))
    throw invalid('keyword_set.country', 'must be an ISO 3166-1 alpha-2 code (GB) or empty for any');
  return v;
}

const actorOf = (call: CallInfo | undefined, ctx: AdminContext) => call?.principal?.name || ctx.actor;

export function optOutHandlers(ctx: AdminContext) {
  async function announce(o: OptOut, action: ChangeAction): Promise<void> {
    await ctx.publisher.change({
      kind: ResourceKind.RESOURCE_KIND_OPT_OUT,
      action,
      resourceId: `${o.accountId}/${o.msisdn}/${o.scopeNumber}`,
      revision: BigInt(Date.now()),
      snapshot: { $case: 'optOut', value: o },
    });
  }

  return {
    async addOptOut(req: AddOptOutRequest, call?: CallInfo) {
      const o = req.optOut;
      if (!o) throw invalid('opt_out', 'is required');
      const account = accountId('opt_out.account_id', o.accountId);
      const msisdn = subscriber('opt_out.msisdn', o.msisdn);
      const scope = scopeNumber('opt_out.scope_number', o.scopeNumber);
      const { row, added } = await tx(ctx, 'opt_out', async (c) => {
        const ins = await c.query<Row>(
          `INSERT INTO optouts (account_id, msisdn, scope_number, source, keyword, actor)
           VALUES ($1, $2, $3, 'api', '', $4) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
          [account, msisdn, scope, actorOf(call, ctx)],
        );
        if (ins.rows[0]) return { row: ins.rows[0], added: true };
        const { rows } = await c.query<Row>(
          `SELECT ${COLUMNS} FROM optouts WHERE account_id = $1 AND msisdn = $2 AND scope_number = $3`,
          [account, msisdn, scope],
        );
        return { row: rows[0]!, added: false };
      });
      const out = optOutFromRow(row);
      await announce(out, ChangeAction.CHANGE_ACTION_CREATED);
      return { optOut: out, added };
    },

    async removeOptOut(req: RemoveOptOutRequest) {
      const account = accountId('account_id', req.accountId);
      const msisdn = subscriber('msisdn', req.msisdn);
      const scope = req.allScopes ? undefined : scopeNumber('scope_number', req.scopeNumber);
      const rows = await tx(ctx, 'opt_out', async (c) => {
        const r = await c.query<Row>(
          `DELETE FROM optouts WHERE account_id = $1 AND msisdn = $2 AND ($3::text IS NULL OR scope_number = $3)
           RETURNING ${COLUMNS}`,
          [account, msisdn, scope ?? null],
        );
        return r.rows;
      });
      for (const r of rows) await announce(optOutFromRow(r), ChangeAction.CHANGE_ACTION_DELETED);
      return { removed: rows.length };
    },

    async listOptOuts(req: ListOptOutsRequest) {
      const account = accountId('account_id', req.accountId);
      const msisdn = req.msisdn === '' ? '' : subscriber('msisdn', req.msisdn);
      const size = pageSize(req.pageSize);
      const filters = { a: account, m: msisdn };
      const after = decodePageToken(req.pageToken, filters);
      const [am, as] = after === undefined ? [null, null] : (JSON.parse(after) as [string, string]);
      const rows = await read(ctx, 'opt_out', async (p) => {
        const r = await p.query<Row>(
          `SELECT ${COLUMNS} FROM optouts WHERE account_id = $1 AND ($2 = '' OR msisdn = $2)
             AND ($3::text IS NULL OR (msisdn, scope_number) > ($3, $4))
           ORDER BY msisdn, scope_number LIMIT $5`,
          [account, msisdn, am, as ?? '', size + 1],
        );
        return r.rows;
      });
      const { page, nextPageToken } = pageOf(
        rows,
        size,
        (r) => JSON.stringify([r.msisdn, r.scope_number]),
        filters,
      );
      return { optOuts: page.map(optOutFromRow), nextPageToken };
    },

    async importOptOuts(req: ImportOptOutsRequest, call?: CallInfo) {
      const account = accountId('account_id', req.accountId);
      const lines = importLines(req.csv);
      const actor = actorOf(call, ctx);
      const exists = await ctx.pool.query(`SELECT 1 FROM accounts WHERE id = $1`, [account]);
      if (exists.rowCount === 0) throw notFound('account', account);
      const col = <K extends keyof ImportLine>(k: K) => lines.map((l) => l[k] ?? null);
      const counts = await tx(ctx, 'opt_out import', async (c) => {
        const existing = await c.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM optouts o
             JOIN unnest($2::text[], $3::text[]) AS f(msisdn, scope_number)
               ON o.msisdn = f.msisdn AND o.scope_number = f.scope_number
            WHERE o.account_id = $1`,
          [account, col('msisdn'), col('scopeNumber')],
        );
        const unchanged = Number(existing.rows[0]!.n);
        let removed = 0;
        if (req.replaceAll) {
          const d = await c.query(
            `DELETE FROM optouts o WHERE o.account_id = $1 AND NOT EXISTS (
               SELECT 1 FROM unnest($2::text[], $3::text[]) AS f(msisdn, scope_number)
                WHERE f.msisdn = o.msisdn AND f.scope_number = o.scope_number)`,
            [account, col('msisdn'), col('scopeNumber')],
          );
          removed = d.rowCount ?? 0;
        }
        const ins = await c.query(
          `INSERT INTO optouts (account_id, msisdn, scope_number, source, keyword, created_at, actor)
           SELECT $1, f.msisdn, f.scope_number, 'import', f.keyword, coalesce(f.created_at, now()), $6
             FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[])
                  AS f(msisdn, scope_number, keyword, created_at)
           ON CONFLICT DO NOTHING`,
          [account, col('msisdn'), col('scopeNumber'), col('keyword'), col('createdAt'), actor],
        );
        const out = { lines: lines.length, added: ins.rowCount ?? 0, unchanged, removed };
        if (req.dryRun) throw new DryRun(out);
        return out;
      }).catch((err: unknown) => {
        if (err instanceof DryRun) return err.counts;
        throw err;
      });
      if (!req.dryRun)
        await ctx.publisher.change({
          kind: ResourceKind.RESOURCE_KIND_OPT_OUT,
          action: ChangeAction.CHANGE_ACTION_RELOAD,
          resourceId: account,
          revision: BigInt(Date.now()),
        });
      return counts;
    },

    async exportOptOuts(req: ExportOptOutsRequest) {
      const account = accountId('account_id', req.accountId);
      const { rows } = await ctx.pool.query<Row>(
        `SELECT ${COLUMNS} FROM optouts WHERE account_id = $1 ORDER BY msisdn, scope_number`,
        [account],
      );
      return { csv: Buffer.from(exportCsv(rows.map(optOutFromRow)), 'utf8'), count: rows.length };
    },

    async setOptOutKeywords(req: SetOptOutKeywordsRequest) {
      const s = req.keywordSet;
      if (!s) throw invalid('keyword_set', 'is required');
      if (s.accountId !== '') accountId('keyword_set.account_id', s.accountId);
      const v = {
        account: s.accountId,
        country: country(s.country),
        language: language(s.language),
        stop: keywords('keyword_set.stop_keywords', s.stopKeywords),
        stopAll: keywords('keyword_set.stop_all_keywords', s.stopAllKeywords),
        start: keywords('keyword_set.start_keywords', s.startKeywords),
        help: keywords('keyword_set.help_keywords', s.helpKeywords),
        helpReply: reply('keyword_set.help_reply', s.helpReply),
        stopReply: reply('keyword_set.stop_reply', s.stopReply),
        startReply: reply('keyword_set.start_reply', s.startReply),
        scope: s.scope === OptOutScope.OPT_OUT_SCOPE_ACCOUNT ? 'account' : 'number',
      };
      const row = await tx(ctx, 'opt_out_keyword_set', async (c) => {
        if (v.account !== '') {
          const a = await c.query(`SELECT 1 FROM accounts WHERE id = $1`, [v.account]);
          if (a.rowCount === 0) throw notFound('account', v.account);
        }
        const { rows } = await c.query<KeywordRow>(
          `INSERT INTO optout_keyword_sets AS k (account_id, country, language, stop_keywords, stop_all_keywords,
             start_keywords, help_keywords, help_reply, stop_reply, start_reply, scope)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (account_id, country, language) DO UPDATE SET stop_keywords = EXCLUDED.stop_keywords,
             stop_all_keywords = EXCLUDED.stop_all_keywords, start_keywords = EXCLUDED.start_keywords,
             help_keywords = EXCLUDED.help_keywords, help_reply = EXCLUDED.help_reply,
             stop_reply = EXCLUDED.stop_reply, start_reply = EXCLUDED.start_reply, scope = EXCLUDED.scope,
             updated_at = now()
           RETURNING *`,
          [
            v.account,
            v.country,
            v.language,
            v.stop,
            v.stopAll,
            v.start,
            v.help,
            v.helpReply,
            v.stopReply,
            v.startReply,
            v.scope,
          ],
        );
        return rows[0]!;
      });
      const out = keywordSetFromRow(row);
      await ctx.publisher.change({
        kind: ResourceKind.RESOURCE_KIND_OPT_OUT_KEYWORDS,
        action: ChangeAction.CHANGE_ACTION_UPDATED,
        resourceId: `${out.accountId}/${out.country}/${out.language}`,
        revision: BigInt(row.updated_at.getTime()),
        snapshot: { $case: 'optOutKeywordSet', value: out },
      });
      return { keywordSet: out };
    },

    async listOptOutKeywords(req: ListOptOutKeywordsRequest) {
      const { rows } = await ctx.pool.query<KeywordRow>(
        `SELECT * FROM optout_keyword_sets WHERE ($1 = '' OR account_id IN ($1, ''))
          ORDER BY account_id, country, language`,
        [req.accountId],
      );
      return { keywordSets: rows.map(keywordSetFromRow), defaults: DEFAULT_KEYWORD_SET };
    },

    async deleteOptOutKeywords(req: DeleteOptOutKeywordsRequest) {
      const r = await ctx.pool.query(
        `DELETE FROM optout_keyword_sets WHERE account_id = $1 AND country = $2 AND language = $3`,
        [req.accountId, req.country, req.language],
      );
      if (r.rowCount === 0) throw notFound('keyword set', `${req.accountId}/${req.country}/${req.language}`);
      await ctx.publisher.change({
        kind: ResourceKind.RESOURCE_KIND_OPT_OUT_KEYWORDS,
        action: ChangeAction.CHANGE_ACTION_DELETED,
        resourceId: `${req.accountId}/${req.country}/${req.language}`,
        revision: BigInt(Date.now()),
      });
      return {};
    },
  };
}

class DryRun extends Error {
  constructor(readonly counts: { lines: number; added: number; unchanged: number; removed: number }) {
    super('dry run');
  }
}
