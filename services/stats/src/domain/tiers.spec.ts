import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS, windowParts, type WindowPart } from './tiers.js';

const H = HOUR_MS;
const M = MINUTE_MS;
const day = Date.UTC(2026, 11, 6);

/** Net weight of each minute of [from, to) under the parts: must be 1 inside the window, 0 outside. */
function coverage(parts: WindowPart[], from: number, to: number): Map<number, number> {
  const w = new Map<number, number>();
  for (let t = from; t < to; t += M) w.set(t, 0);
  for (const p of parts) for (let t = p.start; t < p.end; t += M) w.set(t, (w.get(t) ?? 0) + p.sign);
  return w;
}

function expectExact(start: number, end: number, now: number): WindowPart[] {
  const parts = windowParts(start, end, now);
  const wrong: string[] = [];
  for (const [t, n] of coverage(parts, start - 2 * H, end + 2 * H))
    if (n !== (t >= start && t < end ? 1 : 0)) wrong.push(`${new Date(t).toISOString()} x${n}`);
  expect(wrong).toEqual([]);
  return parts;
}

describe('window parts', () => {
  it('answers whole hours from the hour rows alone', () => {
    expect(windowParts(day, day + 24 * H, day + 30 * H)).toEqual([
      { start: day, end: day + 24 * H, grain: 'hour', sign: 1 },
    ]);
  });

  it('covers every minute of any window exactly once', () => {
    for (const [s, e] of [
      [7, 24 * 60 + 7],
      [59, 24 * 60 + 1],
      [1, 59],
      [30, 31],
      [5, 125],
      [0, 90],
      [45, 24 * 60],
    ] as const)
      for (const nowMin of [e, e + 30, e + 600]) expectExact(day + s * M, day + e * M, day + nowMin * M - M);
  });

  it('reads a rolling last 24 h as hours plus at most 30 minute rows at the start and none after now', () => {
    for (let m = 0; m < 60; m++) {
      const now = day + 24 * H + m * M; // the current minute
      const parts = expectExact(now + M - 24 * H, now + M, now);
      const minuteRows = parts
        .filter((p) => p.grain === 'minute')
        .reduce((n, p) => n + (Math.min(p.end, now + M) - Math.min(p.start, now + M)) / M, 0);
      expect(minuteRows).toBeLessThanOrEqual(30);
      expect(parts.filter((p) => p.grain === 'hour')).toHaveLength(1);
    }
  });

  it('answers a short window from its minutes', () => {
    expect(windowParts(day + 10 * M, day + 20 * M, day + H)).toEqual([
      { start: day + 10 * M, end: day + 20 * M, grain: 'minute', sign: 1 },
    ]);
  });

  it('answers most of one hour as the hour minus the minutes outside', () => {
    const parts = expectExact(day + 2 * M, day + 58 * M, day + 3 * H);
    expect(parts).toContainEqual({ start: day, end: day + H, grain: 'hour', sign: 1 });
  });
});
