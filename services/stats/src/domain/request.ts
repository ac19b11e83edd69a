// Checks and defaults of StatsService requests (pure). A window is whole minutes (seconds truncated);
// at most 31 days at minute grain, 400 days when it and the step are whole hours (hour roll-ups); a
// series has at most 1,440 steps.

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

export const MAX_STEPS = 1_440;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
export const MAX_MINUTE_WINDOW_MS = 31 * DAY;
export const MAX_HOUR_WINDOW_MS = 400 * DAY;
/** Default steps, smallest first: the first that gives at most MAX_STEPS is taken. */
const NICE_STEPS_S = [60, 300, 900, 3_600, 21_600, 86_400];

export interface Window {
  start: Date;
  end: Date;
}

export function checkWindow(w: { startTime?: Date; endTime?: Date } | undefined): Window {
  if (!w?.startTime || !w.endTime)
    throw new RequestError('window.start_time and window.end_time are required');
  const start = new Date(Math.floor(w.startTime.getTime() / MINUTE) * MINUTE);
  const end = new Date(Math.floor(w.endTime.getTime() / MINUTE) * MINUTE);
  if (!(end.getTime() > start.getTime()))
    throw new RequestError('window.end_time must be at least a minute after window.start_time');
  const span = end.getTime() - start.getTime();
  const hourly = start.getTime() % HOUR === 0 && end.getTime() % HOUR === 0;
  const max = hourly ? MAX_HOUR_WINDOW_MS : MAX_MINUTE_WINDOW_MS;
  if (span > max)
    throw new RequestError(
      hourly
        ? 'the window is longer than 400 days'
        : 'the window is longer than 31 days (longer windows must start and end on whole hours)',
    );
  return { start, end };
}

/** The step in ms: the requested one (a multiple of 60 s), else the smallest nice one within MAX_STEPS. */
export function checkStep(w: Window, stepSeconds: number): number {
  const span = w.end.getTime() - w.start.getTime();
  if (stepSeconds === 0) {
    const s = NICE_STEPS_S.find((x) => span / (x * 1000) <= MAX_STEPS) ?? 86_400;
    return s * 1000;
  }
  if (stepSeconds % 60 !== 0) throw new RequestError('step_seconds must be a multiple of 60');
  const steps = Math.ceil(span / (stepSeconds * 1000));
  if (steps > MAX_STEPS)
    throw new RequestError(
      `${steps} steps: a series has at most ${MAX_STEPS} (use a step of at least ${Math.ceil(span / MAX_STEPS / MINUTE) * 60} s)`,
    );
  const spanIsHours = w.start.getTime() % HOUR === 0 && w.end.getTime() % HOUR === 0;
  if (span > MAX_MINUTE_WINDOW_MS && !(spanIsHours && stepSeconds % 3_600 === 0))
    throw new RequestError('a window longer than 31 days needs a step of whole hours');
  return stepSeconds * 1000;
}

/** Start of every step of a window. */
export function stepStarts(w: Window, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = w.start.getTime(); t < w.end.getTime(); t += stepMs) out.push(t);
  return out;
}

export function clampLimit(v: number, dflt: number, max: number, what: string): number {
  if (v === 0) return dflt;
  if (v > max) throw new RequestError(`${what} is at most ${max}`);
  return v;
}

const COUNTRY = /^[A-Z]{2}$/;
const MCC_MNC = /^\d{3}-\d{2,3}$/;

export interface NormalFilter {
  accountIds: string[];
  connectorIds: string[];
  countries: string[];
  mccMncs: string[];
  trafficTypes: number[];
}

function list(v: readonly string[] | undefined, what: string, check?: RegExp, up = false): string[] {
  const out = new Set<string>();
  for (const raw of v ?? []) {
    const s = up ? raw.trim().toUpperCase() : raw.trim();
    if (s.length > 200) throw new RequestError(`${what}: a value is longer than 200 characters`);
    if (check && s !== '' && !check.test(s)) throw new RequestError(`${what}: "${s}" is not valid`);
    out.add(s);
  }
  if (out.size > 1_000) throw new RequestError(`${what}: at most 1000 values`);
  return [...out];
}

export function normalFilter(
  f:
    | {
        accountIds?: string[];
        connectorIds?: string[];
        countries?: string[];
        mccMncs?: string[];
        trafficTypes?: number[];
      }
    | undefined,
): NormalFilter {
  const tt = [...new Set(f?.trafficTypes ?? [])];
  for (const t of tt)
    if (!(t >= 0 && t <= 3)) throw new RequestError(`traffic_types: ${t} is not a traffic type`);
  return {
    accountIds: list(f?.accountIds, 'account_ids'),
    connectorIds: list(f?.connectorIds, 'connector_ids'),
    countries: list(f?.countries, 'countries', COUNTRY, true),
    mccMncs: list(f?.mccMncs, 'mcc_mncs', MCC_MNC),
    trafficTypes: tt,
  };
}
