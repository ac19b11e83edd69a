// Number data: smshub.config.v1.NumberPrefix <-> routing_number_prefixes and PortedNumber <->
// routing_ported_numbers (0300 + 0600). Routing rebuilds its prefix table on RESOURCE_KIND_NUMBER_PREFIX and
// drops its cached answer for one number on RESOURCE_KIND_PORTED_NUMBER (resource id = the E.164 digits).
import {
  ChangeAction,
  ResourceKind,
  type CreateNumberPrefixRequest,
  type CreatePortedNumberRequest,
  type DeleteNumberPrefixRequest,
  type DeletePortedNumberRequest,
  type GetNumberPrefixRequest,
  type GetPortedNumberRequest,
  type ListNumberPrefixesRequest,
  type ListPortedNumbersRequest,
  type NumberPrefix,
  type PortedNumber,
  type UpdateNumberPrefixRequest,
  type UpdatePortedNumberRequest,
} from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { tx, type AdminContext } from '../context.js';
import { alreadyExists, invalid, notFound, checkRevision } from '../errors.js';
import { deleteResource } from './delete.js';
import {
  applyMask,
  decodePageToken,
  pageOf,
  expectedRevision,
  mcc,
  mnc,
  msisdn,
  pageSize,
  prefixDigits,
  requireText,
} from '../validate.js';

export interface PrefixValues {
  prefix: string;
  country: string;
  mcc: string;
  mnc: string;
  operator: string;
}

export function prefixValues(p: NumberPrefix, field = 'number_prefix'): PrefixValues {
  const prefix = prefixDigits(`${field}.prefix`, p.prefix);
  if (!/^([A-Z]{2}|001)$/.test(p.countryCode))
    throw invalid(
      `${field}.country_code`,
      'must be ISO 3166-1 alpha-2 (e.g. GB) or 001 for non-geographic numbers',
    );
  return {
    prefix,
    country: p.countryCode,
    mcc: mcc(`${field}.mcc`, p.mcc),
    mnc: mnc(`${field}.mnc`, p.mnc),
    operator: requireText(`${field}.network_name`, p.networkName, 200),
  };
}

export interface PortedValues {
  msisdn: string;
  mcc: string;
  mnc: string;
  portedAt: Date | null;
  source: string;
}

export function portedValues(p: PortedNumber, field = 'ported_number'): PortedValues {
  return {
    msisdn: msisdn(`${field}.msisdn`, p.msisdn),
    mcc: mcc(`${field}.mcc`, p.mcc),
    mnc: mnc(`${field}.mnc`, p.mnc),
    portedAt: p.portedAt ?? null,
    source: requireText(`${field}.source`, p.source, 200),
  };
}

interface PrefixRow {
  prefix: string;
  country: string;
  mcc: string;
  mnc: string;
  operator: string;
  revision: string;
  updated_at: Date;
}

interface PortedRow {
  e164: string;
  mcc: string;
  mnc: string;
  ported_at: Date | null;
  source: string;
  revision: string;
  updated_at: Date;
}

const PREFIX_SELECT = `SELECT prefix, country, mcc, mnc, operator, revision::text AS revision, updated_at
  FROM routing_number_prefixes`;
const PORTED_SELECT = `SELECT e164, mcc, mnc, ported_at, source, revision::text AS revision, updated_at
  FROM routing_ported_numbers`;

export function prefixFromRow(r: PrefixRow): NumberPrefix {
  return {
    prefix: r.prefix,
    countryCode: r.country,
    mcc: r.mcc,
    mnc: r.mnc,
    networkName: r.operator,
    revision: BigInt(r.revision),
    updatedAt: r.updated_at,
  };
}

export function portedFromRow(r: PortedRow): PortedNumber {
  const p: PortedNumber = {
    msisdn: r.e164,
    mcc: r.mcc,
    mnc: r.mnc,
    source: r.source,
    revision: BigInt(r.revision),
    updatedAt: r.updated_at,
  };
  if (r.ported_at) p.portedAt = r.ported_at;
  return p;
}

async function loadPrefix(c: PoolClient, prefix: string, lock = false) {
  const { rows } = await c.query<PrefixRow>(
    `${PREFIX_SELECT} WHERE prefix = $1${lock ? ' FOR UPDATE' : ''}`,
    [prefix],
  );
  return rows[0];
}

async function loadPorted(c: PoolClient, e164: string, lock = false) {
  const { rows } = await c.query<PortedRow>(`${PORTED_SELECT} WHERE e164 = $1${lock ? ' FOR UPDATE' : ''}`, [
    e164,
  ]);
  return rows[0];
}

const digits = (v: string) => (v.startsWith('+') ? v.slice(1) : v);
const OUTPUT_ONLY = ['revision', 'updated_at'];

export function numberingHandlers(ctx: AdminContext) {
  const prefixChange = (action: ChangeAction, p: NumberPrefix) => ({
    kind: ResourceKind.RESOURCE_KIND_NUMBER_PREFIX,
    action,
    resourceId: p.prefix,
    revision: p.revision,
    snapshot: { $case: 'numberPrefix' as const, value: p },
  });
  const portedChange = (action: ChangeAction, p: PortedNumber) => ({
    kind: ResourceKind.RESOURCE_KIND_PORTED_NUMBER,
    action,
    resourceId: p.msisdn,
    revision: p.revision,
    snapshot: { $case: 'portedNumber' as const, value: p },
  });

  return {
    async createNumberPrefix(req: CreateNumberPrefixRequest) {
      if (!req.numberPrefix) throw invalid('number_prefix', 'is required');
      const v = prefixValues(req.numberPrefix);
      const p = await tx(ctx, 'number_prefix', async (c) => {
        if (await loadPrefix(c, v.prefix)) throw alreadyExists('number prefix', v.prefix);
        await c.query(
          'INSERT INTO routing_number_prefixes (prefix, country, mcc, mnc, operator) VALUES ($1, $2, $3, $4, $5)',
          [v.prefix, v.country, v.mcc, v.mnc, v.operator],
        );
        return prefixFromRow((await loadPrefix(c, v.prefix))!);
      });
      await ctx.publisher.change(prefixChange(ChangeAction.CHANGE_ACTION_CREATED, p));
      return { numberPrefix: p };
    },

    async getNumberPrefix(req: GetNumberPrefixRequest) {
      const { rows } = await ctx.pool.query<PrefixRow>(`${PREFIX_SELECT} WHERE prefix = $1`, [
        digits(req.prefix),
      ]);
      if (!rows[0]) throw notFound('number prefix', req.prefix);
      return { numberPrefix: prefixFromRow(rows[0]) };
    },

    async listNumberPrefixes(req: ListNumberPrefixesRequest) {
      const size = pageSize(req.pageSize);
      const filters = { s: req.prefixStartsWith, c: req.countryCode };
      const after = decodePageToken(req.pageToken, filters);
      if (req.prefixStartsWith !== '' && !/^[0-9]{1,15}$/.test(req.prefixStartsWith))
        throw invalid('prefix_starts_with', 'must be digits');
      const { rows } = await ctx.pool.query<PrefixRow>(
        `${PREFIX_SELECT} WHERE ($1 = '' OR prefix LIKE $1 || '%') AND ($2 = '' OR country = $2)
           AND ($3::text IS NULL OR prefix > $3) ORDER BY prefix LIMIT $4`,
        [req.prefixStartsWith, req.countryCode, after ?? null, size + 1],
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => r.prefix, filters);
      return { numberPrefixes: page.map(prefixFromRow), nextPageToken };
    },

    async updateNumberPrefix(req: UpdateNumberPrefixRequest) {
      if (!req.numberPrefix) throw invalid('number_prefix', 'is required');
      const key = digits(req.numberPrefix.prefix);
      const expected = expectedRevision(req.expectedRevision);
      const p = await tx(ctx, 'number_prefix', async (c) => {
        const stored = await loadPrefix(c, key, true);
        if (!stored) throw notFound('number prefix', key);
        const current = prefixFromRow(stored);
        checkRevision('number prefix', key, expected, current.revision);
        const merged = applyMask(current, req.numberPrefix!, req.updateMask, 'NumberPrefix', [
          'prefix',
          ...OUTPUT_ONLY,
        ]);
        const v = prefixValues({ ...merged, prefix: key });
        await c.query(
          `UPDATE routing_number_prefixes SET country = $2, mcc = $3, mnc = $4, operator = $5, revision = revision + 1
           WHERE prefix = $1`,
          [v.prefix, v.country, v.mcc, v.mnc, v.operator],
        );
        return prefixFromRow((await loadPrefix(c, key))!);
      });
      await ctx.publisher.change(prefixChange(ChangeAction.CHANGE_ACTION_UPDATED, p));
      return { numberPrefix: p };
    },

    async deleteNumberPrefix(req: DeleteNumberPrefixRequest) {
      const key = digits(req.prefix);
      return deleteResource(ctx, {
        kind: ResourceKind.RESOURCE_KIND_NUMBER_PREFIX,
        what: 'number prefix',
        txName: 'number_prefix',
        id: key,
        givenId: req.prefix,
        expectedRevision: req.expectedRevision,
        load: loadPrefix,
        remove: async (c) => {
          await c.query('DELETE FROM routing_number_prefixes WHERE prefix = $1', [key]);
        },
      });
    },

    async createPortedNumber(req: CreatePortedNumberRequest) {
      if (!req.portedNumber) throw invalid('ported_number', 'is required');
      const v = portedValues(req.portedNumber);
      const p = await tx(ctx, 'ported_number', async (c) => {
        if (await loadPorted(c, v.msisdn)) throw alreadyExists('ported number', v.msisdn);
        await c.query(
          'INSERT INTO routing_ported_numbers (e164, mcc, mnc, ported_at, source) VALUES ($1, $2, $3, $4, $5)',
          [v.msisdn, v.mcc, v.mnc, v.portedAt, v.source],
        );
        return portedFromRow((await loadPorted(c, v.msisdn))!);
      });
      await ctx.publisher.change(portedChange(ChangeAction.CHANGE_ACTION_CREATED, p));
      return { portedNumber: p };
    },

    async getPortedNumber(req: GetPortedNumberRequest) {
      const { rows } = await ctx.pool.query<PortedRow>(`${PORTED_SELECT} WHERE e164 = $1`, [
        digits(req.msisdn),
      ]);
      if (!rows[0]) throw notFound('ported number', req.msisdn);
      return { portedNumber: portedFromRow(rows[0]) };
    },

    async listPortedNumbers(req: ListPortedNumbersRequest) {
      const size = pageSize(req.pageSize);
      const start = digits(req.msisdnStartsWith);
      const filters = { s: start };
      const after = decodePageToken(req.pageToken, filters);
      if (start !== '' && !/^[0-9]{1,15}$/.test(start)) throw invalid('msisdn_starts_with', 'must be digits');
      const { rows } = await ctx.pool.query<PortedRow>(
        `${PORTED_SELECT} WHERE ($1 = '' OR e164 LIKE $1 || '%') AND ($2::text IS NULL OR e164 > $2)
           ORDER BY e164 LIMIT $3`,
        [start, after ?? null, size + 1],
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => r.e164, filters);
      return { portedNumbers: page.map(portedFromRow), nextPageToken };
    },

    async updatePortedNumber(req: UpdatePortedNumberRequest) {
      if (!req.portedNumber) throw invalid('ported_number', 'is required');
      const key = digits(req.portedNumber.msisdn);
      const expected = expectedRevision(req.expectedRevision);
      const p = await tx(ctx, 'ported_number', async (c) => {
        const stored = await loadPorted(c, key, true);
        if (!stored) throw notFound('ported number', key);
        const current = portedFromRow(stored);
        checkRevision('ported number', key, expected, current.revision);
        const merged = applyMask(current, req.portedNumber!, req.updateMask, 'PortedNumber', [
          'msisdn',
          ...OUTPUT_ONLY,
        ]);
        const v = portedValues({ ...merged, msisdn: key });
        await c.query(
          `UPDATE routing_ported_numbers SET mcc = $2, mnc = $3, ported_at = $4, source = $5, revision = revision + 1
           WHERE e164 = $1`,
          [v.msisdn, v.mcc, v.mnc, v.portedAt, v.source],
        );
        return portedFromRow((await loadPorted(c, key))!);
      });
      await ctx.publisher.change(portedChange(ChangeAction.CHANGE_ACTION_UPDATED, p));
      return { portedNumber: p };
    },

    async deletePortedNumber(req: DeletePortedNumberRequest) {
      const key = digits(req.msisdn);
      return deleteResource(ctx, {
        kind: ResourceKind.RESOURCE_KIND_PORTED_NUMBER,
        what: 'ported number',
        txName: 'ported_number',
        id: key,
        givenId: req.msisdn,
        expectedRevision: req.expectedRevision,
        load: loadPorted,
        remove: async (c) => {
          await c.query('DELETE FROM routing_ported_numbers WHERE e164 = $1', [key]);
        },
      });
    },
  };
}
