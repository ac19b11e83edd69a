// The verdict of `npm run bench -- limits` (limits.ts): configured vs measured per limit. Pure.

export interface LimitFigure {
  name: string;
  /** e.g. "msg/s" or "msg per 60 s". */
  unit: string;
  configured: number;
  measured: number;
  /**
   * Also required: at least this share of the limit used (the customer's 90 %; half for the others, whose
   * limit is a ceiling: a run that carried nothing must not pass).
   */
  minUsed?: number;
  detail: string;
}

export interface LimitVerdict extends LimitFigure {
  ok: boolean;
  /** measured / configured. */
  used: number;
}

/** Each measured value at most 10 % above its limit, and at least `minUsed` of it where asked. */
export function judge(f: LimitFigure): LimitVerdict {
  const used = f.configured > 0 ? f.measured / f.configured : Number.POSITIVE_INFINITY;
  const ok = used <= 1.1 && (f.minUsed === undefined || used >= f.minUsed);
  return { ...f, ok, used };
}

export function formatVerdicts(vs: LimitVerdict[]): string {
  const rows = vs.map(
    (v) =>
      `| ${v.name} | ${v.configured} ${v.unit} | ${v.measured.toFixed(1)} ${v.unit} | ${(v.used * 100).toFixed(1)} % | ` +
      `${v.ok ? 'pass' : 'FAIL'} | ${v.detail} |`,
  );
  return [
    '| limit | configured | measured | used | verdict | how |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
