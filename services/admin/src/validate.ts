// Hand-written request checks shared by the resources. Each check throws INVALID_ARGUMENT naming the field
// with its proto path (e.g. "account.smpp_credentials[0].system_id").
import { createHash, randomBytes } from 'node:crypto';
import { invalid } from './errors.js';

/** Ids of admin-chosen resources (connectors, rules, rates): the pattern the tables check. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUIDv7 (RFC 9562): time-ordered, lowercase canonical text. */
export function uuidv7(time = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(time, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

export function requireId(field: string, v: string): string {
  if (v === '') throw invalid(field, 'is required');
  if (!ID_PATTERN.test(v)) throw invalid(field, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -');
  return v;
}

export function requireText(field: string, v: string, max: number, required = false): string {
  if (required && v.trim() === '') throw invalid(field, 'is required');
  if (v.length > max) throw invalid(field, `must be at most ${max} characters`);
  return v;
}

export function currency(field: string, v: string): string {
  if (!/^[A-Z]{3}$/.test(v))
    throw invalid(field, 'must be an ISO 4217 code of three capital letters (e.g. EUR)');
  return v;
}

export function country(field: string, v: string): string {
  if (!/^[A-Z]{2}$/.test(v))
    throw invalid(field, 'must be an ISO 3166-1 alpha-2 code of two capital letters');
  return v;
}

/** E.164 prefix digits (no "+", no leading zero). */
export function prefixDigits(field: string, v: string): string {
  const d = v.startsWith('+') ? v.slice(1) : v;
  if (!/^[1-9][0-9]{0,14}$/.test(d))
    throw invalid(field, 'must be 1-15 digits of an E.164 prefix (no leading 0)');
  return d;
}

/** A full E.164 number, digits only. */
export function msisdn(field: string, v: string): string {
  const d = v.startsWith('+') ? v.slice(1) : v;
  if (!/^[1-9][0-9]{1,14}$/.test(d)) throw invalid(field, 'must be an E.164 number of 2-15 digits');
  return d;
}

export function mcc(field: string, v: string): string {
  if (!/^[0-9]{3}$/.test(v)) throw invalid(field, 'must be 3 digits');
  return v;
}

export function mnc(field: string, v: string): string {
  if (!/^[0-9]{2,3}$/.test(v)) throw invalid(field, 'must be 2 or 3 digits');
  return v;
}

/** "234-15" (or "23415") -> { mcc, mnc }. */
export function mccMnc(field: string, v: string): { mcc: string; mnc: string } {
  const m = /^([0-9]{3})-?([0-9]{2,3})$/.exec(v);
  if (!m) throw invalid(field, 'must be "<mcc>-<mnc>" (e.g. 234-15)');
  return { mcc: m[1]!, mnc: m[2]! };
}

export function intRange(field: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw invalid(field, `must be an integer in ${min}..${max}`);
  return v;
}

export function enumValue<E extends number>(field: string, v: E, allowed: Record<number, string>): E {
  if (!(v in allowed)) throw invalid(field, `must be one of ${Object.values(allowed).join(', ')}`);
  return v;
}

export function distinct(field: string, values: string[]): string[] {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw invalid(field, `lists ${JSON.stringify(v)} twice`);
    seen.add(v);
  }
  return values;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export function pageSize(v: number): number {
  if (v < 0) throw invalid('page_size', 'must not be negative');
  if (v === 0) return DEFAULT_PAGE;
  return Math.min(v, MAX_PAGE);
}

/** Opaque page token: the last id of the previous page plus a hash of the filters it was made for. */
export function encodePageToken(after: string, filters: unknown): string {
  return Buffer.from(JSON.stringify({ a: after, f: filterHash(filters) })).toString('base64url');
}

/**
 * One page of a list query that fetched `size + 1` rows: the first `size`, and the token of the next page
 * (made from `keyOf` of the page's last row), or '' when this is the last page.
 */
export function pageOf<R>(
  rows: R[],
  size: number,
  keyOf: (row: R) => string,
  filters: unknown,
): { page: R[]; nextPageToken: string } {
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return {
    page,
    nextPageToken: rows.length > size && last !== undefined ? encodePageToken(keyOf(last), filters) : '',
  };
}

export function decodePageToken(token: string, filters: unknown): string | undefined {
  if (token === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('page_token', 'is not a token this API returned');
  }
  const p = parsed as { a?: unknown; f?: unknown };
  if (typeof p.a !== 'string' || typeof p.f !== 'string')
    throw invalid('page_token', 'is not a token this API returned');
  if (p.f !== filterHash(filters))
    throw invalid('page_token', 'was made for other filters; keep them unchanged');
  return p.a;
}

function filterHash(filters: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(filters, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('base64url')
    .slice(0, 16);
}

/** snake_case proto path -> camelCase TypeScript property. */
export function camel(path: string): string {
  return path.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Update semantics: without a mask (or with an empty one) the incoming resource replaces the stored one;
 * with a mask only the listed top-level fields are taken from the incoming one. Unknown paths, nested
 * paths and output-only fields are refused.
 */
/** Fields a client never sets: the server keeps them on every update (with the resource's id). */
export const OUTPUT_ONLY: readonly string[] = ['revision', 'created_at', 'updated_at'];

export function applyMask<T extends object>(
  stored: T,
  incoming: T,
  mask: string[] | undefined,
  resource: string,
  outputOnly: readonly string[],
): T {
  const paths = mask ?? [];
  if (paths.length === 0) return incoming;
  const merged = { ...stored } as Record<string, unknown>;
  for (const p of paths) {
    const key = camel(p);
    if (p.includes('.') || !(key in stored))
      throw invalid('update_mask', `${JSON.stringify(p)} is not a field of ${resource}`);
    if (outputOnly.includes(p)) throw invalid('update_mask', `${JSON.stringify(p)} is output only`);
    merged[key] = (incoming as Record<string, unknown>)[key];
  }
  return merged as T;
}

/** expected_revision as bigint (0 = no check). */
export function expectedRevision(v: bigint | number | undefined): bigint {
  const r = BigInt(v ?? 0);
  if (r < 0n) throw invalid('expected_revision', 'must not be negative');
  return r;
}
