// The console's HTTP(S) server: the JSON API (api.ts) and the web application (assets.ts), with the
// headers a console needs (a strict Content-Security-Policy, no framing, no sniffing, no referrer).
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '@smshub/logging';
import { registerApi } from './api.js';
import type { Assets } from './assets.js';
import { type Backends, ConsoleError } from './backends.js';
import { MemorySessions, SealedSessions, type SessionStore } from './session.js';

export interface ConsoleOptions {
  host: string;
  port: number;
  https?: { cert: Buffer; key: Buffer };
  idleMs: number;
  maxMs: number;
  /**
   * CONSOLE_SESSION_KEY's keys: sessions sealed into the cookie (any replica with the same keys serves any
   * browser); none: sessions in this process's memory.
   */
  sessionKeys?: Buffer[];
}

export interface ConsoleServer {
  app: FastifyInstance;
  sessions: SessionStore;
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot positions its legend and cursor with style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export function createConsoleServer(deps: {
  options: ConsoleOptions;
  backends: Backends;
  assets: Assets;
  logger: Logger;
}): ConsoleServer {
  const { options, backends, assets } = deps;
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }),
    disableRequestLogging: true,
    bodyLimit: 256 * 1024,
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  const limits = { idleMs: options.idleMs, maxMs: options.maxMs };
  const sessions: SessionStore = options.sessionKeys?.length
    ? new SealedSessions(options.sessionKeys, limits)
    : new MemorySessions(limits);

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    if (options.https) reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ConsoleError) {
      if (err.httpStatus >= 500) req.log.warn({ err, url: req.url }, 'console request failed');
      return reply.status(err.httpStatus).send({ error: err.message });
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.status(status).send({ error: (err as Error).message });
    req.log.error({ err, url: req.url }, 'console request failed');
    return reply.status(500).send({ error: 'internal error' });
  });

  registerApi(app, {
    backends,
    sessions,
    tls: Boolean(options.https),
    maxAgeSeconds: Math.floor(options.maxMs / 1000),
  });

  app.get('/*', async (req, reply) => {
    if (req.url.startsWith('/api/')) return reply.status(404).send({ error: 'no such API route' });
    if (!assets.built)
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send(
          `The console's web application is not built (${assets.dir}): run npm run build:web -w services/console.`,
        );
    const a = assets.lookup(req.url);
    if (!a) return reply.status(404).type('text/plain').send('not found');
    return reply
      .type(a.type)
      .header('cache-control', a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(a.body);
  });

  return {
    app,
    sessions,
    async start() {
      await app.listen({ host: options.host, port: options.port });
      const addr = app.server.address();
      return { port: typeof addr === 'object' && addr ? addr.port : options.port };
    },
    async stop() {
      await app.close();
    },
  };
}
