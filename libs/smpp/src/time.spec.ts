import { describe, expect, it } from 'vitest';
import { CommandStatus } from './status.js';
import {
  formatRelativeSmppTime,
  formatSmppTime,
  parseScheduleDeliveryTime,
  parseValidityPeriod,
} from './time.js';

describe('SMPP time', () => {
  it('treats an empty value as not set', () => {
    expect(parseScheduleDeliveryTime('')).toEqual({ ok: true, date: undefined, relative: false });
  });

  it('parses absolute times with quarter-hour offsets', () => {
    const utc = parseScheduleDeliveryTime('240315123000000+');
    expect(utc.ok && utc.date?.toISOString()).toBe('2024-03-15T12:30:00.000Z');
    const plus = parseScheduleDeliveryTime('240315123045408+'); // local time 8 quarter hours (2 h) ahead of UTC
    expect(plus.ok && plus.date?.toISOString()).toBe('2024-03-15T10:30:45.400Z');
    const minus = parseScheduleDeliveryTime('240315123000002-'); // 30 min behind UTC
    expect(minus.ok && minus.date?.toISOString()).toBe('2024-03-15T13:00:00.000Z');
  });

  it('parses relative times against now', () => {
    const now = new Date('2024-01-31T10:00:00Z');
    const r = parseValidityPeriod('000001020304000R', now);
    expect(r).toMatchObject({ ok: true, relative: true });
    expect(r.ok && r.date?.toISOString()).toBe('2024-02-01T12:03:04.000Z');
  });

  it('returns the caller-specific status on bad input', () => {
    expect(parseScheduleDeliveryTime('2403151230')).toMatchObject({
      ok: false,
      status: CommandStatus.ESME_RINVSCHED,
    });
    expect(parseValidityPeriod('241315123000000+')).toMatchObject({
      ok: false,
      status: CommandStatus.ESME_RINVEXPIRY,
    });
    expect(parseValidityPeriod('240230123000000+')).toMatchObject({ ok: false }); // 30 February
    expect(parseValidityPeriod('240315123000049+')).toMatchObject({ ok: false }); // offset over 48
    expect(parseValidityPeriod('000001000000100R')).toMatchObject({ ok: false });
  });

  it('formats absolute and relative times that parse back', () => {
    const d = new Date('2025-06-07T08:09:10.300Z');
    expect(formatSmppTime(d)).toBe('250607080910300+');
    const back = parseScheduleDeliveryTime(formatSmppTime(d));
    expect(back.ok && back.date?.getTime()).toBe(d.getTime());
    expect(formatRelativeSmppTime(2 * 86400 + 3661)).toBe('000002010101000R');
  });
});
