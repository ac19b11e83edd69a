import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runService } from '@smshub/runtime';
import { Assets } from './assets.js';
import { Backends } from './backends.js';
import { consoleEnv } from './config.js';
import { createConsoleServer } from './server.js';
import { parseSessionKeys } from './session.js';

await runService({
  service: 'console',
  env: consoleEnv,
  async start(ctx) {
    const c = ctx.config;
    if (Boolean(c.CONSOLE_TLS_CERT_FILE) !== Boolean(c.CONSOLE_TLS_KEY_FILE))
      throw new Error('CONSOLE_TLS_CERT_FILE and CONSOLE_TLS_KEY_FILE must be set together');
    const sessionKeys = c.CONSOLE_SESSION_KEY ? parseSessionKeys(c.CONSOLE_SESSION_KEY) : undefined;
    // src/main.ts and the bundle dist/main.js both sit one level under the package.
    const here = path.dirname(fileURLToPath(import.meta.url));
    const assets = new Assets(c.CONSOLE_ASSETS_DIR ?? path.resolve(here, '../dist/web'));
    if (!assets.built)
      ctx.logger.warn({ dir: assets.dir }, 'the web application is not built: pages answer 503');
    const backends = new Backends({
      admin: c.ADMIN_GRPC_ADDRESS,
      dlr: c.DLR_GRPC_ADDRESS,
      rating: c.RATING_GRPC_ADDRESS,
      stats: c.STATS_GRPC_ADDRESS,
      routing: c.ROUTING_GRPC_ADDRESS,
      tls: c.CONSOLE_GRPC_TLS,
      caFile: c.CONSOLE_GRPC_CA_FILE,
    });
    ctx.lifecycle.onShutdown('grpc clients', () => backends.close());
    const server = createConsoleServer({
      options: {
        host: c.CONSOLE_HOST,
        port: c.CONSOLE_PORT,
        idleMs: c.CONSOLE_SESSION_IDLE_MINUTES * 60_000,
        maxMs: c.CONSOLE_SESSION_MAX_HOURS * 3_600_000,
        ...(sessionKeys ? { sessionKeys } : {}),
        ...(c.CONSOLE_TLS_CERT_FILE && c.CONSOLE_TLS_KEY_FILE
          ? {
              https: {
                cert: readFileSync(c.CONSOLE_TLS_CERT_FILE),
                key: readFileSync(c.CONSOLE_TLS_KEY_FILE),
              },
            }
          : {}),
      },
      backends,
      assets,
      logger: ctx.logger,
    });
    ctx.lifecycle.onShutdown('console http', () => server.stop());
    const { port } = await server.start();
    ctx.logger.info(
      { port, tls: Boolean(c.CONSOLE_TLS_CERT_FILE), sessions: sessionKeys ? 'sealed' : 'memory' },
      'console listening',
    );
  },
});
