// The migrations routing's integration tests need, applied to a test database: the common ones, egress's
// (connectors), routing's and rating's (prices), and any `extra` (a regular-expression alternative of
// file-name prefixes, e.g. '0610' for admin's tokens).
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '@smshub/db';

export async function migrateForRouting(pool: Pool, extra?: string): Promise<void> {
  const wanted = new RegExp(`^(0001|02\\d\\d|03\\d\\d|05\\d\\d${extra ? `|${extra}` : ''})_.*\\.sql$`);
  const dir = await mkdtemp(path.join(tmpdir(), 'routing-test-migrations-'));
  try {
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
      if (wanted.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
    await migrate(pool, { dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
