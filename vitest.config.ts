import { defineConfig } from 'vitest/config';

// Two projects:
// - unit: `*.spec.ts` next to the code, pure logic, no I/O.
// - integration: `test/**/*.test.ts`, real TCP, real Kafka and real Postgres. Its global setup hands the
//   tests a broker and a database (KAFKA_BROKERS / DATABASE_URL when set, else testcontainers when a
//   Docker engine answers, else the local scripts in deploy/local/).
const resolve = { conditions: ['@smshub/source'] };

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: ['@smshub/source'], externalConditions: ['@smshub/source'] } },
  test: {
    projects: [
      {
        resolve,
        ssr: { resolve: { conditions: ['@smshub/source'], externalConditions: ['@smshub/source'] } },
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['{libs,services,tools}/*/src/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['@smshub/source'], externalConditions: ['@smshub/source'] } },
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['{libs,services,tools}/*/test/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['libs/testing/src/global-setup.ts'],
          // Which file each worker runs, for npm test's watchdog (tools/dev/test.mjs).
          setupFiles: ['libs/testing/src/worker-marker.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
    ],
  },
});
