// The watchdog test's own vitest configuration (tools/dev/test/watchdog.test.ts): one file that blocks its
// worker, with the integration project's worker marker.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../../..', import.meta.url)),
  test: {
    include: ['tools/dev/test/watchdog/*.fixture.ts'],
    setupFiles: ['libs/testing/src/worker-marker.ts'],
    pool: 'forks',
    testTimeout: 600_000,
  },
});
