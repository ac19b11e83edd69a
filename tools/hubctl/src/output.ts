// Output: `--output json` prints the proto3 JSON mapping of the messages (stable and machine-readable:
// lowerCamelCase field names, 64-bit integers and Money.minorUnits as strings, enums by full name,
// timestamps in RFC 3339, fields at their default value omitted); `--output table` prints tables for people.
import Table from 'cli-table3';
import { formatDecimal } from './values.js';

/** csv: only commands that print one table of figures (stats) offer it. */
export type OutputFormat = 'table' | 'json' | 'csv';

/** Stable JSON text (2-space indent, trailing newline). */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** lowerCamelCase -> snake_case (proto field names, as used by flags and update masks). */
export function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const ENUM_PREFIXES = [
  'ACCOUNT_STATE_',
  'BILLING_MODE_',
  'TRAFFIC_TYPE_',
  'MESSAGE_ID_FORMAT_',
  'FIREWALL_ACTION_',
  'RATE_DIRECTION_',
  'ROUTE_STRATEGY_',
  'ROUTING_STRATEGY_',
  'DELIVERY_STATUS_',
  'DISPATCH_OUTCOME_',
  'MESSAGE_STATE_',
  'RATED_STATUS_',
  'SETTLEMENT_PARTY_',
  'SETTLEMENT_PERIOD_',
  'NUMBER_LOOKUP_SOURCE_',
  'SUBMIT_CHANNEL_',
  'BIND_TYPE_',
  'CONCAT_METHOD_',
];

/** "ACCOUNT_STATE_ACTIVE" -> "ACTIVE" for tables; other strings unchanged. */
export function shortEnum(value: string): string {
  for (const p of ENUM_PREFIXES)
    if (value.startsWith(p) && value.length > p.length) return value.slice(p.length);
  return value;
}

/** A Money in proto3 JSON form ({currencyCode, minorUnits: "3450", scale}). */
function isMoneyJson(v: unknown): v is { currencyCode?: string; minorUnits?: string; scale?: number } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return (
    keys.length > 0 &&
    ('currencyCode' in v || 'minorUnits' in v) &&
    keys.every((k) => k === 'currencyCode' || k === 'minorUnits' || k === 'scale')
  );
}

/** A Money in proto3 JSON form as "EUR 0.00345". */
export function moneyJsonText(v: { currencyCode?: string; minorUnits?: string; scale?: number }): string {
  const amount = formatDecimal(BigInt(v.minorUnits ?? '0'), v.scale ?? 0);
  return `${v.currencyCode ?? ''} ${amount}`.trim();
}

/** Text of one scalar JSON value for a table cell. */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return shortEnum(v);
  if (isMoneyJson(v)) return moneyJsonText(v);
  if (Array.isArray(v)) return v.map(cellText).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * Flattens a proto3 JSON object into [path, text] rows: nested messages as "a.b", lists of messages as
 * "a[0].b", lists of scalars joined with ", ", Money as "EUR 0.00345". Keys in snake_case.
 */
export function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value === undefined || value === null) return [];
  if (isMoneyJson(value) || typeof value !== 'object') return [[prefix, cellText(value)]];
  if (Array.isArray(value)) {
    if (value.every((e) => typeof e !== 'object' || e === null || isMoneyJson(e))) {
      return [[prefix, cellText(value)]];
    }
    return value.flatMap((e, i) => flatten(e, `${prefix}[${i}]`));
  }
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    flatten(v, prefix ? `${prefix}.${snake(k)}` : snake(k)),
  );
}

/** A two-column table of the flattened object (for `get`). */
export function keyValueTable(value: unknown): string {
  const rows = flatten(value);
  if (rows.length === 0) return '(empty)\n';
  const t = new Table({ style: { head: [], border: [], compact: true } });
  for (const [k, v] of rows) t.push({ [k]: v });
  return `${t.toString()}\n`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/** A table with one line per row (for `list`); "no <what>" when empty. */
export function listTable<T>(rows: readonly T[], columns: readonly Column<T>[], what: string): string {
  if (rows.length === 0) return `no ${what}\n`;
  const t = new Table({ head: columns.map((c) => c.header), style: { head: [], border: [], compact: true } });
  for (const r of rows) t.push(columns.map((c) => c.value(r)));
  return `${t.toString()}\n`;
}
