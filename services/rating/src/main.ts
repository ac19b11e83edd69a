import { tlsFiles } from '@smshub/grpc';
import { runService } from '@smshub/runtime';
import { ratingEnv } from './config.js';
import { RATING_PRODUCER_OPTIONS } from './producer-options.js';
import { createRating, DEFAULT_OPTIONS } from './rating.js';

await runService({
  service: 'rating',
  env: ratingEnv,
  async start(ctx) {
    const c = ctx.config;
    const grpcTls = tlsFiles(c.GRPC_TLS_CERT_FILE, c.GRPC_TLS_KEY_FILE);
    const rating = createRating({
      options: {
        ...DEFAULT_OPTIONS,
        replicaId: c.RATING_REPLICA_ID,
        grpcPort: c.GRPC_PORT,
        ...(c.ADMIN_TOKEN !== undefined ? { adminToken: c.ADMIN_TOKEN } : {}),
        authCacheTtlMs: c.AUTH_CACHE_TTL_MS,
        grpcHost: c.GRPC_HOST,
        ...(grpcTls ? { grpcTls } : {}),
        balancePublishIntervalMs: c.RATING_BALANCE_PUBLISH_MS,
        reloadIntervalMs: c.RATING_RELOAD_INTERVAL_MS,
      },
      logger: ctx.logger,
      pool: ctx.pool(c.DATABASE_URL, c.RATING_DB_POOL_SIZE),
      kafka: ctx.kafka,
      // Definite outcomes: a record whose publication failed was not written (see producer-options.ts).
      producer: await ctx.producer(RATING_PRODUCER_OPTIONS),
      consumer: (o) => ctx.consumer(o),
      topics: ctx.topics,
    });
    // Registered after the pool and producer, so it runs before they close: the gRPC server drains,
    // consumers finish their batch and commit, and pending balances are published.
    ctx.lifecycle.onShutdown('rating', () => rating.stop());
    await rating.start();
  },
});
