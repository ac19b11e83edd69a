import { runService } from '@smshub/runtime';
import { dlrEnv, optionsFromEnv } from './config.js';
import { createDlr } from './dlr.js';

await runService({
  service: 'dlr',
  env: dlrEnv,
  async start(ctx) {
    const dlr = createDlr({
      options: optionsFromEnv(ctx.config),
      logger: ctx.logger,
      producer: await ctx.producer(),
      consumer: (o) => ctx.consumer(o),
      pool: ctx.pool(ctx.config.DATABASE_URL),
      topics: ctx.topics,
    });
    // Registered after the pool and producer, so it runs before they close.
    ctx.lifecycle.onShutdown('dlr', () => dlr.stop());
    await dlr.start();
  },
});
