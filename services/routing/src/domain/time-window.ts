// Time windows: days of the week plus HH:MM ranges in an IANA time zone, evaluated with Intl (no tz lib).
//
// A range is [from, to): "09:00"-"17:30" includes 09:00 and excludes 17:30. A range whose `to` is not after
// its `from` crosses midnight ("22:00"-"06:00"); its part after midnight belongs to the day it started on,
// so days ['fri'] with 22:00-06:00 matches Friday 23:00 and Saturday 05:00 but not Friday 05:00.
// "00:00"-"00:00" means the whole day.
//
// Local time is computed once per (zone, minute) and cached: every current UTC offset is a whole number of
// minutes, so all instants in one UTC minute have the same local minute.

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface TimeWindow {
  timeZone: string;
  /** Days the window is open; empty or missing means every day. */
  days?: Weekday[];
  /** HH:MM ranges; empty or missing means the whole day. */
  ranges?: Array<{ from: string; to: string }>;
}

const WEEKDAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface LocalMinute {
  /** 0 = Sunday */
  dow: number;
  /** minutes since local midnight */
  minute: number;
}

interface CompiledRange {
  from: number;
  to: number;
}

export interface CompiledTimeWindow {
  timeZone: string;
  /** bit i set = weekday i (0 = Sunday) open */
  dayMask: number;
  ranges: CompiledRange[];
}

function parseHhMm(s: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  if (!m) throw new RangeError(`time must be HH:MM, got ${JSON.stringify(s)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function compileTimeWindow(w: TimeWindow): CompiledTimeWindow {
  // Validates the zone (throws RangeError for unknown zones).
  new Intl.DateTimeFormat('en-US', { timeZone: w.timeZone });
  let dayMask = 0;
  for (const d of w.days && w.days.length > 0 ? w.days : WEEKDAYS) {
    const i = WEEKDAYS.indexOf(d);
    if (i < 0) throw new RangeError(`unknown weekday ${JSON.stringify(d)}`);
    dayMask |= 1 << i;
  }
  const ranges = (w.ranges && w.ranges.length > 0 ? w.ranges : [{ from: '00:00', to: '00:00' }]).map((r) => ({
    from: parseHhMm(r.from),
    to: parseHhMm(r.to),
  }));
  return { timeZone: w.timeZone, dayMask, ranges };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const lastMinute = new Map<string, { utcMinute: number; local: LocalMinute }>();
const WEEKDAY_SHORT: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function localMinute(epochMs: number, timeZone: string): LocalMinute {
  const utcMinute = Math.floor(epochMs / 60_000);
  const cached = lastMinute.get(timeZone);
  if (cached && cached.utcMinute === utcMinute) return cached.local;
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  let dow = 0;
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(utcMinute * 60_000)) {
    if (p.type === 'weekday') dow = WEEKDAY_SHORT[p.value] ?? 0;
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  const local = { dow, minute: hour * 60 + minute };
  lastMinute.set(timeZone, { utcMinute, local });
  return local;
}

export function inTimeWindow(w: CompiledTimeWindow, epochMs: number): boolean {
  const { dow, minute } = localMinute(epochMs, w.timeZone);
  const today = (w.dayMask & (1 << dow)) !== 0;
  const yesterday = (w.dayMask & (1 << ((dow + 6) % 7))) !== 0;
  for (const r of w.ranges) {
    if (r.to > r.from) {
      if (today && minute >= r.from && minute < r.to) return true;
    } else if (r.to === r.from) {
      if (today) return true;
    } else {
      if (today && minute >= r.from) return true;
      if (yesterday && minute < r.to) return true;
    }
  }
  return false;
}
