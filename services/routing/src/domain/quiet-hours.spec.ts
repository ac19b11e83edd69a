import { describe, expect, it } from 'vitest';
import { compileQuietHours, nextOpening, QuietHoursTable, quietHoursVerdict } from './quiet-hours.js';
import { compileTimeWindow, type TimeWindow } from './time-window.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const next = (w: TimeWindow | TimeWindow[], t: string) =>
  iso(nextOpening((Array.isArray(w) ? w : [w]).map(compileTimeWindow), at(t)));

describe('quiet hours: next opening', () => {
  const day = { timeZone: 'Europe/London', ranges: [{ from: '08:00', to: '21:00' }] };

  it('is now when a window is open, else the next start the same or the next day', () => {
    expect(next(day, '2026-07-06T10:15:30Z')).toBe('2026-07-06T10:15:30.000Z');
    // 22:30 BST -> 08:00 BST next day (07:00Z)
    expect(next(day, '2026-07-06T21:30:00Z')).toBe('2026-07-07T07:00:00.000Z');
    // 05:00 BST -> 08:00 BST the same day
    expect(next(day, '2026-07-06T04:00:00Z')).toBe('2026-07-06T07:00:00.000Z');
  });

  it('crosses midnight and weekends (days)', () => {
    const weekdays: TimeWindow = { ...day, days: ['mon', 'tue', 'wed', 'thu', 'fri'] };
    // Friday 2026-07-10 22:00 BST -> Monday 2026-07-13 08:00 BST
    expect(next(weekdays, '2026-07-10T21:00:00Z')).toBe('2026-07-13T07:00:00.000Z');
    // A window crossing midnight: Fri 22:00-02:00 is open on Saturday 01:00, closed on Saturday 03:00.
    const night: TimeWindow = { timeZone: 'UTC', days: ['fri'], ranges: [{ from: '22:00', to: '02:00' }] };
    expect(next(night, '2026-07-11T01:00:00Z')).toBe('2026-07-11T01:00:00.000Z');
    expect(next(night, '2026-07-11T03:00:00Z')).toBe('2026-07-17T22:00:00.000Z');
  });

  it('uses the local zone across DST changes', () => {
    // EU spring forward 2026-03-29: the day before 08:00 is 07:00Z (GMT), that day 07:00Z is 08:00 BST.
    expect(next(day, '2026-03-28T22:00:00Z')).toBe('2026-03-29T07:00:00.000Z');
    expect(next(day, '2026-03-27T22:00:00Z')).toBe('2026-03-28T08:00:00.000Z');
    // Autumn back 2026-10-25: 08:00 GMT = 08:00Z.
    expect(next(day, '2026-10-24T22:00:00Z')).toBe('2026-10-25T08:00:00.000Z');
    // A window opening at 01:30 local, inside the spring gap (01:00-02:00 GMT->BST), opens at the transition.
    const gap: TimeWindow = { timeZone: 'Europe/London', ranges: [{ from: '01:30', to: '05:00' }] };
    expect(next(gap, '2026-03-29T00:30:00Z')).toBe('2026-03-29T01:00:00.000Z');
  });

  it('takes the earliest of several windows and zones', () => {
    const a: TimeWindow = { timeZone: 'America/New_York', ranges: [{ from: '09:00', to: '20:00' }] };
    const b: TimeWindow = { timeZone: 'UTC', ranges: [{ from: '12:00', to: '13:00' }] };
    // 11:00Z = 07:00 EDT: b opens at 12:00Z, a at 13:00Z.
    expect(next([a, b], '2026-07-06T11:00:00Z')).toBe('2026-07-06T12:00:00.000Z');
  });
});

describe('quiet hours: verdict', () => {
  const acct = '11111111-1111-1111-1111-111111111111';
  const table = new QuietHoursTable([
    compileQuietHours({
      country: 'GB',
      accountId: '',
      allowed: [{ timeZone: 'Europe/London', ranges: [{ from: '08:00', to: '21:00' }] }],
    }),
    compileQuietHours({
      country: 'GB',
      accountId: acct,
      allowed: [{ timeZone: 'Europe/London', ranges: [{ from: '00:00', to: '00:00' }] }],
    }),
  ]);
  const night = at('2026-07-06T22:00:00Z'); // 23:00 BST

  it('holds until the window, sends when open, released or without an entry', () => {
    expect(quietHoursVerdict(table, 'GB', 'other', night, false, undefined)).toEqual({
      kind: 'hold',
      until: at('2026-07-07T07:00:00Z'),
    });
    expect(quietHoursVerdict(table, 'GB', 'other', night, true, undefined)).toEqual({ kind: 'send' });
    expect(quietHoursVerdict(table, 'FR', 'other', night, false, undefined)).toEqual({ kind: 'send' });
    // The account's entry overrides the country's.
    expect(quietHoursVerdict(table, 'GB', acct, night, false, undefined)).toEqual({ kind: 'send' });
  });

  it('expires a message whose validity ends before the window opens', () => {
    expect(quietHoursVerdict(table, 'GB', 'other', night, false, at('2026-07-07T06:59:00Z'))).toEqual({
      kind: 'expired',
      opensAt: at('2026-07-07T07:00:00Z'),
    });
    expect(quietHoursVerdict(table, 'GB', 'other', night, false, at('2026-07-07T08:00:00Z')).kind).toBe(
      'hold',
    );
  });

  it('refuses bad entries clearly', () => {
    expect(() => compileQuietHours({ country: 'gb', accountId: '', allowed: [{ timeZone: 'UTC' }] })).toThrow(
      /alpha-2/,
    );
    expect(() => compileQuietHours({ country: 'GB', accountId: '', allowed: [] })).toThrow(/at least one/);
    expect(() =>
      compileQuietHours({ country: 'GB', accountId: '', allowed: [{ timeZone: 'Mars/Base' }] }),
    ).toThrow();
  });
});
