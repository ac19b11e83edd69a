// Latency histograms with fixed logarithmic buckets, so that histograms of any rows add up element-wise
// and percentiles can be taken over any window or breakdown (a percentile of percentiles is not one).
//
// Bucket 0 holds [0, 10 ms); bucket b >= 1 holds [10 ms * 1.2^(b-1), 10 ms * 1.2^b). 1.2 keeps a
// reported percentile (the bucket's geometric middle) within about 10 % of the true value; 120 buckets
// reach past 30 days. A histogram is an array of counts indexed by bucket, trailing zeros trimmed.

export const HIST_BASE_MS = 10;
export const HIST_GROWTH = 1.2;
export const HIST_BUCKETS = 120;

const LOG_GROWTH = Math.log(HIST_GROWTH);

/** The bucket of a latency in milliseconds (negative latencies, clock skew, count as 0). */
export function bucketOf(ms: number): number {
  if (!(ms >= HIST_BASE_MS)) return 0;
  const b = 1 + Math.floor(Math.log(ms / HIST_BASE_MS) / LOG_GROWTH + 1e-9);
  return Math.min(b, HIST_BUCKETS - 1);
}

/** The value reported for a bucket: its geometric middle, in whole milliseconds. */
export function bucketValue(b: number): number {
  if (b <= 0) return Math.round(HIST_BASE_MS / 2);
  return Math.round(HIST_BASE_MS * HIST_GROWTH ** (b - 0.5));
}

/** Adds `b` into `a` (a grows as needed) and returns a. */
export function addInto(a: number[], b: readonly number[]): number[] {
  for (let i = 0; i < b.length; i++) a[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return a;
}

/** A histogram with one sample in bucket `b` (or `n` samples; negative to remove). */
export function single(b: number, n = 1): number[] {
  const h = new Array<number>(b + 1).fill(0);
  h[b] = n;
  return h;
}

export function total(h: readonly number[]): number {
  let n = 0;
  for (const c of h) n += c;
  return n;
}

/** The p-th percentile (0 < p <= 1) in milliseconds, or undefined without samples. */
export function percentile(h: readonly number[], p: number): number | undefined {
  const n = total(h);
  if (n <= 0) return undefined;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (let b = 0; b < h.length; b++) {
    seen += h[b] ?? 0;
    if (seen >= rank) return bucketValue(b);
  }
  return bucketValue(h.length - 1);
}

/** Several percentiles (ascending p) in one pass: [percentile(h, p) for each p]. */
export function percentiles(h: readonly number[], ps: readonly number[]): (number | undefined)[] {
  const n = total(h);
  if (n <= 0) return ps.map(() => undefined);
  const out: (number | undefined)[] = [];
  let b = 0;
  let seen = h[0] ?? 0;
  for (const p of ps) {
    const rank = Math.max(1, Math.ceil(p * n));
    while (seen < rank && b < h.length - 1) seen += h[++b] ?? 0;
    out.push(bucketValue(b));
  }
  return out;
}

/** PostgreSQL's text form of an integer[] ("{0,3,1}") to numbers; NULL/empty -> []. */
export function parsePgIntArray(text: string | null | undefined): number[] {
  if (!text || text.length <= 2) return [];
  return text.slice(1, -1).split(',').map(Number);
}

/**
 * Adds histograms in PostgreSQL's integer[] text form into `into`, in one pass over the text without
 * intermediate arrays: one ("{0,3,1}") or several separated by a space ("{0,3} {1,0,2}", as
 * string_agg(lat::text, ' ') returns them). `sign` -1 subtracts. Returns into.
 */
export function addPgIntArrayText(
  into: number[],
  text: string | null | undefined,
  sign: 1 | -1 = 1,
): number[] {
  if (!text) return into;
  let i = 0;
  let n = 0;
  let neg = false;
  let digits = false;
  for (let p = 0; p < text.length; p++) {
    const c = text.charCodeAt(p);
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits = true;
    } else if (c === 45) {
      neg = true;
    } else if (c === 44 || c === 125) {
      // ',' or '}'
      if (digits) into[i] = (into[i] ?? 0) + sign * (neg ? -n : n);
      i++;
      n = 0;
      neg = false;
      digits = false;
    } else if (c === 123) {
      // '{': a new histogram starts at bucket 0
      i = 0;
    }
  }
  return into;
}
