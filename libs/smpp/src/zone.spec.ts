import { describe, expect, it } from 'vitest';
import { instantOfWallClock, zoneOffsetMs } from './zone.js';

describe('instantOfWallClock', () => {
  it('reads a wall-clock time in a zone', () => {
    expect(instantOfWallClock('Europe/Berlin', Date.parse('2026-07-01T12:00:00Z'))).toBe(
      Date.parse('2026-07-01T10:00:00Z'),
    );
    expect(instantOfWallClock('Asia/Kathmandu', Date.parse('2026-01-01T12:00:00Z'))).toBe(
      Date.parse('2026-01-01T06:15:00Z'),
    );
    expect(zoneOffsetMs('America/New_York', Date.parse('2026-01-01T12:00:00Z'))).toBe(-5 * 3600_000);
    expect(() => instantOfWallClock('Not/AZone', 0)).toThrow(RangeError);
  });

  // The offsets are remembered per quarter of an hour: the same answers as asking ICU every time, around
  // transitions too (whole-hour, half-hour and 45-minute zones, both directions, the southern hemisphere).
  it('gives what ICU gives for every instant around DST transitions', () => {
    const reference = (zone: string, wall: Date): Date => {
      const f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
      const offset = (utcMs: number): number => {
        const parts = f.formatToParts(new Date(utcMs));
        const n = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
        return (
          Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) -
          Math.floor(utcMs / 1000) * 1000
        );
      };
      const guess = wall.getTime() - offset(wall.getTime());
      return new Date(wall.getTime() - offset(guess));
    };
    const cases: [string, string][] = [
      ['Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['America/New_York', '2026-03-08T07:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
      ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
      ['Asia/Kathmandu', '2026-06-01T00:00:00Z'],
      ['America/Sao_Paulo', '2026-01-01T00:00:00Z'],
      // a transition that is not on a quarter of an hour (-0:44:30 to UTC, 1972)
      ['Africa/Monrovia', '1972-01-07T00:45:00Z'],
    ];
    let checked = 0;
    for (const [zone, around] of cases) {
      const t0 = Date.parse(around);
      // every 7 minutes 13 seconds over 6 hours either side, in an order that fills the cache unevenly
      for (let d = -6 * 3600_000; d <= 6 * 3600_000; d += 433_000) {
        for (const wall of [new Date(t0 + d), new Date(t0 - d)]) {
          expect(new Date(instantOfWallClock(zone, wall.getTime())), `${zone} ${wall.toISOString()}`).toEqual(
            reference(zone, wall),
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});
