import { runService } from '@smshub/runtime';
import { dlrEnv, optionsFromEnv } from './config.js';
import { createDlr } from './dlr.js';
import { tuneHeapGrowth } from './heap.js';

await runService({
  service: 'dlr',
  env: dlrEnv,
  async start(ctx) {
    // before the service allocates its working set; a no-op without a heap cap
    if (tuneHeapGrowth(ctx.config.DLR_HEAP_GROWING_PERCENT))
      ctx.logger.info({ percent: ctx.config.DLR_HEAP_GROWING_PERCENT }, 'heap growth between full GCs set');
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
