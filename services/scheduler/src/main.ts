import { runService } from '@smshub/runtime';
import { optionsFromEnv, schedulerEnv } from './config.js';
import { createScheduler } from './scheduler.js';

await runService({
  service: 'scheduler',
  env: schedulerEnv,
  async start(ctx) {
    const scheduler = createScheduler({
      options: optionsFromEnv(ctx.config),
      logger: ctx.logger,
      pool: ctx.pool(ctx.config.DATABASE_URL),
      // Definite outcomes: a release whose publication failed was not written, so it is retried safely.
      producer: await ctx.producer({ definiteOutcome: true, ackTimeoutMs: 10_000, closeTimeoutMs: 5_000 }),
      consumer: (o) => ctx.consumer(o),
      topics: ctx.topics,
    });
    // Registered after the pool and producer, so it runs before they close.
    ctx.lifecycle.onShutdown('scheduler', () => scheduler.stop());
    await scheduler.start();
  },
});
