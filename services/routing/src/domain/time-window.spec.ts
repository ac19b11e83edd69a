import { describe, expect, it } from 'vitest';
import { compileTimeWindow, inTimeWindow, localMinute } from './time-window.js';

const at = (iso: string) => Date.parse(iso);

describe('time windows', () => {
  it('computes local weekday and minute in the given zone, across DST', () => {
    // 2026-03-29 is the EU DST switch; 00:30Z is 01:30 CET, 01:30Z is 03:30 CEST.
    expect(localMinute(at('2026-03-29T00:30:00Z'), 'Europe/Berlin')).toEqual({ dow: 0, minute: 90 });
    expect(localMinute(at('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toEqual({ dow: 0, minute: 210 });
    expect(localMinute(at('2026-03-29T01:30:00Z'), 'Asia/Kolkata')).toEqual({ dow: 0, minute: 7 * 60 });
  });

  it('matches office hours on weekdays in the zone, [from, to)', () => {
    const w = compileTimeWindow({
      timeZone: 'Europe/London',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      ranges: [{ from: '09:00', to: '17:30' }],
    });
    // Monday 2026-07-06, BST = UTC+1
    expect(inTimeWindow(w, at('2026-07-06T08:00:00Z'))).toBe(true); // 09:00 local
    expect(inTimeWindow(w, at('2026-07-06T07:59:00Z'))).toBe(false); // 08:59
    expect(inTimeWindow(w, at('2026-07-06T16:30:00Z'))).toBe(false); // 17:30 excluded
    expect(inTimeWindow(w, at('2026-07-04T10:00:00Z'))).toBe(false); // Saturday
  });

  it('handles ranges that cross midnight on the day they start', () => {
    const w = compileTimeWindow({ timeZone: 'UTC', days: ['fri'], ranges: [{ from: '22:00', to: '06:00' }] });
    expect(inTimeWindow(w, at('2026-07-10T23:00:00Z'))).toBe(true); // Fri 23:00
    expect(inTimeWindow(w, at('2026-07-11T05:59:00Z'))).toBe(true); // Sat 05:59
    expect(inTimeWindow(w, at('2026-07-10T05:00:00Z'))).toBe(false); // Fri 05:00
  });

  it('rejects bad zones and times', () => {
    expect(() => compileTimeWindow({ timeZone: 'Mars/Olympus' })).toThrow(RangeError);
    expect(() => compileTimeWindow({ timeZone: 'UTC', ranges: [{ from: '24:00', to: '01:00' }] })).toThrow(
      RangeError,
    );
  });
});
