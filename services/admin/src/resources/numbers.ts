// Hub numbers for inbound messages (0620 hub_numbers): long codes and short codes assigned to accounts for
// a validity period; a short code may be shared by keyword. The inbound stage reads the table (with a short
// cache), so a change applies within its INBOUND_NUMBER_CACHE_MS.
//
// Overlap rule: two assignments of one number whose validity periods overlap must have disjoint keyword
// sets, and at most one of them may have none (the catch-all); otherwise an MO would have two owners.
import {
  HubNumberKind,
  type CreateNumberRequest,
  type DeleteNumberRequest,
  type GetNumberRequest,
  type HubNumber,
  type ListNumbersRequest,
} from '@smshub/contracts';
import type { Pool, PoolClient } from '@smshub/db';
import { read, tx, type AdminContext } from '../context.js';
import { failedPrecondition, invalid, notFound } from '../errors.js';
import { decodePageToken, isUuid, pageOf, pageSize, uuidv7 } from '../validate.js';

interface NumberRow {
  id: string;
  number: string;
  kind: string;
  account_id: string;
  keywords: string[];
  valid_from: Date;
  valid_to: Date | null;
  created_at: Date;
}

const COLUMNS =
  'id, number, kind, account_id::text AS account_id, keywords, valid_from, valid_to, created_at';

export function numberFromRow(r: NumberRow): HubNumber {
  return {
    id: r.id,
    number: r.number,
    kind:
      r.kind === 'short_code'
        ? HubNumberKind.HUB_NUMBER_KIND_SHORT_CODE
        : HubNumberKind.HUB_NUMBER_KIND_LONG_CODE,
    accountId: r.account_id,
    keywords: r.keywords,
    validFrom: r.valid_from,
    ...(r.valid_to ? { validTo: r.valid_to } : {}),
    createdAt: r.created_at,
  };
}

export interface NumberValues {
  number: string;
  kind: 'long_code' | 'short_code';
  accountId: string;
  keywords: string[];
  validFrom: Date;
  validTo: Date | null;
}

/** Validates a number assignment (pure): digits, kind, keywords, dates. */
export function numberValues(n: HubNumber | undefined, now: Date): NumberValues {
  if (!n) throw invalid('number', 'is required');
  const digits = n.number.trim().replace(/^\+/, '');
  let kind: NumberValues['kind'];
  if (n.kind === HubNumberKind.HUB_NUMBER_KIND_LONG_CODE) {
    kind = 'long_code';
    if (!/^[1-9][0-9]{6,14}$/.test(digits))
      throw invalid('number.number', 'a long code is an E.164 number: 7 to 15 digits, "+" optional');
  } else if (n.kind === HubNumberKind.HUB_NUMBER_KIND_SHORT_CODE) {
    kind = 'short_code';
    if (!/^[0-9]{3,8}$/.test(digits)) throw invalid('number.number', 'a short code is 3 to 8 digits');
  } else {
    throw invalid('number.kind', 'must be LONG_CODE or SHORT_CODE');
  }
  if (!isUuid(n.accountId)) throw invalid('number.account_id', 'must be an account id (UUID)');
  const keywords = [...new Set(n.keywords.map((k) => k.trim().toUpperCase()))];
  if (kind === 'long_code' && keywords.length > 0)
    throw invalid('number.keywords', 'only short codes take keywords');
  for (const k of keywords)
    if (!/^[A-Z0-9]{1,20}$/.test(k))
      throw invalid('number.keywords', `${JSON.stringify(k)}: letters and digits, 1 to 20 characters`);
  const validFrom = n.validFrom ?? now;
  const validTo = n.validTo ?? null;
  if (validTo && validTo.getTime() <= validFrom.getTime())
    throw invalid('number.valid_to', 'must be after valid_from');
  return { number: digits, kind, accountId: n.accountId, keywords, validFrom, validTo };
}

/** Whether two assignments of one number could both claim an MO (see the header). */
export function conflicts(a: Pick<NumberValues, 'keywords' | 'validFrom' | 'validTo'>, b: typeof a): boolean {
  const overlap =
    (b.validTo === null || a.validFrom < b.validTo) && (a.validTo === null || b.validFrom < a.validTo);
  if (!overlap) return false;
  if (a.keywords.length === 0 && b.keywords.length === 0) return true;
  return a.keywords.some((k) => b.keywords.includes(k));
}

async function readNumber(db: Pool | PoolClient, id: string): Promise<HubNumber> {
  const { rows } = await db.query<NumberRow>(`SELECT ${COLUMNS} FROM hub_numbers WHERE id = $1`, [id]);
  const row = rows[0];
  if (!row) throw notFound('number', id);
  return numberFromRow(row);
}

export function numberHandlers(ctx: AdminContext) {
  return {
    async createNumber(req: CreateNumberRequest) {
      const v = numberValues(req.number, new Date());
      const stored = await tx(ctx, 'number', async (c) => {
        const acc = await c.query('SELECT 1 FROM accounts WHERE id = $1', [v.accountId]);
        if (acc.rowCount === 0) throw failedPrecondition(`account ${JSON.stringify(v.accountId)} not found`);
        // Serialises assignments of one number, so two concurrent creates cannot both pass the check.
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hub_number:${v.number}`]);
        const { rows: others } = await c.query<NumberRow>(
          `SELECT ${COLUMNS} FROM hub_numbers WHERE number = $1`,
          [v.number],
        );
        const clash = others.find((o) =>
          conflicts(v, { keywords: o.keywords, validFrom: o.valid_from, validTo: o.valid_to }),
        );
        if (clash)
          throw failedPrecondition(
            `number ${v.number} is already assigned to account ${clash.account_id} (${clash.id}) for an overlapping period` +
              (clash.keywords.length > 0 ? ` with keywords ${clash.keywords.join(', ')}` : ''),
          );
        const id = `num_${uuidv7()}`;
        await c.query(
          `INSERT INTO hub_numbers (id, number, kind, account_id, keywords, valid_from, valid_to)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [id, v.number, v.kind, v.accountId, v.keywords, v.validFrom, v.validTo],
        );
        return readNumber(c, id);
      });
      return { number: stored };
    },
    async getNumber(req: GetNumberRequest) {
      return { number: await read(ctx, 'number', (p) => readNumber(p, req.id)) };
    },
    async listNumbers(req: ListNumbersRequest) {
      const size = pageSize(req.pageSize);
      const filters = { accountId: req.accountId, number: req.number };
      const after = decodePageToken(req.pageToken, filters);
      if (req.accountId && !isUuid(req.accountId))
        throw invalid('account_id', 'must be an account id (UUID)');
      const where: string[] = [];
      const args: unknown[] = [];
      if (req.accountId) where.push(`account_id = $${args.push(req.accountId)}`);
      if (req.number) where.push(`number = $${args.push(req.number.replace(/^\+/, ''))}`);
      if (after !== undefined)
        where.push(
          `(number, id) > ($${args.push(after.split('/')[0])}, $${args.push(after.split('/')[1] ?? '')})`,
        );
      const { rows } = await ctx.pool.query<NumberRow>(
        `SELECT ${COLUMNS} FROM hub_numbers ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY number, id LIMIT ${size + 1}`,
        args,
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => `${r.number}/${r.id}`, filters);
      return { numbers: page.map(numberFromRow), nextPageToken };
    },
    async deleteNumber(req: DeleteNumberRequest) {
      await tx(ctx, 'number', async (c) => {
        const r = await c.query('DELETE FROM hub_numbers WHERE id = $1', [req.id]);
        if (r.rowCount === 0) throw notFound('number', req.id);
      });
      return {};
    },
  };
}
