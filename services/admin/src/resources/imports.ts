// CSV imports of rates, number prefixes and ported numbers. All-or-nothing: every line is checked first and
// any error (reported with its line number) means nothing is written; otherwise all lines are upserted in one
// transaction, then one CHANGE_ACTION_RELOAD with resource id "*" is published for the kind.
import { createHash } from 'node:crypto';
import {
  ChangeAction,
  RateDirection,
  ResourceKind,
  TrafficType,
  type ImportError,
  type ImportNumberPrefixesRequest,
  type ImportPortedNumbersRequest,
  type ImportRatesRequest,
  type ImportSummary,
} from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { tx, type AdminContext } from '../context.js';
import { invalid, RpcError } from '../errors.js';
import { parseCsv, parseDecimal, parseTime, type CsvRecord } from '../csv.js';
import { portedValues, prefixValues, type PortedValues, type PrefixValues } from './numbering.js';
import { rateValues, type RateValues } from './rates.js';

export const MAX_CSV_BYTES = 32 * 1024 * 1024;
const MAX_REPORTED_ERRORS = 1000;

const RATE_COLUMNS = [
  'direction',
  'party_id',
  'destination_prefix',
  'mcc_mnc',
  'traffic_type',
  'price',
  'currency',
  'valid_from',
  'valid_until',
] as const;
const RATE_OPTIONAL = ['country_code', 'price_plan_id', 'id', 'inbound'] as const;
const PREFIX_COLUMNS = ['prefix', 'country_code', 'mcc', 'mnc', 'network_name'] as const;
const PORTED_COLUMNS = ['msisdn', 'mcc', 'mnc', 'ported_at'] as const;

/** Collects per-line errors; the message of a thrown INVALID_ARGUMENT names the column. */
class Lines {
  readonly errors: ImportError[] = [];
  private count = 0;

  add(line: number, message: string): void {
    this.count++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push({ line, message });
  }

  check<T>(rec: CsvRecord, width: number, fn: () => T): T | undefined {
    if (rec.width !== width) {
      this.add(rec.line, `has ${rec.width} fields, the header has ${width}`);
      return undefined;
    }
    try {
      return fn();
    } catch (err) {
      if (err instanceof RpcError) {
        this.add(rec.line, err.message);
        return undefined;
      }
      throw err;
    }
  }

  /** Sorts by line and notes how many errors were not listed. */
  finish(): void {
    this.errors.sort((a, b) => a.line - b.line);
    if (this.count > this.errors.length)
      this.errors.push({ line: 0, message: `${this.count - this.errors.length} more errors not listed` });
  }
}

function csvBytes(csv: Uint8Array): Uint8Array {
  if (csv.length === 0) throw invalid('csv', 'is required');
  if (csv.length > MAX_CSV_BYTES)
    throw invalid('csv', `is larger than ${MAX_CSV_BYTES} bytes; split the file`);
  return csv;
}

function summary(
  rowsRead: number,
  errors: ImportError[],
  dryRun: boolean,
  counts = { c: 0, u: 0, d: 0 },
): ImportSummary {
  return { rowsRead, created: counts.c, updated: counts.u, deleted: counts.d, errors, dryRun };
}

/** Stable id of an imported rate: the same party, destination and start date updates the same rate. */
export function importedRateId(v: Omit<RateValues, 'id'>): string {
  const key = [
    v.ownerKind,
    v.ownerId,
    v.prefix ?? '',
    v.mccMnc ?? '',
    v.country ?? '',
    v.effectiveFrom.toISOString(),
  ];
  // An inbound rate may share party, destination and start with an MT rate (ids of MT rates unchanged).
  if (v.inbound) key.push('inbound');
  return `rt_${createHash('sha256').update(key.join('|')).digest('hex').slice(0, 24)}`;
}

/** The optional `inbound` column: empty or false = an MT rate, true = an inbound (MO) rate. */
function inboundColumn(v: string): boolean {
  const t = v.trim().toLowerCase();
  if (t === '' || t === 'false' || t === '0' || t === 'no') return false;
  if (t === 'true' || t === '1' || t === 'yes') return true;
  throw invalid('inbound', 'must be empty, true or false');
}

function direction(v: string): RateDirection {
  const d = v.toUpperCase().replace(/^RATE_DIRECTION_/, '');
  if (d === 'SELL') return RateDirection.RATE_DIRECTION_SELL;
  if (d === 'BUY') return RateDirection.RATE_DIRECTION_BUY;
  throw invalid('direction', 'must be sell or buy');
}

/** One CSV line -> validated rate values (messages name the CSV column). */
export function rateFromCsv(v: Record<string, string>): RateValues {
  const price = parseDecimal(v['price'] ?? '');
  if (!price) throw invalid('price', 'must be a non-negative decimal such as 0.00345');
  const tt = (v['traffic_type'] ?? '').toUpperCase();
  if (tt !== '' && tt !== 'UNSPECIFIED' && tt !== 'TRAFFIC_TYPE_UNSPECIFIED')
    throw invalid('traffic_type', 'must be empty or UNSPECIFIED: rating prices by destination only');
  const from = v['valid_from'] ? parseTime(v['valid_from']) : new Date(0);
  if (!from) throw invalid('valid_from', 'must be an RFC 3339 time such as 2026-01-01T00:00:00Z');
  const until = v['valid_until'] ? parseTime(v['valid_until']) : undefined;
  if (v['valid_until'] && !until) throw invalid('valid_until', 'must be an RFC 3339 time');
  const values = rateValues(
    {
      id: v['id'] || 'x',
      direction: direction(v['direction'] ?? ''),
      partyId: v['party_id'] ?? '',
      destinationPrefix: v['destination_prefix'] ?? '',
      mccMnc: v['mcc_mnc'] ?? '',
      countryCode: v['country_code'] ?? '',
      pricePlanId: v['price_plan_id'] ?? '',
      inbound: inboundColumn(v['inbound'] ?? ''),
      trafficType: TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
      price: { currencyCode: v['currency'] ?? '', minorUnits: price.amount, scale: price.scale },
      validFrom: from,
      ...(until ? { validUntil: until } : {}),
      revision: 0n,
    },
    'csv',
  );
  return v['id'] ? values : { ...values, id: importedRateId(values) };
}

async function missingOwners(
  c: PoolClient,
  rates: { line: number; v: RateValues }[],
  lines: Lines,
): Promise<void> {
  const sql: Record<string, string> = {
    account: 'SELECT id::text AS id FROM accounts WHERE id::text = ANY($1::text[])',
    plan: 'SELECT id FROM rating_price_plans WHERE id = ANY($1::text[])',
    connector: 'SELECT id FROM egress_connectors WHERE id = ANY($1::text[])',
  };
  for (const kind of ['account', 'plan', 'connector']) {
    const ids = [...new Set(rates.filter((r) => r.v.ownerKind === kind).map((r) => r.v.ownerId))];
    if (ids.length === 0) continue;
    const { rows } = await c.query<{ id: string }>(sql[kind]!, [ids]);
    const known = new Set(rows.map((r) => r.id));
    for (const r of rates)
      if (r.v.ownerKind === kind && !known.has(r.v.ownerId))
        lines.add(
          r.line,
          `${kind === 'plan' ? 'price plan' : kind} ${JSON.stringify(r.v.ownerId)} does not exist`,
        );
  }
}

function duplicates<T>(
  rows: { line: number; v: T }[],
  key: (v: T) => string,
  what: string,
  lines: Lines,
): void {
  const seen = new Map<string, number>();
  for (const r of rows) {
    const k = key(r.v);
    const first = seen.get(k);
    if (first !== undefined) lines.add(r.line, `${what} ${JSON.stringify(k)} is already on line ${first}`);
    else seen.set(k, r.line);
  }
}

/** Runs the write only when the whole file is valid; an error found inside the transaction rolls it back. */
class ImportRejected extends Error {}

export function importHandlers(ctx: AdminContext) {
  async function run(
    kind: ResourceKind,
    what: string,
    dryRun: boolean,
    rowsRead: number,
    lines: Lines,
    write: (c: PoolClient) => Promise<{ c: number; u: number; d: number }>,
  ): Promise<ImportSummary> {
    let counts: { c: number; u: number; d: number };
    try {
      counts = await tx(ctx, what, async (c) => {
        const res = await write(c);
        if (lines.errors.length > 0 || dryRun) throw new ImportRejected();
        return res;
      });
    } catch (err) {
      if (err instanceof ImportRejected) {
        lines.finish();
        return summary(rowsRead, lines.errors, dryRun);
      }
      throw err;
    }
    await ctx.publisher.change({
      kind,
      action: ChangeAction.CHANGE_ACTION_RELOAD,
      resourceId: '*',
      revision: 0n,
    });
    return summary(rowsRead, [], false, counts);
  }

  return {
    async importRates(req: ImportRatesRequest) {
      if (req.replaceAll && req.partyId === '') throw invalid('party_id', 'is required with replace_all');
      if (!req.replaceAll && req.partyId !== '') throw invalid('party_id', 'is only used with replace_all');
      const file = parseCsv(csvBytes(req.csv), RATE_COLUMNS, RATE_OPTIONAL);
      const lines = new Lines();
      for (const e of file.errors) lines.add(e.line, e.message);
      const rates: { line: number; v: RateValues }[] = [];
      for (const rec of file.records) {
        const v = lines.check(rec, file.header.length, () => rateFromCsv(rec.values));
        if (!v) continue;
        if (req.replaceAll && v.ownerId !== req.partyId)
          lines.add(
            rec.line,
            `party ${JSON.stringify(v.ownerId)} is not the party_id ${JSON.stringify(req.partyId)} being replaced`,
          );
        else rates.push({ line: rec.line, v });
      }
      duplicates(rates, (v) => v.id, 'rate', lines);
      const summaryOut = await run(
        ResourceKind.RESOURCE_KIND_RATE,
        'rates import',
        req.dryRun,
        file.records.length,
        lines,
        async (c) => {
          await missingOwners(c, rates, lines);
          if (lines.errors.length > 0 || (rates.length === 0 && !req.replaceAll)) return { c: 0, u: 0, d: 0 };
          const col = <K extends keyof RateValues>(k: K) => rates.map((r) => r.v[k]);
          const { rows } = await c.query<{ inserted: boolean }>(
            `INSERT INTO rating_rates AS r (id, owner_kind, owner_id, prefix, mcc_mnc, country, price_amount, price_scale,
             currency, effective_from, effective_to, inbound)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                                $8::smallint[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::boolean[])
           ON CONFLICT (id) DO UPDATE SET owner_kind = EXCLUDED.owner_kind, owner_id = EXCLUDED.owner_id,
             prefix = EXCLUDED.prefix, mcc_mnc = EXCLUDED.mcc_mnc, country = EXCLUDED.country,
             price_amount = EXCLUDED.price_amount, price_scale = EXCLUDED.price_scale, currency = EXCLUDED.currency,
             effective_from = EXCLUDED.effective_from, effective_to = EXCLUDED.effective_to,
             inbound = EXCLUDED.inbound, revision = r.revision + 1
           RETURNING (xmax = 0) AS inserted`,
            [
              col('id'),
              col('ownerKind'),
              col('ownerId'),
              col('prefix'),
              col('mccMnc'),
              col('country'),
              col('priceAmount').map(String),
              col('priceScale'),
              col('currency'),
              col('effectiveFrom'),
              col('effectiveTo'),
              col('inbound'),
            ],
          );
          let deleted = 0;
          if (req.replaceAll) {
            const del = await c.query(
              'DELETE FROM rating_rates WHERE owner_id = $1 AND NOT (id = ANY($2::text[]))',
              [req.partyId, col('id')],
            );
            deleted = del.rowCount ?? 0;
          }
          const created = rows.filter((r) => r.inserted).length;
          return { c: created, u: rows.length - created, d: deleted };
        },
      );
      return { summary: summaryOut };
    },

    async importNumberPrefixes(req: ImportNumberPrefixesRequest) {
      const file = parseCsv(csvBytes(req.csv), PREFIX_COLUMNS);
      const lines = new Lines();
      for (const e of file.errors) lines.add(e.line, e.message);
      const rows: { line: number; v: PrefixValues }[] = [];
      for (const rec of file.records) {
        const v = lines.check(rec, file.header.length, () =>
          prefixValues(
            {
              prefix: rec.values['prefix']!,
              countryCode: rec.values['country_code']!,
              mcc: rec.values['mcc']!,
              mnc: rec.values['mnc']!,
              networkName: rec.values['network_name']!,
              revision: 0n,
            },
            'csv',
          ),
        );
        if (v) rows.push({ line: rec.line, v });
      }
      duplicates(rows, (v) => v.prefix, 'prefix', lines);
      const out = await run(
        ResourceKind.RESOURCE_KIND_NUMBER_PREFIX,
        'number prefix import',
        req.dryRun,
        file.records.length,
        lines,
        async (c) => {
          if (lines.errors.length > 0) return { c: 0, u: 0, d: 0 };
          const col = <K extends keyof PrefixValues>(k: K) => rows.map((r) => r.v[k]);
          const res = await c.query<{ inserted: boolean }>(
            `INSERT INTO routing_number_prefixes AS p (prefix, country, mcc, mnc, operator)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
           ON CONFLICT (prefix) DO UPDATE SET country = EXCLUDED.country, mcc = EXCLUDED.mcc, mnc = EXCLUDED.mnc,
             operator = EXCLUDED.operator, revision = p.revision + 1
           RETURNING (xmax = 0) AS inserted`,
            [col('prefix'), col('country'), col('mcc'), col('mnc'), col('operator')],
          );
          let deleted = 0;
          if (req.replaceAll) {
            const del = await c.query(
              'DELETE FROM routing_number_prefixes WHERE NOT (prefix = ANY($1::text[]))',
              [col('prefix')],
            );
            deleted = del.rowCount ?? 0;
          }
          const created = res.rows.filter((r) => r.inserted).length;
          return { c: created, u: res.rows.length - created, d: deleted };
        },
      );
      return { summary: out };
    },

    async importPortedNumbers(req: ImportPortedNumbersRequest) {
      const file = parseCsv(csvBytes(req.csv), PORTED_COLUMNS);
      const lines = new Lines();
      for (const e of file.errors) lines.add(e.line, e.message);
      const rows: { line: number; v: PortedValues }[] = [];
      for (const rec of file.records) {
        const v = lines.check(rec, file.header.length, () => {
          const at = rec.values['ported_at'] ? parseTime(rec.values['ported_at']) : undefined;
          if (rec.values['ported_at'] && !at) throw invalid('csv.ported_at', 'must be an RFC 3339 time');
          return portedValues(
            {
              msisdn: rec.values['msisdn']!,
              mcc: rec.values['mcc']!,
              mnc: rec.values['mnc']!,
              source: 'csv import',
              revision: 0n,
              ...(at ? { portedAt: at } : {}),
            },
            'csv',
          );
        });
        if (v) rows.push({ line: rec.line, v });
      }
      duplicates(rows, (v) => v.msisdn, 'msisdn', lines);
      const out = await run(
        ResourceKind.RESOURCE_KIND_PORTED_NUMBER,
        'ported number import',
        req.dryRun,
        file.records.length,
        lines,
        async (c) => {
          if (lines.errors.length > 0) return { c: 0, u: 0, d: 0 };
          const col = <K extends keyof PortedValues>(k: K) => rows.map((r) => r.v[k]);
          const res = await c.query<{ inserted: boolean }>(
            `INSERT INTO routing_ported_numbers AS p (e164, mcc, mnc, ported_at, source)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
           ON CONFLICT (e164) DO UPDATE SET mcc = EXCLUDED.mcc, mnc = EXCLUDED.mnc, ported_at = EXCLUDED.ported_at,
             source = EXCLUDED.source, revision = p.revision + 1
           RETURNING (xmax = 0) AS inserted`,
            [col('msisdn'), col('mcc'), col('mnc'), col('portedAt'), col('source')],
          );
          let deleted = 0;
          if (req.replaceAll) {
            const del = await c.query(
              'DELETE FROM routing_ported_numbers WHERE NOT (e164 = ANY($1::text[]))',
              [col('msisdn')],
            );
            deleted = del.rowCount ?? 0;
          }
          const created = res.rows.filter((r) => r.inserted).length;
          return { c: created, u: res.rows.length - created, d: deleted };
        },
      );
      return { summary: out };
    },
  };
}
