// Run only by tools/dev/test/watchdog.test.ts: starts a child process (its pid goes to
// SMSHUB_WATCHDOG_PIDFILE), then blocks its worker in a microtask loop that no timer can interrupt.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { it } from 'vitest';

it('blocks its worker', async () => {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  writeFileSync(process.env.SMSHUB_WATCHDOG_PIDFILE ?? '/dev/null', String(child.pid));
  const spin = (): Promise<void> => Promise.resolve().then(spin);
  await spin();
});
