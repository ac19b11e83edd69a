// Quiet hours (quiet_hours, 0330): the windows a destination country may be sent to, optionally per
// account. Every write is announced on config.changes.v1 (RESOURCE_KIND_QUIET_HOURS, resource id
// "<country>/<account_id>"); routing reads the table again (services/routing README "Quiet hours").
import {
  ChangeAction,
  ResourceKind,
  type DeleteQuietHoursRequest,
  type ListQuietHoursRequest,
  type QuietHours,
  type SetQuietHoursRequest,
  type TimeWindow,
} from '@smshub/contracts';
import type { AdminContext } from '../context.js';
import { read, tx } from '../context.js';
import { invalid, notFound } from '../errors.js';
import { isUuid } from '../validate.js';

interface StoredWindow {
  timeZone: string;
  days?: string[];
  ranges?: Array<{ from: string; to: string }>;
}

interface Row {
  country: string;
  account_id: string;
  allowed: StoredWindow[];
  updated_at: Date;
}

const DAYS = new Set(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function country(field: string, v: string): string {
  if (!/^[A-Z]{2}$/.test(v)) throw invalid(field, 'must be an ISO 3166-1 alpha-2 code (GB)');
  return v;
}

function account(field: string, v: string): string {
  if (v !== '' && !isUuid(v)) throw invalid(field, 'must be an account id or empty for every account');
  return v;
}

/** The windows as routing reads them (routing's TimeWindow); refuses what routing could not compile. */
function windows(list: TimeWindow[]): StoredWindow[] {
  if (list.length === 0) throw invalid('quiet_hours.allowed', 'needs at least one window');
  return list.map((w, i) => {
    const f = `quiet_hours.allowed[${i}]`;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: w.timeZone });
    } catch {
      throw invalid(`${f}.time_zone`, 'must be an IANA time zone ("Europe/London")');
    }
    if (w.timeZone === '') throw invalid(`${f}.time_zone`, 'is required');
    for (const d of w.days)
      if (!DAYS.has(d)) throw invalid(`${f}.days`, `unknown day ${JSON.stringify(d)} (mon ... sun)`);
    for (const r of w.ranges)
      if (!HHMM.test(r.from) || !HHMM.test(r.to)) throw invalid(`${f}.ranges`, 'from and to must be HH:MM');
    return {
      timeZone: w.timeZone,
      ...(w.days.length > 0 ? { days: w.days } : {}),
      ...(w.ranges.length > 0 ? { ranges: w.ranges.map((r) => ({ from: r.from, to: r.to })) } : {}),
    };
  });
}

function fromRow(r: Row): QuietHours {
  return {
    country: r.country,
    accountId: r.account_id,
    allowed: r.allowed.map((w) => ({
      timeZone: w.timeZone,
      days: w.days ?? [],
      ranges: (w.ranges ?? []).map((x) => ({ from: x.from, to: x.to })),
    })),
    updateTime: r.updated_at,
  };
}

export function quietHoursHandlers(ctx: AdminContext) {
  async function announce(c: string, a: string, action: ChangeAction): Promise<void> {
    await ctx.publisher.change({
      kind: ResourceKind.RESOURCE_KIND_QUIET_HOURS,
      action,
      resourceId: `${c}/${a}`,
      revision: BigInt(Date.now()),
    });
  }

  return {
    async setQuietHours(req: SetQuietHoursRequest) {
      const q = req.quietHours;
      if (!q) throw invalid('quiet_hours', 'is required');
      const c = country('quiet_hours.country', q.country);
      const a = account('quiet_hours.account_id', q.accountId);
      const allowed = windows(q.allowed);
      const { row, created } = await tx(ctx, 'quiet_hours', async (db) => {
        if (a !== '') {
          const found = await db.query(`SELECT 1 FROM accounts WHERE id = $1`, [a]);
          if (found.rowCount === 0) throw notFound('account', a);
        }
        const { rows } = await db.query<Row & { created: boolean }>(
          `INSERT INTO quiet_hours (country, account_id, allowed) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (country, account_id) DO UPDATE SET allowed = EXCLUDED.allowed, updated_at = now()
           RETURNING country, account_id, allowed, updated_at, (xmax = 0) AS created`,
          [c, a, JSON.stringify(allowed)],
        );
        return { row: rows[0]!, created: rows[0]!.created };
      });
      await announce(c, a, created ? ChangeAction.CHANGE_ACTION_CREATED : ChangeAction.CHANGE_ACTION_UPDATED);
      return { quietHours: fromRow(row) };
    },

    async listQuietHours(req: ListQuietHoursRequest) {
      const c = req.country === '' ? '' : country('country', req.country);
      const a = account('account_id', req.accountId);
      const rows = await read(ctx, 'quiet_hours', async (p) => {
        const r = await p.query<Row>(
          `SELECT country, account_id, allowed, updated_at FROM quiet_hours
            WHERE ($1 = '' OR country = $1) AND ($2 = '' OR account_id IN ($2, ''))
            ORDER BY country, account_id`,
          [c, a],
        );
        return r.rows;
      });
      return { quietHours: rows.map(fromRow) };
    },

    async deleteQuietHours(req: DeleteQuietHoursRequest) {
      const c = country('country', req.country);
      const a = account('account_id', req.accountId);
      const r = await ctx.pool.query(`DELETE FROM quiet_hours WHERE country = $1 AND account_id = $2`, [
        c,
        a,
      ]);
      if (r.rowCount === 0) throw notFound('quiet hours', `${c}/${a}`);
      await announce(c, a, ChangeAction.CHANGE_ACTION_DELETED);
      return {};
    },
  };
}
