// What one record adds to the roll-ups (pure: no I/O). The definitions are those of
// proto/smshub/stats/v1/stats.proto:
//   sms.routed.v1   -> submitted +1, accepted +1   (connector '': not attributed until one carries it)
//   sms.rejected.v1 -> submitted +1, rejected +1
//   billing.rated.v1 -> delivered or failed +1 (failed = any other final status of an accepted message;
//     a message the hub itself rejected, connector '' and status REJECTED, is already counted as
//     rejected), segments, rated, revenue/cost/margin, and the latency of a delivered message.
// Every contribution is bucketed by the minute the hub accepted the message.
import type { BillingRated, SmsRejected, SmsRouted } from '@smshub/contracts';
import { RatedStatus } from '@smshub/contracts';
import { addInto, bucketOf, single } from './histogram.js';

/** Dimension numbers: the StatsDimension values; 0 is "everything" (key ''). */
export const DIM_TOTAL = 0;
export const DIM_ACCOUNT = 1;
export const DIM_CONNECTOR = 2;
export const DIM_COUNTRY = 3;
export const DIM_MCC_MNC = 4;
export const DIM_TRAFFIC_TYPE = 5;
export const DIMS = [DIM_TOTAL, DIM_ACCOUNT, DIM_CONNECTOR, DIM_COUNTRY, DIM_MCC_MNC, DIM_TRAFFIC_TYPE];
/**
 * Pairs of the small dimensions rolled up per hour (stats_hour_pair, 0905): [a, b] with a < b; the
 * pair's code is 10 * a + b.
 */
export const PAIR_DIMS = [DIM_CONNECTOR, DIM_COUNTRY, DIM_MCC_MNC, DIM_TRAFFIC_TYPE];
export const PAIRS: readonly (readonly [number, number])[] = PAIR_DIMS.flatMap((a) =>
  PAIR_DIMS.filter((b) => b > a).map((b) => [a, b] as const),
);
export const pairCode = (a: number, b: number) => 10 * Math.min(a, b) + Math.max(a, b);

/** The full key of a roll-up row. */
export interface Key {
  accountId: string;
  connectorId: string;
  country: string;
  mccMnc: string;
  trafficType: number;
  /** Sell currency of the money columns ('' for rows without money). */
  currency: string;
}

export function keyString(k: Key): string {
  return [k.accountId, k.connectorId, k.country, k.mccMnc, k.trafficType, k.currency].join('\u0001');
}

/** The value of `dim` in a key (dim 0: ''). */
export function dimValue(k: Key, dim: number): string {
  switch (dim) {
    case DIM_ACCOUNT:
      return k.accountId;
    case DIM_CONNECTOR:
      return k.connectorId;
    case DIM_COUNTRY:
      return k.country;
    case DIM_MCC_MNC:
      return k.mccMnc;
    case DIM_TRAFFIC_TYPE:
      return String(k.trafficType);
    default:
      return '';
  }
}

/** Money is summed as bigint at scale 18 (exact for every Money scale 0..18). */
export const MONEY_SCALE = 18;

export interface Counters {
  submitted: number;
  accepted: number;
  rejected: number;
  delivered: number;
  failed: number;
  segments: number;
  rated: number;
  missingRate: number;
  costUnconverted: number;
  revenue: bigint;
  cost: bigint;
  margin: bigint;
  /** Latency histogram of delivered messages (may hold negative counts in a correction). */
  lat: number[];
}

export function zero(): Counters {
  return {
    submitted: 0,
    accepted: 0,
    rejected: 0,
    delivered: 0,
    failed: 0,
    segments: 0,
    rated: 0,
    missingRate: 0,
    costUnconverted: 0,
    revenue: 0n,
    cost: 0n,
    margin: 0n,
    lat: [],
  };
}

/** a += sign * b. */
export function addCounters(a: Counters, b: Counters, sign: 1 | -1 = 1): Counters {
  a.submitted += sign * b.submitted;
  a.accepted += sign * b.accepted;
  a.rejected += sign * b.rejected;
  a.delivered += sign * b.delivered;
  a.failed += sign * b.failed;
  a.segments += sign * b.segments;
  a.rated += sign * b.rated;
  a.missingRate += sign * b.missingRate;
  a.costUnconverted += sign * b.costUnconverted;
  if (sign === 1) {
    a.revenue += b.revenue;
    a.cost += b.cost;
    a.margin += b.margin;
    addInto(a.lat, b.lat);
    return a;
  }
  a.revenue -= b.revenue;
  a.cost -= b.cost;
  a.margin -= b.margin;
  addInto(
    a.lat,
    b.lat.map((c) => -c),
  );
  return a;
}

/** One record's contribution: where it goes and what it adds. */
export interface Contribution {
  /** Start of the submission minute (UTC). */
  minute: Date;
  key: Key;
  counters: Counters;
}

export function minuteOf(t: Date): Date {
  return new Date(Math.floor(t.getTime() / 60_000) * 60_000);
}

export function hourOf(t: Date): Date {
  return new Date(Math.floor(t.getTime() / 3_600_000) * 3_600_000);
}

function mccMnc(info: { mcc?: string; mnc?: string } | undefined): string {
  return info?.mcc && info.mnc ? `${info.mcc}-${info.mnc}` : '';
}

/** A Money amount at MONEY_SCALE; undefined when unset. Throws on a scale over 18 (not a Money). */
export function toScaled(m: { minorUnits: bigint; scale: number } | undefined): bigint | undefined {
  if (!m) return undefined;
  if (m.scale < 0 || m.scale > MONEY_SCALE) throw new RangeError(`money scale ${m.scale} is outside 0..18`);
  return m.minorUnits * 10n ** BigInt(MONEY_SCALE - m.scale);
}

/** A bigint at MONEY_SCALE as a decimal string ("-0.000345000000000000"). */
export function scaledToDecimal(v: bigint): string {
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(MONEY_SCALE + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -MONEY_SCALE)}.${s.slice(-MONEY_SCALE)}`;
}

export function fromRouted(r: SmsRouted, fallback: Date): Contribution | undefined {
  const m = r.message;
  if (!m?.accountId) return undefined;
  const c = zero();
  c.submitted = 1;
  c.accepted = 1;
  return {
    minute: minuteOf(m.receivedAt ?? fallback),
    key: {
      accountId: m.accountId,
      connectorId: '',
      country: r.destinationInfo?.countryCode ?? '',
      mccMnc: mccMnc(r.destinationInfo),
      trafficType: m.trafficType,
      currency: '',
    },
    counters: c,
  };
}

export function fromRejected(r: SmsRejected, fallback: Date): Contribution | undefined {
  const m = r.message;
  if (!m?.accountId) return undefined;
  const c = zero();
  c.submitted = 1;
  c.rejected = 1;
  return {
    minute: minuteOf(m.receivedAt ?? fallback),
    key: {
      accountId: m.accountId,
      connectorId: '',
      country: r.destinationInfo?.countryCode ?? '',
      mccMnc: mccMnc(r.destinationInfo),
      trafficType: m.trafficType,
      currency: '',
    },
    counters: c,
  };
}

const FINAL_FAILED = new Set([
  'DELIVERY_STATUS_EXPIRED',
  'DELIVERY_STATUS_DELETED',
  'DELIVERY_STATUS_UNDELIVERABLE',
  'DELIVERY_STATUS_REJECTED',
  'DELIVERY_STATUS_UNKNOWN',
  'DELIVERY_STATUS_FAILED',
]);

/** True for a message the hub refused itself (counted as rejected from sms.rejected.v1). */
export function hubRejected(r: BillingRated): boolean {
  return r.connectorId === '' && r.deliveryStatus === 'DELIVERY_STATUS_REJECTED';
}

export function fromRated(r: BillingRated, fallback: Date): Contribution | undefined {
  if (!r.messageId || !r.accountId) return undefined;
  const c = zero();
  const delivered = r.deliveryStatus === 'DELIVERY_STATUS_DELIVERED';
  if (delivered) c.delivered = 1;
  else if (FINAL_FAILED.has(r.deliveryStatus) && !hubRejected(r)) c.failed = 1;
  if (delivered && r.submittedAt && r.doneAt) {
    c.lat = single(bucketOf(r.doneAt.getTime() - r.submittedAt.getTime()));
  }
  c.segments = r.segments;
  c.rated = 1;
  if (r.status === RatedStatus.RATED_STATUS_MISSING_RATE) c.missingRate = 1;
  c.revenue = toScaled(r.sell) ?? 0n;
  const cost = toScaled(r.buyInSellCurrency);
  const margin = toScaled(r.margin);
  if (cost === undefined || margin === undefined) {
    // without an FX rate the buy side cannot be added to the sell currency's figures
    if ((toScaled(r.buy) ?? 0n) !== 0n) c.costUnconverted = 1;
  } else {
    c.cost = cost;
    c.margin = margin;
  }
  const currency = r.sell?.currencyCode || r.margin?.currencyCode || r.buyInSellCurrency?.currencyCode || '';
  return {
    minute: minuteOf(r.submittedAt ?? fallback),
    key: {
      accountId: r.accountId,
      connectorId: r.connectorId,
      country: r.destinationCountry,
      mccMnc: r.destinationMccMnc,
      trafficType: r.trafficType,
      currency,
    },
    counters: c,
  };
}

/** What a rated revision already counted is replaced by a newer one; older or equal ones are ignored. */
export type RatedDecision =
  { kind: 'count' } | { kind: 'replace' } | { kind: 'duplicate' } | { kind: 'uncorrectable' };

/**
 * `stored`: the revision counted before (undefined: none, or forgotten after STATS_CORRECTION_DAYS).
 * A first revision is counted; a later revision replaces the counted one; a later revision of a message
 * whose counted revision is not known any more cannot be applied without counting it twice.
 */
export function decideRated(revision: number, stored: number | undefined): RatedDecision {
  if (stored === undefined) return revision <= 1 ? { kind: 'count' } : { kind: 'uncorrectable' };
  return revision > stored ? { kind: 'replace' } : { kind: 'duplicate' };
}

/** Counters with only the rated-side fields of a stored contribution (to subtract it). */
export function ratedCounters(s: {
  delivered: number;
  failed: number;
  segments: number;
  missingRate: number;
  unconverted: number;
  revenue: bigint;
  cost: bigint;
  margin: bigint;
  latBucket: number | null;
}): Counters {
  const c = zero();
  c.delivered = s.delivered;
  c.failed = s.failed;
  c.segments = s.segments;
  c.rated = 1;
  c.missingRate = s.missingRate;
  c.costUnconverted = s.unconverted;
  c.revenue = s.revenue;
  c.cost = s.cost;
  c.margin = s.margin;
  if (s.latBucket !== null) c.lat = single(s.latBucket);
  return c;
}

/** The bucket a rated contribution's single latency sample is in, or null. */
export function latBucketOf(c: Counters): number | null {
  const i = c.lat.findIndex((n) => n !== 0);
  return i < 0 ? null : i;
}

type DimRows = Map<string, { dim: number; key: string; currency: string; bucket: Date; counters: Counters }>;

function addDimRow(
  map: DimRows,
  dim: number,
  key: string,
  currency: string,
  bucket: Date,
  id: string,
  counters: Counters,
  sign: 1 | -1,
): void {
  let row = map.get(id);
  if (!row) map.set(id, (row = { dim, key, currency, bucket, counters: zero() }));
  addCounters(row.counters, counters, sign);
}

/** Sums of counters per roll-up row, for one transaction's upserts. */
export class Accumulator {
  readonly rows = new Map<string, { keyId: number; bucket: Date; counters: Counters }>();
  readonly hourRows = new Map<string, { keyId: number; bucket: Date; counters: Counters }>();
  readonly dimRows = new Map<
    string,
    { dim: number; key: string; currency: string; bucket: Date; counters: Counters }
  >();
  readonly hourDimRows = new Map<
    string,
    { dim: number; key: string; currency: string; bucket: Date; counters: Counters }
  >();
  readonly hourPairRows = new Map<
    string,
    { pair: number; keyA: string; keyB: string; currency: string; bucket: Date; counters: Counters }
  >();

  add(keyId: number, key: Key, minute: Date, counters: Counters, sign: 1 | -1 = 1): void {
    // Called once per full key and minute of a flush (most of a flush's records at a live pace): the
    // bucket times and the dimension values are taken once for its 20 rows, without the tuple arrays.
    const hour = hourOf(minute);
    const mt = minute.getTime();
    const ht = hour.getTime();
    let row = this.rows.get(`${keyId}/${mt}`);
    if (!row) this.rows.set(`${keyId}/${mt}`, (row = { keyId, bucket: minute, counters: zero() }));
    addCounters(row.counters, counters, sign);
    let hourRow = this.hourRows.get(`${keyId}/${ht}`);
    if (!hourRow) this.hourRows.set(`${keyId}/${ht}`, (hourRow = { keyId, bucket: hour, counters: zero() }));
    addCounters(hourRow.counters, counters, sign);
    const currency = key.currency;
    const values: string[] = [];
    for (const dim of DIMS) {
      const value = dimValue(key, dim);
      values[dim] = value;
      addDimRow(
        this.dimRows,
        dim,
        value,
        currency,
        minute,
        `${dim}/${mt}/${value}\u0001${currency}`,
        counters,
        sign,
      );
      addDimRow(
        this.hourDimRows,
        dim,
        value,
        currency,
        hour,
        `${dim}/${ht}/${value}\u0001${currency}`,
        counters,
        sign,
      );
    }
    for (const [a, b] of PAIRS) {
      const keyA = values[a]!;
      const keyB = values[b]!;
      const pair = 10 * a + b;
      const id = `${pair}/${ht}/${keyA}\u0001${keyB}\u0001${currency}`;
      let pairRow = this.hourPairRows.get(id);
      if (!pairRow)
        this.hourPairRows.set(id, (pairRow = { pair, keyA, keyB, currency, bucket: hour, counters: zero() }));
      addCounters(pairRow.counters, counters, sign);
    }
  }
}
