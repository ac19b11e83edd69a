// CPU time and memory of processes from Linux's /proc: utime + stime from /proc/<pid>/stat (clock ticks),
// VmHWM (peak resident set) and VmRSS from /proc/<pid>/status.
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the clock tick of /proc/<pid>/stat times. 100 on every mainstream Linux build. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** User and system CPU of the process itself, in clock ticks. */
  utime: number;
  stime: number;
  /** User and system CPU of its waited-for (exited) children, in clock ticks. */
  cutime: number;
  cstime: number;
}

/**
 * Parses the text of /proc/<pid>/stat. The command name is in parentheses and may itself hold spaces or
 * parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('not a /proc/<pid>/stat line');
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); utime is field 14, so rest[11].
  const field = (n: number): number => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`field ${n} missing in /proc/<pid>/stat`);
    return v;
  };
  return {
    pid,
    comm: text.slice(open + 1, close),
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
}

export interface ProcMemory {
  /** Peak resident set size, KiB. */
  vmHwmKb: number;
  /** Current resident set size, KiB. */
  vmRssKb: number;
}

/** Parses VmHWM and VmRSS (KiB) from the text of /proc/<pid>/status; 0 when a line is absent. */
export function parseProcStatus(text: string): ProcMemory {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { vmHwmKb: kb('VmHWM'), vmRssKb: kb('VmRSS') };
}

export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone
  }
}

export function readProcMemory(pid: number): ProcMemory | undefined {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Pids whose parent is `ppid` (one pass over /proc). */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readProcStat(Number(name));
    if (s && s.ppid === ppid) out.push(s.pid);
  }
  return out;
}

/**
 * A process measured as a whole: its own CPU plus, when `withChildren`, its current children's and what its
 * exited children used (PostgreSQL: the postmaster, its backends and auxiliary processes).
 */
export interface Watched {
  name: string;
  pid: number;
  withChildren?: boolean;
  /**
   * PostgreSQL shared with other users: count only the backends of this database (their process title is
   * `postgres: <user> <database> <host>(<port>) <state>`) plus the auxiliary processes (checkpointer, WAL
   * writer, ...), and not what exited children used.
   */
  onlyDatabase?: string;
}

/** Whether a PostgreSQL child process (by its title) belongs to the measurement of `database`. */
export function countsForDatabase(title: string, database: string): boolean {
  const backend = /^postgres: \S+ (\S+) \S+\(\d+\)/.exec(title);
  if (backend) return backend[1] === database;
  const worker = /^postgres: autovacuum worker (\S+)/.exec(title);
  return worker ? worker[1] === database : true;
}

function processTitle(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

function measuredChildren(w: Watched): number[] {
  const kids = childPids(w.pid);
  return w.onlyDatabase
    ? kids.filter((c) => countsForDatabase(processTitle(c), w.onlyDatabase as string))
    : kids;
}

/** CPU seconds a watched process (tree) has used so far; undefined when it is gone. */
export function cpuSeconds(w: Watched): number | undefined {
  const s = readProcStat(w.pid);
  if (!s) return undefined;
  let ticks = s.utime + s.stime;
  if (w.withChildren) {
    if (!w.onlyDatabase) ticks += s.cutime + s.cstime;
    for (const c of measuredChildren(w)) {
      const cs = readProcStat(c);
      if (cs) ticks += cs.utime + cs.stime;
    }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** A measured child of a watched process tree (a PostgreSQL backend or auxiliary process): CPU so far. */
export interface ChildCpu {
  pid: number;
  title: string;
  seconds: number;
}

/** The CPU each measured child of `w` has used so far (children that exited are not in it). */
export function childCpu(w: Watched): ChildCpu[] {
  const out: ChildCpu[] = [];
  for (const pid of measuredChildren(w)) {
    const s = readProcStat(pid);
    if (s) out.push({ pid, title: processTitle(pid), seconds: (s.utime + s.stime) / CLOCK_TICKS_PER_SECOND });
  }
  return out;
}

/** Largest resident set in MiB: VmHWM of the process, and of its children when `withChildren`. */
export function peakRssMb(w: Watched): number | undefined {
  const m = readProcMemory(w.pid);
  if (!m) return undefined;
  let kb = m.vmHwmKb;
  if (w.withChildren) for (const c of measuredChildren(w)) kb = Math.max(kb, readProcMemory(c)?.vmHwmKb ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

/** The 1-minute load average (os.loadavg without importing os in pure code paths). */
export function loadAverage(): [number, number, number] {
  try {
    const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return [a ?? 0, b ?? 0, c ?? 0];
  } catch {
    return [0, 0, 0];
  }
}
