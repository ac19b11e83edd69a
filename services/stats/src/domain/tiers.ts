// Which roll-up tier answers which part of a whole-window query (pure). Hour rows are the exact sums of
// their minute rows (the writer adds every contribution to both in one transaction), so a window that
// is not whole hours is the whole hours it covers plus, at each ragged edge, either
//   - the minutes from the edge to the hour boundary (added), or
//   - the edge's whole hour, minus the minutes of that hour outside the window (subtracted),
// whichever reads fewer rows. The edges then cost at most 30 minute rows each instead of up to 59, and a
// window ending now costs almost nothing at its end: the minutes after now hold no data yet. When no
// mix of hours beats the minutes (a short window), the minutes answer alone.
//
// Subtracting needs the edge's whole hour of minute rows: retention deletes minute rows by whole hours
// (RollupStore.purge), so an hour whose first minute is kept is kept whole.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export interface WindowPart {
  start: number;
  end: number;
  grain: 'minute' | 'hour';
  /** 1: add these rows; -1: subtract them. */
  sign: 1 | -1;
}

const floorH = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;
const ceilH = (t: number) => Math.ceil(t / HOUR_MS) * HOUR_MS;

/**
 * The parts answering [start, end) (whole minutes, ms). `now` (ms) only prices the choice: minutes
 * after the current one are expected to be empty. The answer is the same whichever parts are chosen.
 */
export function windowParts(start: number, end: number, now: number): WindowPart[] {
  const live = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const minutes = (a: number, b: number) => Math.max(0, Math.min(b, live) - a) / MINUTE_MS;
  let best: { cost: number; parts: WindowPart[] } = {
    cost: minutes(start, end),
    parts: [{ start, end, grain: 'minute', sign: 1 }],
  };
  const leads = start === floorH(start) ? (['none'] as const) : (['add', 'sub'] as const);
  const trails = end === floorH(end) ? (['none'] as const) : (['add', 'sub'] as const);
  for (const lead of leads) {
    for (const trail of trails) {
      const hs = lead === 'add' ? ceilH(start) : floorH(start);
      const he = trail === 'add' ? floorH(end) : ceilH(end);
      if (he <= hs) continue;
      const parts: WindowPart[] = [{ start: hs, end: he, grain: 'hour', sign: 1 }];
      let cost = (he - hs) / HOUR_MS;
      if (lead === 'add') parts.push({ start, end: hs, grain: 'minute', sign: 1 });
      if (lead === 'sub') parts.push({ start: hs, end: start, grain: 'minute', sign: -1 });
      if (trail === 'add') parts.push({ start: he, end, grain: 'minute', sign: 1 });
      if (trail === 'sub') parts.push({ start: end, end: he, grain: 'minute', sign: -1 });
      for (const p of parts) if (p.grain === 'minute') cost += minutes(p.start, p.end);
      if (cost < best.cost) best = { cost, parts };
    }
  }
  return best.parts;
}
