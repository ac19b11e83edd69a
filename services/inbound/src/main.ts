import { runService } from '@smshub/runtime';
import { inboundEnv, optionsFromEnv } from './config.js';
import { createInbound } from './inbound.js';

await runService({
  service: 'inbound',
  env: inboundEnv,
  async start(ctx) {
    const inbound = createInbound({
      options: optionsFromEnv(ctx.config),
      logger: ctx.logger,
      consumer: (o) => ctx.consumer(o),
      producer: () => ctx.producer(),
      pool: ctx.pool(ctx.config.DATABASE_URL),
      topics: ctx.topics,
    });
    // Registered after the pool, so it runs before the pool closes.
    ctx.lifecycle.onShutdown('inbound', () => inbound.stop());
    await inbound.start();
  },
});
