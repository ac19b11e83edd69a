// Settlement figures by SQL aggregation over rating_cdrs. Periods are UTC days or months of rated_at.
// Customer rows sum the sell side of CDRs whose sell side is charged, supplier rows the buy side of CDRs
// whose buy side is charged (a MISSING_RATE side counts its message with a zero amount).

import type { Pool } from 'pg';
import { periodKey, type Party, type Period, type SettlementRow } from './domain/settlement.js';
import { store } from './pg-errors.js';

export interface TotalsQuery {
  party: Party;
  /** Account id (customer) or supplier id; empty = all. */
  partyId: string;
  period: Period;
  start: Date;
  end: Date;
  byDestination: boolean;
}

export interface TotalRow extends SettlementRow {
  periodStart: Date;
  /** Customer rows only: sum of known margins, in the row currency. */
  marginMinor?: bigint;
}

interface SqlRow {
  party_id: string;
  period_start: Date;
  country: string;
  mcc_mnc: string;
  currency: string;
  messages: string;
  segments: string;
  amount: string;
  margin: string | null;
}

function totalsSql(q: TotalsQuery): { text: string; values: unknown[] } {
  const customer = q.party === 'customer';
  const party = customer ? 'account_id' : 'supplier_id';
  const side = customer ? 'sell' : 'buy';
  const dest = q.byDestination ? 'country, mcc_mnc' : `''::text AS country, ''::text AS mcc_mnc`;
  const destGroup = q.byDestination ? ', country, mcc_mnc' : '';
  const values: unknown[] = [q.period, q.start, q.end];
  let filter = '';
  if (q.partyId !== '') {
    values.push(q.partyId);
    filter = `AND ${party} = $4`;
  }
  return {
    text: `SELECT ${party} AS party_id,
                  date_trunc($1, rated_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period_start,
                  ${dest}, ${side}_currency AS currency,
                  count(*)::text AS messages, sum(segments)::text AS segments, sum(${side}_minor)::text AS amount,
                  ${customer ? 'sum(margin_minor)::text' : 'NULL::text'} AS margin
             FROM rating_cdrs
            WHERE rated_at >= $2 AND rated_at < $3 AND ${side}_charged AND ${party} <> '' ${filter}
            GROUP BY 1, 2${destGroup}, ${side}_currency
            ORDER BY 1, 2${destGroup}, ${side}_currency`,
    values,
  };
}

/** Totals in order (party, period, destination, currency); `limit`/`offset` page through them. */
export async function queryTotals(
  pool: Pool,
  q: TotalsQuery,
  page: { limit: number; offset: number } = { limit: 1_000_000, offset: 0 },
): Promise<TotalRow[]> {
  const { text, values } = totalsSql(q);
  const res = await store('querying settlement totals', () =>
    pool.query<SqlRow>(`${text} LIMIT ${page.limit} OFFSET ${page.offset}`, values),
  );
  return res.rows.map((r) => {
    const row: TotalRow = {
      period: periodKey(r.period_start.getTime(), q.period),
      periodStart: r.period_start,
      partyId: r.party_id,
      country: r.country,
      mccMnc: r.mcc_mnc,
      currency: r.currency,
      messages: Number(r.messages),
      segments: Number(r.segments),
      amountMinor: BigInt(r.amount),
    };
    if (r.margin !== null) row.marginMinor = BigInt(r.margin);
    return row;
  });
}

export interface CdrExportRow {
  hubMessageId: string;
  accountId: string;
  supplierId: string;
  connectorId: string;
  country: string;
  mccMnc: string;
  segments: number;
  status: string;
  sellMinor: bigint;
  sellCurrency: string;
  buyMinor: bigint;
  buyCurrency: string;
  marginMinor: bigint | null;
  submittedAt: Date;
  ratedAt: Date;
}

/** Per-message rows of the query's party and range, in (rated_at, id) order, `limit` after the cursor. */
export async function queryCdrPage(
  pool: Pool,
  q: Omit<TotalsQuery, 'period' | 'byDestination'>,
  after: { ratedAt: Date; id: string } | undefined,
  limit: number,
): Promise<CdrExportRow[]> {
  const party = q.party === 'customer' ? 'account_id' : 'supplier_id';
  const values: unknown[] = [q.start, q.end, limit];
  const conds = ['rated_at >= $1', 'rated_at < $2'];
  if (q.partyId !== '') {
    values.push(q.partyId);
    conds.push(`${party} = $${values.length}`);
  }
  if (after) {
    values.push(after.ratedAt, after.id);
    conds.push(`(rated_at, hub_message_id) > ($${values.length - 1}, $${values.length}::uuid)`);
  }
  const res = await store('exporting CDRs', () =>
    pool.query<{
      id: string;
      account_id: string;
      supplier_id: string;
      connector_id: string;
      country: string;
      mcc_mnc: string;
      segments: number;
      status: string;
      sell_minor: string;
      sell_currency: string;
      buy_minor: string;
      buy_currency: string;
      margin_minor: string | null;
      submitted_at: Date;
      rated_at: Date;
    }>(
      `SELECT hub_message_id::text AS id, account_id, supplier_id, connector_id, country, mcc_mnc, segments, status,
              sell_minor::text, sell_currency, buy_minor::text, buy_currency, margin_minor::text, submitted_at, rated_at
         FROM rating_cdrs WHERE ${conds.join(' AND ')}
        ORDER BY rated_at, hub_message_id LIMIT $3`,
      values,
    ),
  );
  return res.rows.map((r) => ({
    hubMessageId: r.id,
    accountId: r.account_id,
    supplierId: r.supplier_id,
    connectorId: r.connector_id,
    country: r.country,
    mccMnc: r.mcc_mnc,
    segments: r.segments,
    status: r.status,
    sellMinor: BigInt(r.sell_minor),
    sellCurrency: r.sell_currency,
    buyMinor: BigInt(r.buy_minor),
    buyCurrency: r.buy_currency,
    marginMinor: r.margin_minor === null ? null : BigInt(r.margin_minor),
    submittedAt: r.submitted_at,
    ratedAt: r.rated_at,
  }));
}

/** One reconciliation bucket: every record (any status) of the period, network and buy currency. */
export interface RecordCount {
  periodStart: number;
  mccMnc: string;
  currency: string;
  messages: number;
  amountMinor: bigint;
}

export function recordCountKey(r: Pick<RecordCount, 'periodStart' | 'mccMnc' | 'currency'>): string {
  return `${r.periodStart}\u0000${r.mccMnc}\u0000${r.currency}`;
}

/**
 * Counts of ALL CDRs (one per message, whatever the status) of a supplier ('' = every message) per
 * period, MCC-MNC and buy currency, with the buy amounts: what the rated topic must hold for the period.
 */
export async function countCdrs(
  pool: Pool,
  q: { supplierId: string; period: Period; start: Date; end: Date },
): Promise<RecordCount[]> {
  const values: unknown[] = [q.period, q.start, q.end];
  let filter = '';
  if (q.supplierId !== '') {
    values.push(q.supplierId);
    filter = 'AND supplier_id = $4';
  }
  const res = await store('counting CDRs', () =>
    pool.query<{ period_start: Date; mcc_mnc: string; currency: string; messages: string; amount: string }>(
      `SELECT date_trunc($1, rated_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period_start, mcc_mnc,
              buy_currency AS currency, count(*)::text AS messages, sum(buy_minor)::text AS amount
         FROM rating_cdrs WHERE rated_at >= $2 AND rated_at < $3 ${filter}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      values,
    ),
  );
  return res.rows.map((r) => ({
    periodStart: r.period_start.getTime(),
    mccMnc: r.mcc_mnc,
    currency: r.currency,
    messages: Number(r.messages),
    amountMinor: BigInt(r.amount),
  }));
}
