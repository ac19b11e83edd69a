import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@smshub/logging';
import { metricsRegistry } from '@smshub/telemetry';
import type { Registry } from 'prom-client';

export interface LifecycleOptions {
  service: string;
  logger: Logger;
  /** Port of the health/metrics server; 0 picks a free one (see `port`). */
  httpPort: number;
  /** Listen address. Default 127.0.0.1: /metrics is not for everyone (containers pass 0.0.0.0). */
  host?: string;
  /** Total time the shutdown hooks get, in ms. Default 30000. Keep it below the orchestrator's kill timeout. */
  graceMs?: number;
  /** Served on /metrics. Default: metricsRegistry of @smshub/telemetry. */
  registry?: Registry;
  /** Called with the exit code after a signal-triggered shutdown. Default process.exit. */
  exit?: (code: number) => void;
}

export interface Lifecycle {
  /** Starts the HTTP server; resolves when listening, rejects when the port cannot be bound. */
  start(): Promise<void>;
  /** Actual port once started (useful with httpPort 0); before start, the configured port. */
  readonly port: number;
  /** /readyz answers 200 only while ready and not shutting down. Starts not ready. */
  setReady(ready: boolean): void;
  /**
   * Registers a shutdown step. Steps run in reverse order of registration, each bounded by the remaining
   * grace. A step registered while the shutdown is running (by a start-up it waited for, see `starting`)
   * runs next; one registered after the steps have all run is logged and dropped.
   */
  onShutdown(name: string, fn: () => Promise<void> | void): void;
  /**
   * Declares a start-up under way. A shutdown that begins before `task` settles first waits for it (within
   * the grace period), so that nothing is stopped while it is still being created and the steps it
   * registers meanwhile run too.
   */
  starting(task: Promise<unknown>): void;
  /** Traps SIGTERM and SIGINT once; the first starts shutdown then exits with its code, a second forces exit 1. */
  trapSignals(): void;
  /** Idempotent. Goes not ready, runs the steps, closes the HTTP server; resolves 0 if every step succeeded in time, else 1. */
  shutdown(reason: string): Promise<number>;
  readonly shuttingDown: boolean;
  /** What /readyz reports. */
  readonly ready: boolean;
  /** What /livez reports: false once a shutdown has run past its grace period. */
  readonly live: boolean;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

class GraceExceeded extends Error {
  constructor(step: string, ms: number) {
    super(`shutdown step "${step}" did not finish within the remaining grace period (${ms} ms)`);
    this.name = 'GraceExceeded';
  }
}

function json(res: ServerResponse, status: number, body: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function createLifecycle(opts: LifecycleOptions): Lifecycle {
  const log = opts.logger.child({ component: 'lifecycle' });
  const graceMs = opts.graceMs ?? 30_000;
  const registry = opts.registry ?? metricsRegistry;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const hooks: { name: string; fn: () => Promise<void> | void }[] = [];
  let startup: Promise<void> | undefined;
  let stepsDone = false;

  let ready = false;
  let shuttingDown = false;
  let graceExceeded = false;
  let server: Server | undefined;
  let shutdownPromise: Promise<number> | undefined;
  let trapped = false;
  let signalCount = 0;
  const listeners = new Map<string, () => void>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      json(res, 405, { status: 'method not allowed' });
      return;
    }
    switch (path) {
      case '/livez':
        if (graceExceeded) json(res, 503, { status: 'shutdown grace period exceeded' });
        else json(res, 200, { status: 'ok' });
        return;
      case '/readyz':
        if (ready && !shuttingDown) json(res, 200, { status: 'ready' });
        else json(res, 503, { status: shuttingDown ? 'shutting down' : 'not ready' });
        return;
      case '/metrics':
        try {
          const text = await registry.metrics();
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        } catch (err) {
          log.error({ err }, 'collecting metrics failed');
          json(res, 500, { status: 'metrics collection failed' });
        }
        return;
      default:
        json(res, 404, { status: 'not found' });
    }
  }

  function closeServer(): Promise<void> {
    const s = server;
    if (!s || !s.listening) return Promise.resolve();
    return new Promise((resolve) => {
      s.close(() => resolve());
      // Scrapers and probes keep connections alive; every response is already complete.
      s.closeAllConnections();
    });
  }

  async function runHook(
    hook: { name: string; fn: () => Promise<void> | void },
    deadline: number,
  ): Promise<boolean> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      log.error({ step: hook.name }, 'shutdown step skipped: grace period exhausted');
      return false;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GraceExceeded(hook.name, remaining)), remaining);
    });
    const started = Date.now();
    try {
      await Promise.race([Promise.resolve().then(hook.fn), timeout]);
      log.info({ step: hook.name, ms: Date.now() - started }, 'shutdown step done');
      return true;
    } catch (err) {
      if (err instanceof GraceExceeded) graceExceeded = true;
      log.error({ err, step: hook.name }, 'shutdown step failed');
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async function run(reason: string): Promise<number> {
    shuttingDown = true;
    ready = false;
    const deadline = Date.now() + graceMs;
    const graceTimer = setTimeout(() => {
      graceExceeded = true;
    }, graceMs);
    graceTimer.unref();
    log.info({ reason, graceMs, steps: hooks.length }, 'shutting down');
    let ok = true;
    const pending = startup;
    if (pending) {
      // A start-up still creating consumers, servers and connections: stopping what exists now would miss
      // what it creates next (and a pool would then wait out the grace period for a client it holds).
      if (!(await runHook({ name: 'wait for start-up to finish', fn: () => pending }, deadline))) ok = false;
    }
    // Popped one at a time, not copied: steps the start-up registered while the shutdown waited run too.
    for (let hook = hooks.pop(); hook; hook = hooks.pop()) {
      if (!(await runHook(hook, deadline))) ok = false;
    }
    stepsDone = true;
    clearTimeout(graceTimer);
    await closeServer();
    const code = ok ? 0 : 1;
    if (ok) log.info({ reason }, 'shutdown complete');
    else log.error({ reason, exitCode: code }, 'shutdown finished with failures');
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
    listeners.clear();
    return code;
  }

  const lifecycle: Lifecycle = {
    get port() {
      const address = server?.address();
      return address && typeof address === 'object' ? (address as AddressInfo).port : opts.httpPort;
    },
    get shuttingDown() {
      return shuttingDown;
    },
    get ready() {
      return ready && !shuttingDown;
    },
    get live() {
      return !graceExceeded;
    },
    start() {
      if (server) return Promise.reject(new Error('lifecycle already started'));
      const s = createServer((req, res) => {
        handle(req, res).catch((err: unknown) => {
          log.error({ err }, 'health endpoint failed');
          if (!res.headersSent) json(res, 500, { status: 'error' });
          else res.destroy();
        });
      });
      server = s;
      return new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        s.once('error', onError);
        s.listen(opts.httpPort, opts.host ?? '127.0.0.1', () => {
          s.removeListener('error', onError);
          s.on('error', (err) => log.error({ err }, 'health server error'));
          log.info({ host: opts.host ?? '127.0.0.1', port: lifecycle.port }, 'health server listening');
          resolve();
        });
      });
    },
    setReady(value: boolean) {
      if (shuttingDown && value) return;
      if (ready !== value) log.info({ ready: value }, value ? 'ready' : 'not ready');
      ready = value;
    },
    onShutdown(name, fn) {
      if (stepsDone) {
        log.warn({ step: name }, 'shutdown step registered after the shutdown steps ran; it will not run');
        return;
      }
      hooks.push({ name, fn });
    },
    starting(task) {
      // Settled either way: a start-up that fails is reported by whoever started it, not by the shutdown.
      const settled: Promise<void> = task.then(
        () => undefined,
        () => undefined,
      );
      startup = settled;
      void settled.then(() => {
        if (startup === settled) startup = undefined;
      });
    },
    trapSignals() {
      if (trapped) return;
      trapped = true;
      for (const signal of SIGNALS) {
        const listener = () => {
          signalCount += 1;
          if (signalCount > 1) {
            log.warn({ signal }, 'second signal during shutdown: forcing exit 1');
            exit(1);
            return;
          }
          lifecycle.shutdown(`signal ${signal}`).then(exit, (err: unknown) => {
            log.fatal({ err }, 'shutdown crashed');
            exit(1);
          });
        };
        listeners.set(signal, listener);
        process.on(signal, listener);
      }
    },
    shutdown(reason: string) {
      shutdownPromise ??= run(reason);
      return shutdownPromise;
    },
  };
  return lifecycle;
}

/** For main.ts: logs a start-up failure as fatal and exits 1. */
export function fatal(
  logger: Logger,
  err: unknown,
  message = 'start-up failed',
  exit: (code: number) => void = process.exit,
): never {
  logger.fatal({ err }, message);
  exit(1);
  throw err instanceof Error ? err : new Error(String(err));
}
