// `npm test`'s watchdog: a test file that blocks its worker (a main thread that never returns to the event
// loop, so its own timeout cannot fire) is stopped after SMSHUB_TEST_STALL_S with the processes it started,
// named in the output and counted as failed; the run ends instead of hanging.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repoRoot, waitFor } from '@smshub/testing';

const root = repoRoot();
const dir = mkdtempSync(path.join(tmpdir(), 'smshub-watchdog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `pid` runs (a killed process not yet reaped by init is a zombie: not running). */
const running = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

it(
  'stops a file that blocks its worker, and what it started, and counts it as failed',
  { timeout: 180_000 },
  async () => {
    const pidFile = path.join(dir, 'child.pid');
    const r = spawnSync(
      'node',
      ['tools/dev/test.mjs', '--skip-checks', '--config', 'tools/dev/test/watchdog/vitest.config.ts'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 170_000,
        env: {
          ...process.env,
          SMSHUB_TEST_STALL_S: '5',
          SMSHUB_TEST_RESULTS: path.join(dir, 'results'),
          SMSHUB_WATCHDOG_PIDFILE: pidFile,
        },
      },
    );
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.status, output).toBe(1);
    expect(output).toMatch(
      /watchdog: tools\/dev\/test\/watchdog\/blocks\.fixture\.ts has run for \d+ s in worker \d+/,
    );
    expect(output).toMatch(/FAIL tools\/dev\/test\/watchdog\/blocks\.fixture\.ts: stopped by the watchdog/);
    expect(output).toMatch(/^0 passed, [1-9]\d* failed/m);
    const summary = JSON.parse(readFileSync(path.join(dir, 'results/summary.json'), 'utf8')) as {
      stalled: string[];
    };
    expect(summary.stalled).toEqual(['tools/dev/test/watchdog/blocks.fixture.ts']);
    // The blocked file's child process went with its worker.
    expect(existsSync(pidFile)).toBe(true);
    const child = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !running(child), {
      what: `the blocked file's child ${child} gone`,
      timeoutMs: 10_000,
    });
  },
);
