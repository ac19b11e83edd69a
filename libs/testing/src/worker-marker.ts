// Set-up file of the integration project: records which test file each worker process runs, so that
// `npm test`'s watchdog (tools/dev/test.mjs) can name and stop a file that blocks its worker (a worker
// whose main thread never returns to its event loop cannot time its own test out). While a file runs,
// <SMSHUB_TEST_WORKERS_DIR>/<pid>.json holds { file, startedAt, processStart }; nothing is written when the
// variable is unset. processStart (Linux: the process's start time in clock ticks, field 22 of
// /proc/<pid>/stat) lets the watchdog tell this worker from a later process that got its pid.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

const dir = process.env.SMSHUB_TEST_WORKERS_DIR;
if (dir) {
  const marker = path.join(dir, `${process.pid}.json`);
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      marker,
      JSON.stringify({
        file: expect.getState().testPath ?? 'unknown',
        startedAt: Date.now(),
        processStart: processStart(),
      }),
    );
  });
  afterAll(() => rmSync(marker, { force: true }));
}

/** Field 22 of /proc/self/stat (after the parenthesised command name), or null off Linux. */
function processStart(): string | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
