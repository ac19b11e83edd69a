import { describe, expect, it } from 'vitest';
import { countsForDatabase, parseProcStat, parseProcStatus } from './procfs.js';

describe('/proc parsing', () => {
  it('reads CPU ticks from a stat line whose command holds spaces and parentheses', () => {
    const line =
      '4242 (node (smshub) x) S 4000 4242 4000 0 -1 4194560 9071 0 0 0 1234 567 89 10 20 0 11 0 1000 1300000000 30000 18446744073709551615';
    expect(parseProcStat(line)).toEqual({
      pid: 4242,
      comm: 'node (smshub) x',
      ppid: 4000,
      utime: 1234,
      stime: 567,
      cutime: 89,
      cstime: 10,
    });
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseProcStat('no parentheses here')).toThrow(/not a \/proc/);
    expect(() => parseProcStat('1 (x) S 2')).toThrow(/field 14 missing/);
  });

  it('reads peak and current resident set sizes from status', () => {
    const status =
      'Name:\tnode\nVmPeak:\t 1000000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    expect(parseProcStatus(status)).toEqual({ vmHwmKb: 204800, vmRssKb: 102400 });
    expect(parseProcStatus('Name:\tkthreadd\n')).toEqual({ vmHwmKb: 0, vmRssKb: 0 });
  });

  it("counts only this database's PostgreSQL backends and the shared auxiliary processes", () => {
    expect(countsForDatabase('postgres: smshub t_abc 127.0.0.1(57452) idle', 't_abc')).toBe(true);
    expect(countsForDatabase('postgres: smshub t_other 127.0.0.1(57466) INSERT', 't_abc')).toBe(false);
    expect(countsForDatabase('postgres: walwriter', 't_abc')).toBe(true);
    expect(countsForDatabase('postgres: autovacuum worker t_other', 't_abc')).toBe(false);
  });
});
