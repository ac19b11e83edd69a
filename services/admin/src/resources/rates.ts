// Rates: smshub.config.v1.Rate <-> rating_rates (0500). SELL rates belong to an account (party_id) or a price
// plan (price_plan_id), BUY rates to a connector. Rating and routing (buy rates, least cost) reload on
// RESOURCE_KIND_RATE.
import {
  ChangeAction,
  RateDirection,
  ResourceKind,
  TrafficType,
  type CreateRateRequest,
  type DeleteRateRequest,
  type GetRateRequest,
  type ListRatesRequest,
  type Rate,
  type UpdateRateRequest,
} from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { tx, type AdminContext } from '../context.js';
import { alreadyExists, failedPrecondition, invalid, notFound, checkRevision } from '../errors.js';
import { deleteResource } from './delete.js';
import {
  applyMask,
  country,
  currency,
  decodePageToken,
  pageOf,
  expectedRevision,
  isUuid,
  mccMnc,
  pageSize,
  prefixDigits,
  requireId,
  requireText,
  OUTPUT_ONLY,
} from '../validate.js';

export interface RateValues {
  id: string;
  ownerKind: 'account' | 'plan' | 'connector';
  ownerId: string;
  prefix: string | null;
  mccMnc: string | null;
  country: string | null;
  priceAmount: bigint;
  priceScale: number;
  currency: string;
  effectiveFrom: Date;
  effectiveTo: Date | null;
  /** Inbound (MO) sell rate; always false for BUY rates. */
  inbound: boolean;
}

/** Validates a Rate for a write (`field` prefixes messages; the CSV import passes column names). */
export function rateValues(r: Rate, field = 'rate'): RateValues {
  const id = requireId(`${field}.id`, r.id);
  let ownerKind: RateValues['ownerKind'];
  let ownerId: string;
  if (r.direction === RateDirection.RATE_DIRECTION_SELL) {
    if ((r.partyId === '') === (r.pricePlanId === ''))
      throw invalid(
        `${field}.party_id`,
        'a SELL rate needs exactly one of party_id (account) or price_plan_id',
      );
    ownerKind = r.partyId !== '' ? 'account' : 'plan';
    ownerId = r.partyId !== '' ? r.partyId : requireText(`${field}.price_plan_id`, r.pricePlanId, 64);
    if (ownerKind === 'account' && !isUuid(ownerId))
      throw invalid(`${field}.party_id`, 'must be an account id (UUID)');
  } else if (r.direction === RateDirection.RATE_DIRECTION_BUY) {
    if (r.pricePlanId !== '') throw invalid(`${field}.price_plan_id`, 'is only for SELL rates');
    if (r.inbound) throw invalid(`${field}.inbound`, 'is only for SELL rates (MO has no buy side)');
    ownerKind = 'connector';
    ownerId = requireId(`${field}.party_id`, r.partyId);
  } else {
    throw invalid(`${field}.direction`, 'must be SELL or BUY');
  }
  const destinations = [r.destinationPrefix, r.mccMnc, r.countryCode].filter((d) => d !== '').length;
  if (destinations !== 1)
    throw invalid(
      `${field}.destination_prefix`,
      'exactly one of destination_prefix, mcc_mnc, country_code must be set',
    );
  if (r.trafficType !== TrafficType.TRAFFIC_TYPE_UNSPECIFIED)
    throw invalid(`${field}.traffic_type`, 'must be UNSPECIFIED: rating prices by destination only');
  if (!r.price) throw invalid(`${field}.price`, 'is required');
  if (r.price.minorUnits < 0n) throw invalid(`${field}.price.minor_units`, 'must not be negative');
  if (r.price.scale > 18) throw invalid(`${field}.price.scale`, 'must be at most 18');
  const from = r.validFrom ?? new Date();
  if (r.validUntil && r.validUntil <= from) throw invalid(`${field}.valid_until`, 'must be after valid_from');
  let mm: string | null = null;
  if (r.mccMnc !== '') {
    const { mcc, mnc } = mccMnc(`${field}.mcc_mnc`, r.mccMnc);
    mm = `${mcc}${mnc}`;
  }
  return {
    id,
    ownerKind,
    ownerId,
    prefix:
      r.destinationPrefix === '' ? null : prefixDigits(`${field}.destination_prefix`, r.destinationPrefix),
    mccMnc: mm,
    country: r.countryCode === '' ? null : country(`${field}.country_code`, r.countryCode),
    priceAmount: r.price.minorUnits,
    priceScale: r.price.scale,
    currency: currency(`${field}.price.currency_code`, r.price.currencyCode),
    effectiveFrom: from,
    effectiveTo: r.validUntil ?? null,
    inbound: r.inbound,
  };
}

export interface RateRow {
  id: string;
  owner_kind: string;
  owner_id: string;
  prefix: string | null;
  mcc_mnc: string | null;
  country: string | null;
  price_amount: string;
  price_scale: number;
  currency: string;
  effective_from: Date;
  effective_to: Date | null;
  inbound: boolean;
  revision: string;
  created_at: Date;
  updated_at: Date;
}

export const RATE_SELECT = `SELECT id, owner_kind, owner_id, prefix, mcc_mnc, country, price_amount::text AS price_amount,
  price_scale, currency, effective_from, effective_to, inbound, revision::text AS revision, created_at, updated_at FROM rating_rates`;

export function rateFromRow(r: RateRow): Rate {
  const rate: Rate = {
    id: r.id,
    direction:
      r.owner_kind === 'connector' ? RateDirection.RATE_DIRECTION_BUY : RateDirection.RATE_DIRECTION_SELL,
    partyId: r.owner_kind === 'plan' ? '' : r.owner_id,
    destinationPrefix: r.prefix ?? '',
    mccMnc: r.mcc_mnc ? `${r.mcc_mnc.slice(0, 3)}-${r.mcc_mnc.slice(3)}` : '',
    trafficType: TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
    price: { currencyCode: r.currency, minorUnits: BigInt(r.price_amount), scale: r.price_scale },
    validFrom: r.effective_from,
    revision: BigInt(r.revision),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    countryCode: r.country ?? '',
    pricePlanId: r.owner_kind === 'plan' ? r.owner_id : '',
    inbound: r.inbound,
  };
  if (r.effective_to) rate.validUntil = r.effective_to;
  return rate;
}

/** FAILED_PRECONDITION when the rate's owner (account, plan or connector) does not exist. */
export async function checkOwners(
  c: PoolClient,
  owners: { kind: string; id: string }[],
  field = 'rate.party_id',
) {
  const byKind = new Map<string, Set<string>>();
  for (const o of owners) byKind.set(o.kind, (byKind.get(o.kind) ?? new Set()).add(o.id));
  const sql: Record<string, string> = {
    account: 'SELECT id::text AS id FROM accounts WHERE id::text = ANY($1::text[])',
    plan: 'SELECT id FROM rating_price_plans WHERE id = ANY($1::text[])',
    connector: 'SELECT id FROM egress_connectors WHERE id = ANY($1::text[])',
  };
  for (const [kind, ids] of byKind) {
    const { rows } = await c.query<{ id: string }>(sql[kind]!, [[...ids]]);
    const known = new Set(rows.map((r) => r.id));
    const missing = [...ids].filter((i) => !known.has(i));
    if (missing.length > 0) {
      const what = kind === 'plan' ? 'price plan' : kind;
      throw failedPrecondition(
        `${field}: ${what} ${missing
          .slice(0, 5)
          .map((m) => JSON.stringify(m))
          .join(', ')} does not exist`,
      );
    }
  }
}

async function load(c: PoolClient, id: string, lock = false): Promise<RateRow | undefined> {
  const { rows } = await c.query<RateRow>(`${RATE_SELECT} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

function change(action: ChangeAction, r: Rate) {
  return {
    kind: ResourceKind.RESOURCE_KIND_RATE,
    action,
    resourceId: r.id,
    revision: r.revision,
    snapshot: { $case: 'rate' as const, value: r },
  };
}

const PARAMS = (v: RateValues) => [
  v.id,
  v.ownerKind,
  v.ownerId,
  v.prefix,
  v.mccMnc,
  v.country,
  v.priceAmount.toString(),
  v.priceScale,
  v.currency,
  v.effectiveFrom,
  v.effectiveTo,
  v.inbound,
];

export function rateHandlers(ctx: AdminContext) {
  return {
    async createRate(req: CreateRateRequest) {
      if (!req.rate) throw invalid('rate', 'is required');
      const v = rateValues(req.rate);
      const rate = await tx(ctx, 'rate', async (c) => {
        if (await load(c, v.id)) throw alreadyExists('rate', v.id);
        await checkOwners(c, [{ kind: v.ownerKind, id: v.ownerId }]);
        await c.query(
          `INSERT INTO rating_rates (id, owner_kind, owner_id, prefix, mcc_mnc, country, price_amount, price_scale,
             currency, effective_from, effective_to, inbound)
           VALUES ($1, $2, $3, $4, $5, $6, $7::bigint, $8, $9, $10, $11, $12)`,
          PARAMS(v),
        );
        return rateFromRow((await load(c, v.id))!);
      });
      await ctx.publisher.change(change(ChangeAction.CHANGE_ACTION_CREATED, rate));
      return { rate };
    },

    async getRate(req: GetRateRequest) {
      const { rows } = await ctx.pool.query<RateRow>(`${RATE_SELECT} WHERE id = $1`, [req.id]);
      if (!rows[0]) throw notFound('rate', req.id);
      return { rate: rateFromRow(rows[0]) };
    },

    async listRates(req: ListRatesRequest) {
      const size = pageSize(req.pageSize);
      const filters = {
        d: req.direction,
        p: req.partyId,
        x: req.destinationPrefix,
        v: req.validAt?.toISOString() ?? '',
      };
      const after = decodePageToken(req.pageToken, filters);
      const kinds =
        req.direction === RateDirection.RATE_DIRECTION_SELL
          ? ['account', 'plan']
          : req.direction === RateDirection.RATE_DIRECTION_BUY
            ? ['connector']
            : req.direction === RateDirection.RATE_DIRECTION_UNSPECIFIED
              ? ['account', 'plan', 'connector']
              : undefined;
      if (!kinds) throw invalid('direction', 'is not a known direction');
      if (req.destinationPrefix !== '' && !/^[0-9]{1,15}$/.test(req.destinationPrefix))
        throw invalid('destination_prefix', 'must be digits');
      const { rows } = await ctx.pool.query<RateRow>(
        `${RATE_SELECT} WHERE owner_kind = ANY($1::text[]) AND ($2 = '' OR owner_id = $2)
           AND ($3 = '' OR prefix LIKE $3 || '%')
           AND ($4::timestamptz IS NULL OR (effective_from <= $4 AND (effective_to IS NULL OR effective_to > $4)))
           AND ($5::text IS NULL OR id > $5) ORDER BY id LIMIT $6`,
        [kinds, req.partyId, req.destinationPrefix, req.validAt ?? null, after ?? null, size + 1],
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => r.id, filters);
      return { rates: page.map(rateFromRow), nextPageToken };
    },

    async updateRate(req: UpdateRateRequest) {
      if (!req.rate) throw invalid('rate', 'is required');
      const id = req.rate.id;
      const expected = expectedRevision(req.expectedRevision);
      const rate = await tx(ctx, 'rate', async (c) => {
        const stored = await load(c, id, true);
        if (!stored) throw notFound('rate', id);
        const current = rateFromRow(stored);
        checkRevision('rate', id, expected, current.revision);
        const merged = applyMask(current, req.rate!, req.updateMask, 'Rate', ['id', ...OUTPUT_ONLY]);
        const v = rateValues({ ...merged, id });
        await checkOwners(c, [{ kind: v.ownerKind, id: v.ownerId }]);
        await c.query(
          `UPDATE rating_rates SET owner_kind = $2, owner_id = $3, prefix = $4, mcc_mnc = $5, country = $6,
             price_amount = $7::bigint, price_scale = $8, currency = $9, effective_from = $10, effective_to = $11,
             inbound = $12, revision = revision + 1
           WHERE id = $1`,
          PARAMS(v),
        );
        return rateFromRow((await load(c, id))!);
      });
      await ctx.publisher.change(change(ChangeAction.CHANGE_ACTION_UPDATED, rate));
      return { rate };
    },

    async deleteRate(req: DeleteRateRequest) {
      return deleteResource(ctx, {
        kind: ResourceKind.RESOURCE_KIND_RATE,
        what: 'rate',
        txName: 'rate',
        id: req.id,
        expectedRevision: req.expectedRevision,
        load: load,
        remove: async (c) => {
          await c.query('DELETE FROM rating_rates WHERE id = $1', [req.id]);
        },
      });
    },
  };
}
