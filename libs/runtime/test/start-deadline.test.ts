// A start that never settles (routing's adaptive seek hung 90 s once inside kafkajs): the service must not sit
// live and never ready. Past STARTUP_TIMEOUT_S it exits 1 with a sentence naming the setting, so that its
// orchestrator starts it again; a SIGTERM meanwhile does not keep it waiting forever either.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

function runFixture(
  timeoutS: string,
  signal?: NodeJS.Signals,
  name = 'hung-start',
): Promise<{ code: number | null; stdout: string; stderr: string; logs: Record<string, unknown>[] }> {
  const fixture = path.join(fixtures, `${name}.ts`);
  const child = spawn(process.execPath, ['--conditions=@smshub/source', '--import', 'tsx', fixture], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      STARTUP_TIMEOUT_S: timeoutS,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (signal && !signalled && stdout.includes('FIXTURE waiting\n')) {
      signalled = true; // once: a second signal forces an exit of its own
      child.kill(signal);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        logs: stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    );
  });
}

describe('a start that never settles', () => {
  it('exits 1 past STARTUP_TIMEOUT_S with a sentence naming it', async () => {
    const run = await runFixture('2');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('hung-start did not finish its start within 2 s (STARTUP_TIMEOUT_S)');
    expect(
      run.logs.some((l) => l['level'] === 'fatal' && String(l['msg']).includes('STARTUP_TIMEOUT_S')),
    ).toBe(true);
    expect(run.logs.some((l) => String(l['msg']).includes('hung-start ready'))).toBe(false);
  }, 60_000);

  it('exits 1 at the deadline even when a SIGTERM is waiting for the start', async () => {
    const run = await runFixture('3', 'SIGTERM');
    expect(run.code).toBe(1);
    expect(run.logs.some((l) => l['msg'] === 'shutting down')).toBe(true);
    expect(run.stderr).toContain('did not finish its start within 3 s');
  }, 60_000);

  it('is given up once the start has settled: a ready service outlives the deadline and stops on SIGTERM with 0', async () => {
    const run = await runFixture('1', undefined, 'quick-start');
    expect(run.logs.some((l) => l['msg'] === 'quick-start ready')).toBe(true);
    expect(run.stdout).toContain('FIXTURE alive past the deadline');
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('STARTUP_TIMEOUT_S');
  }, 60_000);

  it('refuses a deadline that is not a whole number of seconds (exit 78)', async () => {
    const run = await runFixture('soon');
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('STARTUP_TIMEOUT_S');
  }, 60_000);
});
