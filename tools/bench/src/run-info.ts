// What a benchmark run states about itself besides its figures: the commit it ran, and the storage
// settings it ran on (PostgreSQL's sync settings as the server reports them, Kafka's flush overrides as the
// local broker's config file has them). Pure parsing here; main.ts and limits.ts do the I/O.
import { spawnSync } from 'node:child_process';

/** `abc1234`, or `abc1234 (work tree modified)` when tracked files differ from it. */
export function gitCommit(root: string): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: root,
    encoding: 'utf8',
  });
  const head = r.stdout?.trim() || 'unknown';
  return `${head}${dirty.stdout?.trim() ? ' (work tree modified)' : ''}`;
}

/** The storage a run used: `durable` = PostgreSQL with fsync, synchronous_commit and full_page_writes on. */
export interface StorageInfo {
  mode: 'durable' | 'fast';
  /** SHOW of fsync, synchronous_commit, full_page_writes, wal_sync_method on the run's PostgreSQL. */
  postgres: Record<string, string>;
  /** The broker's log.flush.* settings from its server.properties; empty = Kafka's defaults. */
  kafkaFlush: Record<string, string>;
}

/** The `log.flush.*` lines of a Kafka server.properties (comments and other keys ignored). */
export function kafkaFlushSettings(properties: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of properties.split('\n')) {
    const m = /^\s*(log\.flush\.[\w.]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** One line for the report: what the run's storage was. */
export function describeStorage(s: StorageInfo): string {
  const pgSettings = Object.entries(s.postgres)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const flush = Object.entries(s.kafkaFlush)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return (
    `${s.mode} (PostgreSQL ${pgSettings || 'settings unknown'}; Kafka ` +
    `${flush ? `flush overrides ${flush}` : 'default flush settings (the OS writes the log; no fsync per write)'})`
  );
}
