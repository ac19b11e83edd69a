// A SIGTERM while a service is still in its start (npm start's Ctrl-C, a rollout, a crash loop): the
// shutdown must stop what start created, including what start creates after the signal, and exit 0
// without waiting out the grace period. Before, the service's steps registered after the signal never ran
// and 'postgres pools' waited 30 s for the client start still held (ingress's LISTEN client), exit 1.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/signal-in-start.ts');

interface Run {
  code: number | null;
  /** The fixture's marker lines. */
  marks: string[];
  /** The service's JSON log lines. */
  logs: Record<string, unknown>[];
}

/** Starts the fixture, sends SIGTERM once its start waits for it, and collects everything until it exits. */
function runFixture(mode: string): Promise<Run> {
  const child = spawn(process.execPath, ['--conditions=@smshub/source', '--import', 'tsx', fixture], {
    env: {
      PATH: process.env['PATH'] ?? '',
      DATABASE_URL: process.env['DATABASE_URL'] ?? '',
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      FIXTURE_MODE: mode,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { code: null, marks: [], logs: [] };
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('FIXTURE ')) {
        run.marks.push(line.slice('FIXTURE '.length));
        if (line === 'FIXTURE waiting') child.kill('SIGTERM');
      } else if (line.startsWith('{')) run.logs.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      run.code = code;
      if (!run.marks.includes('waiting'))
        reject(new Error(`the fixture never reached its start:\n${stderr}`));
      else resolve(run);
    });
  });
}

function stepsDone(run: Run): unknown[] {
  return run.logs.filter((l) => l['msg'] === 'shutdown step done').map((l) => l['step']);
}

function failures(run: Run): unknown[] {
  return run.logs.filter((l) => (l['level'] as number) >= 40).map((l) => l['msg']);
}

describe('a SIGTERM while the service is still starting', () => {
  it('runs the step start registers after the signal, releases its client and exits 0', async () => {
    const run = await runFixture('late-step');
    expect(failures(run)).toEqual([]);
    expect(run.marks).toContain('released a client');
    // the service's own step before the pools close, so the pool does not wait for the client
    expect(stepsDone(run)).toEqual([
      'wait for start-up to finish',
      'kafka consumers',
      'fixture listener',
      'kafka producer',
      'postgres pools',
      'telemetry',
    ]);
    expect(run.code).toBe(0);
  });

  it('stops nothing before start has finished creating it: the early step releases the late client', async () => {
    const run = await runFixture('early-step');
    expect(failures(run)).toEqual([]);
    expect(run.marks).toEqual(['waiting', 'released a client']);
    expect(stepsDone(run)).toContain('postgres pools');
    expect(run.code).toBe(0);
  });

  it('refuses start a new pool after the signal: start is cut short and the shutdown exits 0', async () => {
    const run = await runFixture('refused');
    expect(
      run.logs.find((l) => l['msg'] === 'signal-in-start start cut short by the shutdown'),
    ).toMatchObject({
      err: { message: 'signal-in-start is shutting down: no new Postgres pool' },
    });
    expect(run.logs.some((l) => l['msg'] === 'signal-in-start failed to start')).toBe(false);
    expect(stepsDone(run)).toContain('postgres pools');
    expect(run.code).toBe(0);
  });
});
