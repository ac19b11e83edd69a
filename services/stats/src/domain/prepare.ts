// What one partition's pending records add, summed before anything is written: the roll-up's first
// level (one row per full key and submission minute, not per record), the rated records one by one (each
// is decided against the counted revision in PostgreSQL), and the rule hits per rule and minute. The
// writer (store.ts) expands each first-level row into its minute, hour, dimension and pair rows, so that
// work is per key and minute instead of per record.
// `from`: records at lower offsets were counted before (a replay) and are left out.
import type { BillingRated, SmsRejected, SmsRouted } from '@smshub/contracts';
import { ruleHitOf, type RuleHit } from '../rule-hits.js';
import { addCounters, fromRated, keyString, zero, type Counters, type Key } from './rollup.js';

export type StatsKind = 'routed' | 'rejected' | 'rated';

/** A consumed record as the writer needs it (a ConsumedRecord is one). */
export interface PendingRecord {
  offset: string;
  /** Record timestamp (ms since epoch, as a string): the bucket when the event has no time. */
  timestamp: string;
  value: unknown;
}

/** Sums of one full key in one submission minute. */
export interface KeyMinute {
  key: Key;
  keyStr: string;
  /** Start of the minute, ms since epoch. */
  minute: number;
  counters: Counters;
}

export interface RatedItem {
  messageId: string;
  revision: number;
  key: Key;
  keyStr: string;
  minute: number;
  counters: Counters;
}

export interface HitRow {
  ruleId: string;
  kind: RuleHit['kind'];
  /** Start of the minute, ms since epoch. */
  bucket: number;
  hits: number;
  /** Latest hit, ms since epoch. */
  last: number;
}

export interface Prepared {
  /** Routed and rejected records summed per key and minute. */
  rows: Map<string, KeyMinute>;
  /** Rated records, in offset order. */
  rated: RatedItem[];
  /** Rule hits per rule, kind and minute (routed and rejected records). */
  hits: Map<string, HitRow>;
  /** Routed and rejected records counted; rated ones are counted by the writer's decision. */
  counted: number;
  /** Records without an account. */
  invalid: number;
}

const MINUTE = 60_000;

function mccMnc(info: { mcc?: string; mnc?: string } | undefined): string {
  return info?.mcc && info.mnc ? `${info.mcc}-${info.mnc}` : '';
}

/** Sums `records` (one partition, offset order) from offset `from` on, for the roll-ups (`hits` too). */
export function prepare(
  kind: StatsKind,
  records: readonly PendingRecord[],
  opts: { from?: bigint; hitsFrom?: bigint; now?: number } = {},
): Prepared {
  const out: Prepared = { rows: new Map(), rated: [], hits: new Map(), counted: 0, invalid: 0 };
  const now = opts.now ?? Date.now();
  const from = opts.from ?? -1n;
  const hitsFrom = opts.hitsFrom ?? -1n;
  // Offsets are compared only when a replay boundary falls inside the records.
  const first = records.length > 0 ? BigInt(records[0]!.offset) : 0n;
  const check = from > first;
  const checkHits = hitsFrom > first;
  for (const r of records) {
    const replayed = check && BigInt(r.offset) < from;
    const hitReplayed = checkHits && BigInt(r.offset) < hitsFrom;
    if (kind === 'rated') {
      if (!replayed) addRated(out, r.value as BillingRated, r.timestamp, now);
      continue;
    }
    const v = r.value as SmsRouted | SmsRejected;
    if (!hitReplayed) addHit(out, kind, v, r.timestamp, now);
    if (replayed) continue;
    const m = v.message;
    if (!m?.accountId) {
      out.invalid++;
      continue;
    }
    const at = m.receivedAt ? m.receivedAt.getTime() : Number(r.timestamp) || now;
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const info = v.destinationInfo;
    const country = info?.countryCode ?? '';
    const mm = mccMnc(info);
    // keyString() of { accountId, connectorId: '', country, mccMnc, trafficType, currency: '' }
    const keyStr = `${m.accountId}\u0001\u0001${country}\u0001${mm}\u0001${m.trafficType}\u0001`;
    const id = `${minute}\u0002${keyStr}`;
    let row = out.rows.get(id);
    if (!row) {
      const key: Key = {
        accountId: m.accountId,
        connectorId: '',
        country,
        mccMnc: mm,
        trafficType: m.trafficType,
        currency: '',
      };
      out.rows.set(id, (row = { key, keyStr, minute, counters: zero() }));
    }
    row.counters.submitted++;
    if (kind === 'routed') row.counters.accepted++;
    else row.counters.rejected++;
    out.counted++;
  }
  return out;
}

function addRated(out: Prepared, v: BillingRated, timestamp: string, now: number): void {
  const c = fromRated(v, new Date(Number(timestamp) || now));
  if (!c) {
    out.invalid++;
    return;
  }
  out.rated.push({
    messageId: v.messageId,
    revision: v.revision,
    key: c.key,
    keyStr: keyString(c.key),
    minute: c.minute.getTime(),
    counters: c.counters,
  });
}

function addHit(
  out: Prepared,
  kind: 'routed' | 'rejected',
  v: SmsRouted | SmsRejected,
  timestamp: string,
  now: number,
): void {
  const hit = ruleHitOf(
    kind === 'routed' ? { kind, value: v as SmsRouted } : { kind, value: v as SmsRejected },
    new Date(Number(timestamp) || now),
  );
  if (!hit) return;
  const at = hit.at.getTime();
  const bucket = Math.floor(at / MINUTE) * MINUTE;
  const id = `${hit.ruleId}\u0000${hit.kind}\u0000${bucket}`;
  const row = out.hits.get(id);
  if (row) {
    row.hits++;
    if (at > row.last) row.last = at;
  } else out.hits.set(id, { ruleId: hit.ruleId, kind: hit.kind, bucket, hits: 1, last: at });
}

/** Adds `from`'s first-level rows into `into` (rows of several partitions, one flush). */
export function mergeRows(into: Map<string, KeyMinute>, from: Map<string, KeyMinute>): void {
  for (const [id, row] of from) {
    const have = into.get(id);
    if (have) addCounters(have.counters, row.counters);
    else into.set(id, row);
  }
}
