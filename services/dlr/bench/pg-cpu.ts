// CPU time of the PostgreSQL processes serving one database, read from /proc (Linux): the backends
// connected to that database, and apart from them the cluster's auxiliary processes (WAL writer,
// checkpointer, background writer, autovacuum), which other databases on a shared cluster use too.
// Backends come and go with the pool, so the bench samples often and keeps the last reading of each.
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat. */
const TICKS_PER_SECOND = 100;

interface Proc {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): Proc | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which is in parentheses and may hold spaces
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined; // exited
  }
}

function title(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export class PgCpu {
  private readonly start = new Map<number, number>();
  private readonly last = new Map<number, { ticks: number; backend: boolean }>();

  /**
   * `postmaster`: the parent of every backend; `exclude`: a backend left out (the bench's own probe,
   * whose polling is not dlr's work).
   */
  constructor(
    private readonly postmaster: number,
    private readonly database: string,
    private readonly exclude: number,
  ) {}

  /** Through a connection of its own (`query`), which is left out of the figures. */
  static async forConnection(
    query: (sql: string) => Promise<{ rows: { pid: number }[] }>,
    database: string,
  ): Promise<PgCpu> {
    const { rows } = await query('SELECT pg_backend_pid() AS pid');
    const backend = rows[0]?.pid;
    const ppid = backend === undefined ? undefined : readStat(backend)?.ppid;
    if (backend === undefined || ppid === undefined) {
      throw new Error('cannot find the PostgreSQL postmaster in /proc (is PostgreSQL on this machine?)');
    }
    return new PgCpu(ppid, database, backend);
  }

  /** Reads every child of the postmaster; the first call sets the starting point. */
  sample(): void {
    const first = this.start.size === 0 && this.last.size === 0;
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      if (pid === this.exclude) continue;
      const s = readStat(pid);
      if (s?.ppid !== this.postmaster) continue;
      const t = title(pid);
      const backend = new RegExp(`^postgres: \\S+ ${this.database} `).test(t);
      const aux = /^postgres: (walwriter|checkpointer|background writer|autovacuum)/.test(t);
      if (!backend && !aux) continue;
      if (first) this.start.set(pid, s.ticks);
      else if (!this.start.has(pid) && !this.last.has(pid)) this.start.set(pid, 0);
      this.last.set(pid, { ticks: s.ticks, backend });
    }
  }

  /** CPU microseconds used since the first sample: this database's backends, and the auxiliaries. */
  used(): { backendsUs: number; auxiliaryUs: number } {
    let backendsUs = 0;
    let auxiliaryUs = 0;
    for (const [pid, { ticks, backend }] of this.last) {
      const us = ((ticks - (this.start.get(pid) ?? 0)) * 1_000_000) / TICKS_PER_SECOND;
      if (backend) backendsUs += us;
      else auxiliaryUs += us;
    }
    return { backendsUs, auxiliaryUs };
  }
}
