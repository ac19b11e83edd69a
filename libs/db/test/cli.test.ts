import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from './pg.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsxCli = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !['DATABASE_URL', 'LOG_LEVEL', 'LOG_DEBUG_NUMBERS'].includes(k),
    ),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsxCli, '--conditions=@smshub/source', cli, ...args],
      { cwd: root, env: { ...clean, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const dbs: ScratchDatabase[] = [];
afterAll(async () => {
  for (const db of dbs) await db.drop();
});

describe('smshub-db migrate', () => {
  it('exits 78 with one sentence per bad variable', async () => {
    const res = await run(['migrate'], { DATABASE_URL: 'mysql://u:hunter2@h/db', LOG_LEVEL: 'loud' });
    expect(res.code).toBe(78);
    expect(res.stderr).toContain(
      'smshub-db: invalid configuration: DATABASE_URL: must use postgres: or postgresql: (got mysql:)',
    );
    expect(res.stderr).toContain('smshub-db: invalid configuration: LOG_LEVEL: must be one of');
    expect(res.stderr).not.toContain('hunter2');
  });

  it('exits 1 with a sentence when the database cannot be reached, without printing the password', async () => {
    const port = await closedPort();
    const res = await run(['migrate'], { DATABASE_URL: `postgres://u:hunter2@127.0.0.1:${port}/smshub` });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`smshub-db: cannot reach the database at 127.0.0.1:${port}/smshub: `);
    expect(res.stderr).toContain('ECONNREFUSED');
    expect(res.stderr).not.toContain('hunter2');
  });

  it('exits 64 with usage for an unknown command', async () => {
    const res = await run(['frobnicate'], {});
    expect(res.code).toBe(64);
    expect(res.stderr).toContain('usage: smshub-db migrate');
  });

  it('applies the migrations, prints them, and reports up to date the second time', async () => {
    const db = await createScratchDatabase();
    dbs.push(db);
    const first = await run(['migrate'], { DATABASE_URL: db.url });
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toMatch(/^applied 0001_init$/m);
    const second = await run(['migrate'], { DATABASE_URL: db.url });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('applied 0001_init');
    expect(second.stdout).toMatch(/up to date \(\d+ migrations? already applied\)/);
  });
});
