import { parseSecretKey } from '@smshub/secrets';
import { runService } from '@smshub/runtime';
import { startAdmin } from './admin.js';
import { adminEnv } from './config.js';

await runService({
  service: 'admin',
  env: adminEnv,
  async start(ctx) {
    const c = ctx.config;
    if ((c.ADMIN_TLS_CERT_FILE === undefined) !== (c.ADMIN_TLS_KEY_FILE === undefined))
      throw new Error('ADMIN_TLS_CERT_FILE and ADMIN_TLS_KEY_FILE must be set together');
    const server = await startAdmin({
      pool: ctx.pool(c.DATABASE_URL),
      producer: await ctx.producer(),
      topics: ctx.topics,
      logger: ctx.logger,
      token: c.ADMIN_TOKEN,
      connectorKey: parseSecretKey(c.CONNECTOR_SECRET_KEY),
      actor: c.ADMIN_ACTOR,
      server: {
        port: c.GRPC_PORT,
        ...(c.ADMIN_TLS_CERT_FILE && c.ADMIN_TLS_KEY_FILE
          ? { tls: { certFile: c.ADMIN_TLS_CERT_FILE, keyFile: c.ADMIN_TLS_KEY_FILE } }
          : {}),
      },
    });
    // Registered after the pool and producer, so in-flight calls finish before they close.
    ctx.lifecycle.onShutdown('grpc server', () => server.stop());
  },
});
