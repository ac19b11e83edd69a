// deploy/local from a checkout in a directory only its owner can enter (mode 700, like root's home): the
// PostgreSQL cluster (run as the postgres OS user when we are root) and the Kafka broker must start, answer
// and stop. Runs on its own ports and state directory: the shared infrastructure of the test run is not
// touched.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, waitFor } from '@smshub/testing';

const isRoot = process.getuid?.() === 0;
let parent: string;
let checkout: string;

/** The environment of a fresh shell: no addresses of the shared infrastructure, no state dir override. */
function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, KAFKA_HEAP: '256m' };
  for (const k of ['DATABASE_URL', 'KAFKA_BROKERS', 'SMSHUB_LOCAL_DIR', 'PGPORT_LOCAL', 'KAFKA_PORT'])
    delete e[k];
  return e;
}

function script(name: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [path.join(checkout, 'deploy/local', name), ...args], {
    env: env(),
    encoding: 'utf8',
    timeout: 150_000,
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

beforeAll(() => {
  parent = mkdtempSync(path.join(tmpdir(), 'smshub-closed-'));
  chmodSync(parent, 0o700);
  checkout = path.join(parent, 'checkout');
  cpSync(path.join(repoRoot(), 'deploy/local'), path.join(checkout, 'deploy/local'), { recursive: true });
});

afterAll(() => {
  if (!checkout) return;
  script('down.sh', '--purge');
  rmSync(parent, { recursive: true, force: true });
});

describe('deploy/local from a mode-700 checkout', () => {
  it('the checkout is out of the postgres user’s reach (the case being tested)', () => {
    if (!isRoot) return; // as another user the cluster runs as that user: nothing to reach
    const r = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', checkout]);
    expect(r.status).not.toBe(0);
  });

  it('postgres.sh starts a cluster that answers, reports it running, stops it, purges it', async () => {
    const up = script('postgres.sh', 'start');
    expect(up.stderr).not.toMatch(/error/);
    expect(up.status).toBe(0);
    expect(up.stdout).toMatch(/^postgres:\/\/smshub@127\.0\.0\.1:\d+\/smshub$/);
    const client = new pg.Client({ connectionString: up.stdout });
    await client.connect();
    try {
      const r = await client.query<{ user: string }>('SELECT current_user AS user');
      expect(r.rows[0]?.user).toBe('smshub');
    } finally {
      await client.end();
    }
    const state = path.join(checkout, '.local/postgres');
    const home = isRoot ? readFileSync(path.join(state, 'home'), 'utf8').trim() : state;
    if (isRoot) expect(home.startsWith(parent)).toBe(false);
    expect(existsSync(path.join(home, 'data/PG_VERSION'))).toBe(true);
    const pid = Number(readFileSync(path.join(state, 'postgres.pid'), 'utf8'));
    expect(script('postgres.sh', 'status').stdout).toBe(`running: ${up.stdout}`);

    // A second start finds it running and prints the same address.
    expect(script('postgres.sh', 'start').stdout).toBe(up.stdout);

    expect(script('postgres.sh', 'stop').status).toBe(0);
    await waitFor(() => !alive(pid), { what: `postgres pid ${pid} to exit`, timeoutMs: 30_000 });
    expect(script('postgres.sh', 'status').status).toBe(3);

    // It starts again on its data, then purge removes every file of it.
    const again = script('postgres.sh', 'start');
    expect(again.status).toBe(0);
    expect(script('postgres.sh', 'stop').status).toBe(0);
    expect(script('postgres.sh', 'purge').status).toBe(0);
    expect(existsSync(home)).toBe(false);
    expect(existsSync(state)).toBe(false);
  }, 120_000);

  it('postgres.sh says what to do when the postgres user cannot reach the cluster directory', () => {
    if (!isRoot) return; // only root hands the cluster to another user
    const r = spawnSync('bash', [path.join(checkout, 'deploy/local/postgres.sh'), 'start'], {
      // The cluster root inside the closed directory: exactly what the postgres user cannot enter.
      env: {
        ...env(),
        SMSHUB_LOCAL_DIR: path.join(parent, 'other'),
        SMSHUB_PG_ROOT: path.join(parent, 'pg'),
      },
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /cannot write to .*: make every parent directory traversable .* or set DATABASE_URL/,
    );
  });

  it('kafka.sh starts a broker that accepts connections and stops it', async () => {
    const up = script('kafka.sh', 'start');
    expect(up.status, up.stderr).toBe(0);
    const [host, port] = up.stdout.split(':');
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(Number(port), host, () => {
        s.end();
        resolve();
      });
      s.on('error', reject);
    });
    const pid = Number(readFileSync(path.join(checkout, '.local/kafka/kafka.pid'), 'utf8'));
    expect(script('kafka.sh', 'status').stdout).toBe(`running at ${up.stdout}`);
    expect(script('kafka.sh', 'stop').status).toBe(0);
    await waitFor(() => !alive(pid), { what: `kafka pid ${pid} to exit`, timeoutMs: 40_000 });
  }, 180_000);
});
