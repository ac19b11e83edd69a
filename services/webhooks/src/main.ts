import { runService } from '@smshub/runtime';
import { optionsFromEnv, webhooksEnv } from './config.js';
import { createWebhooks } from './webhooks.js';

await runService({
  service: 'webhooks',
  env: webhooksEnv,
  async start(ctx) {
    const webhooks = createWebhooks({
      options: optionsFromEnv(ctx.config),
      logger: ctx.logger,
      consumer: (o) => ctx.consumer(o),
      pool: ctx.pool(ctx.config.DATABASE_URL),
      topics: ctx.topics,
    });
    // Registered after the pool, so it runs before the pool closes.
    ctx.lifecycle.onShutdown('webhooks', () => webhooks.stop());
    await webhooks.start();
  },
});
