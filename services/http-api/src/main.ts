import { readFileSync } from 'node:fs';
import { runService } from '@smshub/runtime';
import { createHttpApi, DEFAULT_OPTIONS } from './api.js';
import { httpApiEnv, trustProxyOf } from './config.js';
import { HTTP_API_PRODUCER_OPTIONS } from './durable-accept.js';
import { DlrMessageReader } from './messages.js';

await runService({
  service: 'http-api',
  env: httpApiEnv,
  async start(ctx) {
    const c = ctx.config;
    if (Boolean(c.HTTP_API_TLS_CERT_FILE) !== Boolean(c.HTTP_API_TLS_KEY_FILE))
      throw new Error('HTTP_API_TLS_CERT_FILE and HTTP_API_TLS_KEY_FILE must be set together');
    const messages = c.DLR_GRPC_ADDRESS
      ? new DlrMessageReader(c.DLR_GRPC_ADDRESS, c.DLR_GRPC_TLS)
      : undefined;
    if (messages) ctx.lifecycle.onShutdown('dlr client', () => messages.close());
    const api = createHttpApi({
      options: {
        ...DEFAULT_OPTIONS,
        replicaId: c.HTTP_API_REPLICA_ID,
        host: c.HTTP_API_HOST,
        port: c.HTTP_API_PORT,
        bodyLimit: c.HTTP_API_BODY_LIMIT,
        trustProxy: trustProxyOf(c.HTTP_API_TRUST_PROXY),
        idempotencyWaitMs: c.HTTP_API_IDEMPOTENCY_WAIT_MS,
        creditCheck: c.HTTP_API_CREDIT_CHECK,
        authCacheTtlMs: c.AUTH_CACHE_TTL_MS,
        ...(c.HTTP_API_TLS_CERT_FILE && c.HTTP_API_TLS_KEY_FILE
          ? {
              https: {
                cert: readFileSync(c.HTTP_API_TLS_CERT_FILE),
                key: readFileSync(c.HTTP_API_TLS_KEY_FILE),
              },
            }
          : {}),
      },
      logger: ctx.logger,
      producer: await ctx.producer(HTTP_API_PRODUCER_OPTIONS),
      consumer: (o) => ctx.consumer(o),
      pool: ctx.pool(c.DATABASE_URL),
      topics: ctx.topics,
      ...(messages ? { messages } : {}),
    });
    // Registered after the pool and producer, so it runs before they close.
    ctx.lifecycle.onShutdown('http api', () => api.stop());
    await api.start();
  },
});
