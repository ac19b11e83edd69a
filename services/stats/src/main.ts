import { runService } from '@smshub/runtime';
import { optionsFromEnv, statsEnv } from './config.js';
import { createStats } from './stats.js';

await runService({
  service: 'stats',
  env: statsEnv,
  async start(ctx) {
    const stats = createStats({
      options: optionsFromEnv(ctx.config),
      logger: ctx.logger,
      consumer: (o) => ctx.consumer(o),
      pool: ctx.pool(ctx.config.DATABASE_URL),
      queryPool: ctx.pool(ctx.config.DATABASE_URL, ctx.config.STATS_QUERY_POOL_SIZE),
      topics: ctx.topics,
    });
    // Registered after the pools, so it runs before they close.
    ctx.lifecycle.onShutdown('stats', () => stats.stop());
    await stats.start();
  },
});
