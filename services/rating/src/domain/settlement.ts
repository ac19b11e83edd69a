// Settlement: totals per customer (sell side) or per supplier (buy side) per period, per destination
// (country + MCC-MNC) and currency; CSV export; reconciliation of CDR totals against rated-topic totals.
//
// - Periods are UTC calendar days ("2026-11-22") or months ("2026-11"), by the record's billedAt (the
//   time of the event that produced it), so a message belongs to exactly one period.
// - Only charged sides count (a side with `charged: false`, e.g. a firewall rejection, is not billed to
//   anyone). Amounts are summed in minor units per currency; currencies are never mixed in one row.
// - CSV: RFC 4180 (CRLF line ends, a header row, fields containing comma, quote, CR or LF quoted with
//   inner quotes doubled); amounts as decimal strings with the currency's minor-unit exponent.

import { formatMinor } from './money.js';
import type { RatedRecord } from './types.js';

export type Period = 'day' | 'month';
export type Party = 'customer' | 'supplier';

export interface SettlementRow {
  period: string;
  partyId: string;
  country: string;
  mccMnc: string;
  currency: string;
  messages: number;
  segments: number;
  amountMinor: bigint;
}

export function periodKey(t: number, period: Period): string {
  const iso = new Date(t).toISOString(); // always UTC
  return period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7);
}

function rowKey(r: Pick<SettlementRow, 'period' | 'partyId' | 'country' | 'mccMnc' | 'currency'>): string {
  return [r.period, r.partyId, r.country, r.mccMnc, r.currency].join('\u0000');
}

function compareRows(a: SettlementRow, b: SettlementRow): number {
  const ka = rowKey(a);
  const kb = rowKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function settle(
  records: Iterable<RatedRecord>,
  opts: { party: Party; period: Period },
): SettlementRow[] {
  const rows = new Map<string, SettlementRow>();
  for (const rec of records) {
    const side = opts.party === 'customer' ? rec.sell : rec.buy;
    const partyId = opts.party === 'customer' ? rec.accountId : rec.connectorId;
    if (!side.charged || partyId === undefined) continue;
    const row: SettlementRow = {
      period: periodKey(rec.billedAt, opts.period),
      partyId,
      country: rec.country ?? '',
      mccMnc: rec.mccMnc ?? '',
      currency: side.currency,
      messages: 0,
      segments: 0,
      amountMinor: 0n,
    };
    const key = rowKey(row);
    const acc = rows.get(key) ?? row;
    acc.messages += 1;
    acc.segments += rec.segments;
    acc.amountMinor += side.amountMinor;
    rows.set(key, acc);
  }
  return [...rows.values()].sort(compareRows);
}

export const CSV_HEADER = [
  'period',
  'party_id',
  'country',
  'mcc_mnc',
  'currency',
  'messages',
  'segments',
  'amount',
] as const;

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function toCsv(rows: readonly SettlementRow[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.period,
        r.partyId,
        r.country,
        r.mccMnc,
        r.currency,
        String(r.messages),
        String(r.segments),
        formatMinor(r.amountMinor, r.currency),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export interface Mismatch {
  period: string;
  partyId: string;
  country: string;
  mccMnc: string;
  currency: string;
  /** 'missing-in-cdr': the topic has the row, the CDR store not; 'missing-in-topic': the reverse. */
  kind: 'missing-in-cdr' | 'missing-in-topic' | 'different';
  /** Which figures differ (for 'different'). */
  fields: ('messages' | 'segments' | 'amount')[];
  cdr?: SettlementRow;
  topic?: SettlementRow;
}

/**
 * Compare settlement totals computed from the CDR store with totals computed from the rated topic (same
 * party and period granularity). Returns every key whose rows differ, sorted; empty when they agree.
 */
export function reconcile(cdr: readonly SettlementRow[], topic: readonly SettlementRow[]): Mismatch[] {
  const byKey = new Map<string, { cdr?: SettlementRow; topic?: SettlementRow }>();
  for (const r of cdr) byKey.set(rowKey(r), { ...byKey.get(rowKey(r)), cdr: r });
  for (const r of topic) byKey.set(rowKey(r), { ...byKey.get(rowKey(r)), topic: r });
  const out: Mismatch[] = [];
  for (const [, pair] of [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const ref = pair.cdr ?? pair.topic;
    if (ref === undefined) continue;
    const base = {
      period: ref.period,
      partyId: ref.partyId,
      country: ref.country,
      mccMnc: ref.mccMnc,
      currency: ref.currency,
    };
    if (pair.cdr === undefined) {
      out.push({ ...base, kind: 'missing-in-cdr', fields: [], topic: pair.topic });
      continue;
    }
    if (pair.topic === undefined) {
      out.push({ ...base, kind: 'missing-in-topic', fields: [], cdr: pair.cdr });
      continue;
    }
    const fields: Mismatch['fields'] = [];
    if (pair.cdr.messages !== pair.topic.messages) fields.push('messages');
    if (pair.cdr.segments !== pair.topic.segments) fields.push('segments');
    if (pair.cdr.amountMinor !== pair.topic.amountMinor) fields.push('amount');
    if (fields.length > 0) out.push({ ...base, kind: 'different', fields, cdr: pair.cdr, topic: pair.topic });
  }
  return out;
}
