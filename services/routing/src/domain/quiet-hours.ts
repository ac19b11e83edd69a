// Quiet hours: the windows in which a destination country (optionally one account's traffic to it) may be
// sent to, in the recipient's local time zone. Outside them a message is held until the next window opens
// (services/scheduler releases it) instead of being routed, unless its validity ends first (EXPIRED).
//
// Pure: no I/O. The windows are routing's TimeWindow (days + HH:MM ranges + IANA zone, time-window.ts);
// an entry of a country with several zones names the zone its windows are read in.

import { compileTimeWindow, inTimeWindow, type CompiledTimeWindow, type TimeWindow } from './time-window.js';

export interface QuietHoursEntry {
  /** ISO 3166-1 alpha-2 destination country ("GB"). */
  country: string;
  /** Only this account's traffic; "" = every account (an account's entry overrides the country's). */
  accountId: string;
  /** The allowed windows; a message is sendable when any of them is open. Never empty. */
  allowed: TimeWindow[];
}

export interface CompiledQuietHours {
  country: string;
  accountId: string;
  allowed: CompiledTimeWindow[];
}

export function compileQuietHours(e: QuietHoursEntry): CompiledQuietHours {
  if (!/^[A-Z]{2}$/.test(e.country))
    throw new RangeError(`country must be ISO 3166-1 alpha-2, got ${e.country}`);
  if (e.allowed.length === 0) throw new RangeError('quiet hours need at least one allowed window');
  return { country: e.country, accountId: e.accountId, allowed: e.allowed.map(compileTimeWindow) };
}

interface LocalParts {
  y: number;
  mo: number;
  d: number;
  minute: number;
}

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function localParts(epochMs: number, timeZone: string): LocalParts {
  let f = partFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    partFormatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(epochMs)) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year!, mo: p.month!, d: p.day!, minute: p.hour! * 60 + p.minute! };
}

/** UTC offset of `timeZone` at `epochMs`, ms (local - UTC). */
function offsetAt(epochMs: number, timeZone: string): number {
  const at = Math.floor(epochMs / 60_000) * 60_000;
  const l = localParts(at, timeZone);
  return Date.UTC(l.y, l.mo - 1, l.d, 0, l.minute) - at;
}

/** The instant of local wall time (y, mo, d, minute) in `timeZone` (in a DST gap: somewhere after it). */
function localToUtc(y: number, mo: number, d: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(y, mo - 1, d, 0, minute);
  const guess = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(guess, timeZone);
}

function openAt(windows: readonly CompiledTimeWindow[], epochMs: number): boolean {
  for (const w of windows) if (inTimeWindow(w, epochMs)) return true;
  return false;
}

/**
 * The first instant at or after `epochMs` at which one of `windows` is open: `epochMs` itself when one is
 * open now, else the start of the next window (to the minute, DST transitions included); undefined when
 * none opens within 8 days (cannot happen for a valid window).
 */
export function nextOpening(windows: readonly CompiledTimeWindow[], epochMs: number): number | undefined {
  if (openAt(windows, epochMs)) return epochMs;
  let best: number | undefined;
  for (const w of windows) {
    const today = localParts(epochMs, w.timeZone);
    for (let day = 0; day <= 8; day++) {
      // Local calendar day `day` days after today (Date.UTC normalises the day overflow).
      const date = new Date(Date.UTC(today.y, today.mo - 1, today.d + day));
      if ((w.dayMask & (1 << date.getUTCDay())) === 0) continue;
      for (const r of w.ranges) {
        const c = localToUtc(
          date.getUTCFullYear(),
          date.getUTCMonth() + 1,
          date.getUTCDate(),
          r.from,
          w.timeZone,
        );
        if (c < epochMs || (best !== undefined && c >= best) || !inTimeWindow(w, c)) continue;
        best = c;
      }
    }
  }
  if (best === undefined) return undefined;
  // A window opening inside a DST gap opens at the transition: step back while still open (bounded).
  for (let i = 0; i < 120 && best - 60_000 >= epochMs && openAt(windows, best - 60_000); i++) best -= 60_000;
  return best;
}

/** In memory: the entries by country, and by account within a country; lookups are two Map reads. */
export class QuietHoursTable {
  private readonly byCountry = new Map<
    string,
    { all?: CompiledQuietHours; accounts: Map<string, CompiledQuietHours> }
  >();

  constructor(entries: readonly CompiledQuietHours[] = []) {
    for (const e of entries) {
      let c = this.byCountry.get(e.country);
      if (!c) this.byCountry.set(e.country, (c = { accounts: new Map() }));
      if (e.accountId === '') c.all = e;
      else c.accounts.set(e.accountId, e);
    }
  }

  get size(): number {
    let n = 0;
    for (const c of this.byCountry.values()) n += c.accounts.size + (c.all ? 1 : 0);
    return n;
  }

  /** The entry in force for `accountId`'s traffic to `country`: the account's, else the country's. */
  lookup(country: string, accountId: string): CompiledQuietHours | undefined {
    const c = this.byCountry.get(country);
    return c ? (c.accounts.get(accountId) ?? c.all) : undefined;
  }
}

export type QuietHoursVerdict =
  { kind: 'send' } | { kind: 'hold'; until: number } | { kind: 'expired'; opensAt: number | undefined };

/**
 * What to do with a message to `country` from `accountId` at `now`: send it (no entry, a window is open,
 * or the message was already released by the scheduler), hold it until the next window opens, or expire
 * it when its validity (`validUntil`, ms; undefined = none) ends before that.
 */
export function quietHoursVerdict(
  table: QuietHoursTable,
  country: string,
  accountId: string,
  now: number,
  released: boolean,
  validUntil: number | undefined,
): QuietHoursVerdict {
  if (released) return { kind: 'send' };
  const e = table.lookup(country, accountId);
  if (!e) return { kind: 'send' };
  const opens = nextOpening(e.allowed, now);
  if (opens === now) return { kind: 'send' };
  if (opens === undefined || (validUntil !== undefined && validUntil <= opens))
    return { kind: 'expired', opensAt: opens };
  return { kind: 'hold', until: opens };
}
