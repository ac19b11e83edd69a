import { tlsFiles } from '@smshub/grpc';
import { parseSecretKey } from '@smshub/secrets';
import { runService } from '@smshub/runtime';
import { startAdmin } from './admin.js';
import { adminEnv } from './config.js';

await runService({
  service: 'admin',
  env: adminEnv,
  async start(ctx) {
    const c = ctx.config;
    const tls =
      tlsFiles(c.GRPC_TLS_CERT_FILE, c.GRPC_TLS_KEY_FILE) ??
      tlsFiles(c.ADMIN_TLS_CERT_FILE, c.ADMIN_TLS_KEY_FILE, {
        cert: 'ADMIN_TLS_CERT_FILE',
        key: 'ADMIN_TLS_KEY_FILE',
      });
    const server = await startAdmin({
      pool: ctx.pool(c.DATABASE_URL),
      producer: await ctx.producer(),
      topics: ctx.topics,
      registry: ctx.topics,
      kafka: ctx.kafka,
      ...(c.KAFKA_NAMESPACE ? { namespace: c.KAFKA_NAMESPACE } : {}),
      logger: ctx.logger,
      token: c.ADMIN_TOKEN,
      authCacheTtlMs: c.AUTH_CACHE_TTL_MS,
      connectorKey: parseSecretKey(c.CONNECTOR_SECRET_KEY),
      actor: c.ADMIN_ACTOR,
      server: { host: c.GRPC_HOST, port: c.GRPC_PORT, ...(tls ? { tls } : {}) },
    });
    // Registered after the pool and producer, so in-flight calls finish before they close.
    ctx.lifecycle.onShutdown('grpc server', () => server.stop());
  },
});
