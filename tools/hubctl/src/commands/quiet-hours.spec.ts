import { describe, expect, it } from 'vitest';
import { parseWindow } from './quiet-hours.js';

describe('hubctl quiet-hours --window', () => {
  it('reads the zone, optional days and optional ranges', () => {
    expect(parseWindow('Europe/London mon,tue,FRI 08:00-12:00,13:00-21:00')).toEqual({
      timeZone: 'Europe/London',
      days: ['mon', 'tue', 'fri'],
      ranges: [
        { from: '08:00', to: '12:00' },
        { from: '13:00', to: '21:00' },
      ],
    });
    expect(parseWindow('  America/New_York  ')).toEqual({
      timeZone: 'America/New_York',
      days: [],
      ranges: [],
    });
  });

  it('refuses a malformed range as a usage error', () => {
    expect(() => parseWindow('UTC 8-21')).toThrow(/HH:MM-HH:MM/);
  });
});
