import { defineConfig } from 'vitest/config';

// `npm run cluster -- check`: the 3-broker cluster check alone (three Kafka JVMs of its own; too slow for
// npm test on a small machine). It needs no shared infrastructure, so no global setup.
const conditions = ['@smshub/source'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['tools/ops/test/cluster.check.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
