// For component benchmarks (services/*/bench). Cost figures of a bench run that are meaningful on a shared machine: CPU time of this process and the
// Postgres statements and transactions it sent, per message, over a measured phase.
import { loadavg as osLoadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient } from '@smshub/db';

export interface CostCounter {
  statements: number;
  transactions: number;
}

/** Counts the statements every client of `pool` sends from now on (BEGIN counts one transaction). */
export function countStatements(pool: Pool): CostCounter {
  const counter: CostCounter = { statements: 0, transactions: 0 };
  const wrapped = new WeakSet<PoolClient>();
  pool.on('acquire', (client) => {
    if (wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      counter.statements++;
      const text = typeof args[0] === 'string' ? args[0] : '';
      if (text === 'BEGIN') counter.transactions++;
      return query(...args);
    };
  });
  return counter;
}

export interface CostSnapshot {
  cpu: NodeJS.CpuUsage;
  statements: number;
  transactions: number;
  at: number;
}

export function snapshot(counter: CostCounter): CostSnapshot {
  return {
    cpu: process.cpuUsage(),
    statements: counter.statements,
    transactions: counter.transactions,
    at: performance.now(),
  };
}

/** Lines describing the cost of `messages` between two snapshots. */
export function costLines(from: CostSnapshot, to: CostSnapshot, messages: number): string[] {
  const user = to.cpu.user - from.cpu.user;
  const system = to.cpu.system - from.cpu.system;
  const wallMs = to.at - from.at;
  const perMsg = (n: number): string => (n / messages).toFixed(n / messages < 10 ? 3 : 0);
  return [
    `CPU per message:          ${perMsg(user + system)} µs (user ${perMsg(user)}, system ${perMsg(system)}) over ${messages} messages`,
    `CPU use while measured:   ${((user + system) / 1000 / wallMs).toFixed(2)} cores (wall ${wallMs.toFixed(0)} ms)`,
    `Postgres per message:     ${perMsg(to.statements - from.statements)} statements, ${perMsg(to.transactions - from.transactions)} transactions`,
    `load average:             ${loadavg()}`,
  ];
}

function loadavg(): string {
  return osLoadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

/**
 * When `file` is set, profiles this process (V8 CPU profile, open with Chrome DevTools) until the returned
 * function is called, which writes the profile there: a profile of the measured phase only.
 */
export async function profileTo(file: string | undefined): Promise<() => Promise<void>> {
  if (!file) return () => Promise.resolve();
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}
