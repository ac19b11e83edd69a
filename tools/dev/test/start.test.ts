// `npm start` as people run it: piped into a reader that goes away (`npm start 2>&1 | tee hub.log`, then
// Ctrl-C: tee dies first and every later write of start.mjs fails with EPIPE), then ended the way a
// terminal ends it (SIGINT, SIGTERM or SIGHUP to the whole foreground process group), or start.mjs itself
// killed (SIGKILL). Afterwards no process it started may be left: every descendant seen while it ran, and
// the PostgreSQL it started. Each hub runs on its own ports (HUB_PORT_OFFSET), state directory
// (SMSHUB_LOCAL_DIR), Kafka namespace and database, so nothing else on the machine is touched.
//
// While a hub runs on an offset, `npm run hubctl` and `npm run send` find it without being told the offset
// (start.mjs writes it to <state>/hub.json), and the demo delivers to every country the README names.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, repoRoot, testKafkaBrokers, waitFor, type TestDatabase } from '@smshub/testing';

const root = repoRoot();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** pid -> [ppid, start time] of every process now (start time tells a reused pid apart). */
function processTable(): Map<number, { ppid: number; start: string }> {
  const table = new Map<number, { ppid: number; start: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue; // exited, waiting to be reaped
      table.set(Number(entry), { ppid: Number(fields[1]), start: fields[19] ?? '' });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** Every living descendant of `pid`, with its start time. */
function descendants(pid: number): Map<number, string> {
  const table = processTable();
  const out = new Map<number, string>();
  const walk = (parent: number): void => {
    for (const [p, info] of table)
      if (info.ppid === parent && !out.has(p)) {
        out.set(p, info.start);
        walk(p);
      }
  };
  walk(pid);
  return out;
}

function stillRunning(pids: Map<number, string>): number[] {
  const table = processTable();
  return [...pids].filter(([pid, start]) => table.get(pid)?.start === start).map(([pid]) => pid);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function describeProcesses(pids: number[]): string {
  return pids
    .map((pid) => {
      try {
        return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 150)}`;
      } catch {
        return `${pid}: (gone)`;
      }
    })
    .join('\n');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * An offset whose every hub port is free now. The offset is 11000..15000 so that no port lands in Linux's
 * ephemeral range (32768-60999): there, any outgoing connection of a test running alongside (a Kafka or
 * PostgreSQL client) can take the port between this check and the service's listen (run 24's failure:
 * stats on 50055 + offset).
 */
async function freeOffset(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const offset = 11_000 + Math.floor(Math.random() * 4000);
    const ports = [2775, 2776, 2777, 2778, 3550, 8080, 8090, 8787];
    for (let i = 0; i < 16; i++) ports.push(9400 + i);
    for (let i = 0; i < 7; i++) ports.push(50051 + i);
    let free = true;
    for (const p of ports) if (!(free = await portFree(p + offset))) break;
    if (free) return offset;
  }
  throw new Error('no free port offset found');
}

interface RunningHub {
  /** bash running `npm start 2>&1 | reader`, leader of the process group a terminal would signal. */
  shell: ChildProcess;
  offset: number;
  stateDir: string;
  /** Every descendant of the shell once the hub was ready (npm, start.mjs, services, the guardian). */
  processes: Map<number, string>;
  /** What the reader saw before it went away. */
  output(): string;
  /** `npm run <script> -- args` from another "terminal": no HUB_PORT_OFFSET, the hub's state dir. */
  npmRun(script: string, ...args: string[]): { status: number | null; stdout: string; stderr: string };
}

/**
 * `npm start 2>&1 | reader` in a new process group; the reader exits once the ready banner went by, so
 * every later write of start.mjs meets a closed pipe.
 */
async function startHub(opts: {
  services?: string;
  /** Give the test run's database (default) or let start.mjs start its own PostgreSQL. */
  ownPostgres?: boolean;
}): Promise<RunningHub> {
  const offset = await freeOffset();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'smshub-start-'));
  let db: TestDatabase | undefined;
  if (!opts.ownPostgres) db = await createTestDatabase();
  const namespace = `t${randomBytes(4).toString('hex')}`;
  const out = path.join(stateDir, 'reader.out');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HUB_PORT_OFFSET: String(offset),
    SMSHUB_LOCAL_DIR: stateDir,
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    KAFKA_NAMESPACE: namespace,
    READER_OUT: out,
  };
  delete env['DATABASE_URL'];
  if (db) env['DATABASE_URL'] = db.url;
  if (opts.services) env['HUB_SERVICES'] = opts.services;
  else delete env['HUB_SERVICES'];
  const reader = `
    const fs = require('fs'); let seen = '';
    process.stdin.on('data', (d) => {
      fs.appendFileSync(process.env.READER_OUT, d); seen += d;
      if (seen.includes('smshub is ready')) process.exit(0);
    });`;
  const shell = spawn('bash', ['-c', `npm start 2>&1 | node -e "${reader.replace(/"/g, '\\"')}"`], {
    cwd: root,
    env,
    detached: true,
    stdio: 'ignore',
  });
  const output = (): string => (existsSync(out) ? readFileSync(out, 'utf8') : '');
  cleanups.push(async () => {
    // Whatever a failed test left: the process group, then the files.
    try {
      process.kill(-shell.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    if (opts.ownPostgres)
      spawnSync('bash', [path.join(root, 'deploy/local/down.sh'), '--purge'], {
        env: { ...env, KAFKA_BROKERS: '' },
        stdio: 'ignore',
      });
    await db?.drop();
    rmSync(stateDir, { recursive: true, force: true });
  });
  let processes = new Map<number, string>();
  const ended = new Promise<never>((_, reject) =>
    shell.once('exit', () => reject(new Error(`npm start ended before it was ready:\n${output()}`))),
  );
  ended.catch(() => {});
  await Promise.race([
    ended,
    waitFor(
      () => {
        if (!output().includes('smshub is ready')) return false;
        processes = descendants(shell.pid!);
        // The reader is gone (it exited at the banner): start.mjs now writes into a closed pipe.
        return ![...processes.keys()].some((p) => cmdline(p).includes('READER_OUT'));
      },
      { timeoutMs: 240_000, intervalMs: 250, what: 'the hub to be ready (the reader to exit)' },
    ),
  ]);
  if (opts.ownPostgres) {
    // The cluster start.mjs started (pg_ctl detaches it: not a descendant, but it must stop too).
    const pgPid = Number(readFileSync(path.join(stateDir, 'postgres/postgres.pid'), 'utf8'));
    const pgStart = processTable().get(pgPid)?.start;
    if (!pgStart) throw new Error(`the hub's PostgreSQL (pid ${pgPid}) is not running`);
    processes.set(pgPid, pgStart);
  }
  const npmEnv: NodeJS.ProcessEnv = { ...env };
  delete npmEnv['HUB_PORT_OFFSET'];
  delete npmEnv['DATABASE_URL'];
  delete npmEnv['KAFKA_BROKERS'];
  delete npmEnv['KAFKA_NAMESPACE'];
  return {
    shell,
    offset,
    stateDir,
    processes,
    output,
    npmRun: (script, ...args) => {
      // KAFKA_NAMESPACE stays for `ops rated` (the topic is under it); the rest comes from the state dir.
      const r = spawnSync('npm', ['run', '-s', script, '--', ...args], {
        cwd: root,
        env: { ...npmEnv, KAFKA_NAMESPACE: namespace },
        encoding: 'utf8',
        timeout: 120_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

/** Signals the shell's process group as a terminal does, then waits until nothing of the hub runs. */
async function endAndExpectNothingLeft(hub: RunningHub, signal: NodeJS.Signals): Promise<void> {
  expect(hub.processes.size).toBeGreaterThan(3);
  process.kill(-hub.shell.pid!, signal);
  try {
    await waitFor(() => stillRunning(hub.processes).length === 0, {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: `every process of npm start to exit after ${signal}`,
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; left:\n${describeProcesses(stillRunning(hub.processes))}`);
  }
}

function guardianLog(hub: RunningHub): string {
  const file = path.join(hub.stateDir, 'logs/guardian.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

describe('npm start ends with nothing left running', () => {
  it('the whole hub, piped into a reader that exits, then SIGINT (Ctrl-C); the demo delivers to every README country', async () => {
    const hub = await startHub({});
    expect(hub.output()).toContain(`HUB_PORT_OFFSET=${hub.offset} npm run send`);
    expect(hub.output()).toContain(`settlement API on 127.0.0.1:${50053 + hub.offset}`);

    // README's countries, with numbers outside the sample prefix table (routing must price them by country).
    const numbers = {
      GB: '+447400123456',
      DE: '+4915112345678',
      FR: '+33612345678',
      NG: '+2348012345678',
      IN: '+919876543210',
      US: '+12025550123',
    };
    for (const [country, to] of Object.entries(numbers)) {
      const r = hub.npmRun('send', '--to', to, '--text', `hello ${country}`, '--wait', '90');
      expect(r.status, `${country}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout, country).toMatch(/receipt: (DELIVRD|UNDELIV|EXPIRED)/);
      const id = /message id (\S+)/.exec(r.stdout)?.[1];
      const timeline = hub.npmRun('hubctl', 'messages', 'get', id!, '-o', 'json');
      expect(timeline.status, timeline.stderr).toBe(0);
      expect(timeline.stdout, country).toContain('routed');
    }

    await endAndExpectNothingLeft(hub, 'SIGINT');
    // start.mjs stopped the hub itself despite the closed pipe: the guardian had nothing to do.
    expect(guardianLog(hub)).not.toContain('without stopping the hub');
    expect(existsSync(path.join(hub.stateDir, 'hub.json'))).toBe(false);
  }, 600_000);

  it('admin, dlr and rating on an offset: npm run hubctl finds all three without being told; then SIGTERM', async () => {
    const hub = await startHub({ services: 'admin,dlr,rating' });
    const accounts = hub.npmRun('hubctl', 'accounts', 'list', '-o', 'json');
    expect(accounts.status, accounts.stderr).toBe(0);
    expect(accounts.stdout).toContain('"demo"');
    const unknown = hub.npmRun('hubctl', 'messages', 'get', '0190a8e2-0000-7000-8000-000000000000');
    expect(unknown.stderr).not.toMatch(/cannot reach/);
    expect(unknown.stderr).toMatch(/not found/i);
    const day = new Date().toISOString().slice(0, 10);
    const next = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const totals = hub.npmRun(
      'hubctl',
      'settlement',
      'totals',
      '--party',
      'customer',
      '--from',
      day,
      '--to',
      next,
    );
    expect(totals.status, totals.stderr).toBe(0);
    await endAndExpectNothingLeft(hub, 'SIGTERM');
    expect(guardianLog(hub)).not.toContain('without stopping the hub');
  }, 400_000);

  it('SIGHUP (the terminal closed), with the PostgreSQL start.mjs started', async () => {
    const hub = await startHub({ services: 'dlr', ownPostgres: true });
    await endAndExpectNothingLeft(hub, 'SIGHUP');
    expect(guardianLog(hub)).not.toContain('without stopping the hub');
  }, 400_000);

  it('start.mjs killed (SIGKILL): the guardian stops the services and the PostgreSQL it started', async () => {
    const hub = await startHub({ services: 'dlr', ownPostgres: true });
    // node itself, not npm's `sh -c node tools/dev/start.mjs`.
    const startMjs = [...hub.processes.keys()].find((p) =>
      /^\S*node tools\/dev\/start\.mjs/.test(cmdline(p)),
    );
    expect(startMjs).toBeDefined();
    process.kill(startMjs!, 'SIGKILL');
    await waitFor(() => stillRunning(hub.processes).length === 0, {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: 'the guardian to stop what start.mjs left',
    }).catch((err: Error) => {
      throw new Error(
        `${err.message}; left:\n${describeProcesses(stillRunning(hub.processes))}\nguardian:\n${guardianLog(hub)}`,
      );
    });
    expect(guardianLog(hub)).toContain('without stopping the hub');
    expect(guardianLog(hub)).toContain('stopping postgres');
  }, 400_000);
});
