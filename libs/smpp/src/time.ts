import { CommandStatus } from './status.js';

/**
 * SMPP time format (SMPP 3.4 section 7.1.1) used by schedule_delivery_time and validity_period:
 * absolute `YYMMDDhhmmsstnnp` (t tenths of a second, nn quarter-hours from UTC, p '+' or '-') and relative
 * `YYMMDDhhmmss000R`. An empty string means "not set" (immediate delivery / SMSC default validity).
 */
export type SmppTimeResult =
  { ok: true; date: Date | undefined; relative: boolean } | { ok: false; status: number; reason: string };

/**
 * Parse an SMPP time. `now` anchors relative times. `errorStatus` is returned on bad input
 * (ESME_RINVSCHED for schedule_delivery_time, ESME_RINVEXPIRY for validity_period). Never throws.
 */
export function parseSmppTime(
  value: string | undefined,
  errorStatus: number,
  now: Date = new Date(),
): SmppTimeResult {
  if (value === undefined || value === '') return { ok: true, date: undefined, relative: false };
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d)(\d{2})([+\-R])$/.exec(value);
  if (!m) return { ok: false, status: errorStatus, reason: `not in SMPP time format: ${value.slice(0, 20)}` };
  const [yy, mo, dd, hh, mi, ss, t, nn] = m.slice(1, 9).map(Number) as number[];
  const p = m[9] as string;
  if (p === 'R') {
    // Relative: each field is an amount to add; tenths and offset are zero by the spec.
    if (t !== 0 || nn !== 0)
      return { ok: false, status: errorStatus, reason: 'relative time must end in 000R' };
    // Fields are amounts to add, so e.g. 48 hours is as valid as 2 days.
    const d = new Date(now.getTime());
    d.setUTCFullYear(d.getUTCFullYear() + yy!, d.getUTCMonth() + mo!, d.getUTCDate() + dd!);
    d.setUTCHours(d.getUTCHours() + hh!, d.getUTCMinutes() + mi!, d.getUTCSeconds() + ss!);
    return { ok: true, date: d, relative: true };
  }
  if (mo! < 1 || mo! > 12 || dd! < 1 || dd! > 31 || hh! > 23 || mi! > 59 || ss! > 59 || nn! > 48) {
    return { ok: false, status: errorStatus, reason: `field out of range: ${value}` };
  }
  const localMs = Date.UTC(2000 + yy!, mo! - 1, dd!, hh!, mi!, ss!, t! * 100);
  const check = new Date(Date.UTC(2000 + yy!, mo! - 1, dd!));
  if (check.getUTCDate() !== dd) return { ok: false, status: errorStatus, reason: `no such date: ${value}` };
  // The time is local time `nn` quarter hours ahead of (+) or behind (-) UTC.
  const offsetMs = nn! * 15 * 60_000 * (p === '+' ? 1 : -1);
  return { ok: true, date: new Date(localMs - offsetMs), relative: false };
}

export const parseScheduleDeliveryTime = (v: string | undefined, now?: Date): SmppTimeResult =>
  parseSmppTime(v, CommandStatus.ESME_RINVSCHED, now);
export const parseValidityPeriod = (v: string | undefined, now?: Date): SmppTimeResult =>
  parseSmppTime(v, CommandStatus.ESME_RINVEXPIRY, now);

function p2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Date -> absolute SMPP time in UTC (`...t00+`). */
export function formatSmppTime(d: Date): string {
  return (
    p2(d.getUTCFullYear() % 100) +
    p2(d.getUTCMonth() + 1) +
    p2(d.getUTCDate()) +
    p2(d.getUTCHours()) +
    p2(d.getUTCMinutes()) +
    p2(d.getUTCSeconds()) +
    String(Math.floor(d.getUTCMilliseconds() / 100)) +
    '00+'
  );
}

/** Seconds -> relative SMPP time (`0000DDhhmmss000R`); days beyond 99 are not representable and throw. */
export function formatRelativeSmppTime(totalSeconds: number): string {
  if (!Number.isInteger(totalSeconds) || totalSeconds < 0)
    throw new RangeError('seconds must be a non-negative integer');
  const days = Math.floor(totalSeconds / 86400);
  if (days > 99) throw new RangeError('relative time over 99 days');
  const rest = totalSeconds % 86400;
  return `0000${p2(days)}${p2(Math.floor(rest / 3600))}${p2(Math.floor((rest % 3600) / 60))}${p2(rest % 60)}000R`;
}
