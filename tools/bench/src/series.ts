// Time series of cumulative counters (accepted submit_sm, receipts, rated records) and rates over windows.

/** A cumulative counter sampled at `t` seconds since the load started. */
export interface Point {
  t: number;
  v: number;
}

/** The counter's value at time t, linearly interpolated between samples (clamped at the ends). */
export function valueAt(series: readonly Point[], t: number): number {
  if (series.length === 0) return 0;
  const first = series[0] as Point;
  if (t <= first.t) return first.v;
  for (let i = 1; i < series.length; i++) {
    const b = series[i] as Point;
    if (t <= b.t) {
      const a = series[i - 1] as Point;
      return b.t === a.t ? b.v : a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t);
    }
  }
  return (series[series.length - 1] as Point).v;
}

/** Mean rate per second of a cumulative counter between two times; 0 for an empty window. */
export function rateBetween(series: readonly Point[], from: number, to: number): number {
  if (!(to > from)) return 0;
  return (valueAt(series, to) - valueAt(series, from)) / (to - from);
}

/** The last time the counter was below `v` before reaching it (when it reached v), or undefined. */
export function timeReaching(series: readonly Point[], v: number): number | undefined {
  for (const p of series) if (p.v >= v) return p.t;
  return undefined;
}

/**
 * One loadgen progress line, e.g. "12s submitted 60000 accepted 59800 failed 0 receipts 58000"; undefined for
 * any other line.
 */
export function parseProgressLine(
  line: string,
): { submitted: number; accepted: number; failed: number; receipts: number } | undefined {
  const m = /^\d+s submitted (\d+) accepted (\d+) failed (\d+) receipts (\d+)\s*$/.exec(line);
  if (!m) return undefined;
  return { submitted: Number(m[1]), accepted: Number(m[2]), failed: Number(m[3]), receipts: Number(m[4]) };
}

/** Downsamples a series to at most `max` points (always keeping the last one), for reports. */
export function thin<T>(series: readonly T[], max: number): T[] {
  if (series.length <= max) return [...series];
  const step = series.length / max;
  const out: T[] = [];
  for (let i = 0; i < max - 1; i++) out.push(series[Math.floor(i * step)] as T);
  out.push(series[series.length - 1] as T);
  return out;
}
