import { describe, expect, it } from 'vitest';
import { checkStep, checkWindow, normalFilter, RequestError, stepStarts } from './request.js';

const at = (iso: string) => new Date(iso);

describe('stats requests', () => {
  it('truncates a window to minutes and refuses an empty or too long one', () => {
    const w = checkWindow({ startTime: at('2026-01-01T10:00:30Z'), endTime: at('2026-01-02T10:00:59Z') });
    expect(w.start.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-01-02T10:00:00.000Z');
    expect(() =>
      checkWindow({ startTime: at('2026-01-01T10:00:30Z'), endTime: at('2026-01-01T10:00:50Z') }),
    ).toThrow(RequestError);
    expect(() => checkWindow(undefined)).toThrow(/required/);
    expect(() =>
      checkWindow({ startTime: at('2026-01-01T10:01:00Z'), endTime: at('2026-03-01T10:00:00Z') }),
    ).toThrow(/31 days/);
    expect(
      checkWindow({ startTime: at('2026-01-01T10:00:00Z'), endTime: at('2026-06-01T10:00:00Z') }),
    ).toBeTruthy();
  });

  it('gives 24 h one-minute steps by default and refuses more than 1,440 steps', () => {
    const day = checkWindow({ startTime: at('2026-01-01T00:00:00Z'), endTime: at('2026-01-02T00:00:00Z') });
    expect(checkStep(day, 0)).toBe(60_000);
    expect(stepStarts(day, 60_000)).toHaveLength(1_440);
    const week = checkWindow({ startTime: at('2026-01-01T00:00:00Z'), endTime: at('2026-01-08T00:00:00Z') });
    expect(checkStep(week, 0)).toBe(900_000);
    expect(() => checkStep(week, 60)).toThrow(/at most 1440/);
    expect(() => checkStep(day, 90)).toThrow(/multiple of 60/);
  });

  it('normalises filters and refuses bad values', () => {
    const f = normalFilter({ countries: ['gb', 'GB'], mccMncs: ['234-15'], trafficTypes: [1, 1] });
    expect(f.countries).toEqual(['GB']);
    expect(f.trafficTypes).toEqual([1]);
    expect(() => normalFilter({ countries: ['GBR'] })).toThrow(/not valid/);
    expect(() => normalFilter({ mccMncs: ['23415'] })).toThrow(/not valid/);
    expect(() => normalFilter({ trafficTypes: [9] })).toThrow(/traffic type/);
  });
});
