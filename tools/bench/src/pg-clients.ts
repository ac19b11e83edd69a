/**
 * PostgreSQL's CPU split by client: each backend's CPU is credited to the service that opened it (the hub's
 * pools set `application_name` to `smshub-<service>`), auxiliary processes by their role, and what neither
 * explains (backends that exited during the window, the postmaster) as one remainder. Pure: the caller reads
 * the processes (procfs `childCpu`) and pg_stat_activity.
 */
import type { ChildCpu } from './procfs.js';

export interface ClientCpu {
  client: string;
  cpuSeconds: number;
}

/** What a PostgreSQL process is called in the split: its service, its auxiliary role, or "other clients". */
export function clientLabel(title: string, applicationName: string | undefined): string {
  if (applicationName) return applicationName.replace(/^smshub-/, '');
  const role = /^postgres: (.+?)\s*$/.exec(title)?.[1] ?? title.trim();
  if (role.startsWith('autovacuum worker')) return 'autovacuum';
  // A backend: `postgres: <user> <database> <host>(<port>) <state>`.
  if (/^\S+ \S+ \S+\(\d+\)/.test(role)) return 'other clients';
  return role;
}

/** Remainder's name: CPU of the tree not found in any process present at the end. */
export const UNATTRIBUTED = 'exited backends, postmaster';

/**
 * CPU used between two samples, per client, largest first, then the remainder that `totalSeconds` (the whole
 * tree's CPU over the same window) leaves. A process seen only at the end counts whole (it started in the window).
 */
export function splitByClient(
  before: readonly ChildCpu[],
  after: readonly ChildCpu[],
  applicationNames: ReadonlyMap<number, string>,
  totalSeconds: number,
): ClientCpu[] {
  const start = new Map(before.map((c) => [c.pid, c.seconds]));
  const by = new Map<string, number>();
  let attributed = 0;
  for (const c of after) {
    const used = c.seconds - (start.get(c.pid) ?? 0);
    if (used <= 0) continue;
    const label = clientLabel(c.title, applicationNames.get(c.pid));
    by.set(label, (by.get(label) ?? 0) + used);
    attributed += used;
  }
  const round = (s: number): number => Math.round(s * 100) / 100;
  const out = [...by]
    .map(([client, s]) => ({ client, cpuSeconds: round(s) }))
    .sort((a, b) => b.cpuSeconds - a.cpuSeconds);
  const rest = totalSeconds - attributed;
  if (rest >= 0.005) out.push({ client: UNATTRIBUTED, cpuSeconds: round(rest) });
  return out;
}
