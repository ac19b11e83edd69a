// Wall-clock times in an IANA time zone. Receipt dates (SMPP 3.4 Appendix B) carry no zone: a supplier
// writes them in its own, which egress and dlr know per connector.
//
// Rule: a zone's offset is asked of ICU (Intl.DateTimeFormat, one formatter per zone: building one costs a
// millisecond or more). An offset is the same over a quarter of an hour unless a transition falls inside
// it, and no zone has two transitions within one: when the offsets at the first and the last second of a
// quarter agree, the whole quarter has it and it is remembered (receipts arrive in bursts about the same
// few minutes); otherwise the instant itself is asked. Exact either way. An unknown zone throws RangeError.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    if (formatters.size >= 256) formatters.clear();
    formatters.set(zone, f);
  }
  return f;
}

/** Offset of `zone` from UTC at `utcMs`, in ms (positive east of Greenwich), asked of ICU. */
function icuOffsetMs(zone: string, utcMs: number): number {
  const parts = formatter(zone).formatToParts(new Date(utcMs));
  const n = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

const QUARTER_MS = 15 * 60_000;
const offsets = new Map<string, number>();

/** Offset of `zone` from UTC at the instant `utcMs`, in ms (positive east of Greenwich). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const quarter = Math.floor(utcMs / QUARTER_MS);
  const key = `${zone} ${quarter}`;
  const known = offsets.get(key);
  if (known !== undefined) return known;
  const start = quarter * QUARTER_MS;
  const first = icuOffsetMs(zone, start);
  if (first !== icuOffsetMs(zone, start + QUARTER_MS - 1000)) return icuOffsetMs(zone, utcMs);
  if (offsets.size >= 4096) offsets.clear();
  offsets.set(key, first);
  return first;
}

/**
 * The instant of a wall-clock time in `zone`, the wall clock given as if it were UTC (`Date.UTC` of its
 * fields): the zone's offset subtracted, re-evaluated once at the candidate (transitions).
 */
export function instantOfWallClock(zone: string, wallMs: number): number {
  const guess = wallMs - zoneOffsetMs(zone, wallMs);
  return wallMs - zoneOffsetMs(zone, guess);
}
