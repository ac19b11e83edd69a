import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import {
  SmppSession,
  silentLogger,
  type BindHandler,
  type RequestHandlers,
  type SmppLogger,
} from './session.js';
import { TLS_SERVER_POLICY } from './tls-policy.js';

/**
 * SMPP server (SMSC side) over TCP or TLS. Replaces node-smpp's Server, a thin net.Server subclass whose
 * sessions have the problems listed in session.ts. Each connection gets its own SmppSession: a broken
 * peer can only ever close its own session.
 */
/** TLS of SMPP listeners unless `tls` says otherwise: the hub's one policy (tls-policy.ts). */
export const SMPP_TLS_SERVER_DEFAULTS: tls.TlsOptions = { ...TLS_SERVER_POLICY };

export interface SmppServerOptions {
  /**
   * Listen with TLS using this certificate and key (PEM). Other tls.TlsOptions may be added; versions and
   * ciphers default to SMPP_TLS_SERVER_DEFAULTS.
   */
  tls?: { cert: string | Buffer; key: string | Buffer } & tls.TlsOptions;
  /** Decides binds: return ESME_ROK (0) to accept, or ESME_RINVPASWD / ESME_RINVSYSID / ESME_RBINDFAIL ... */
  onBind: BindHandler;
  /** Handlers for inbound requests (submit_sm, data_sm, query_sm, cancel_sm, replace_sm, submit_multi). */
  handlers?: RequestHandlers;
  /** Called for every new connection, before any PDU is read (e.g. to attach listeners). */
  onSession?: (session: SmppSession) => void;
  /** system_id in bind_resp when onBind does not set one. Default 'smshub'. */
  systemId?: string;
  /** No PDU from the ESME for N ms: unbind and close. Default 120 000; 0 disables. */
  idleTimeoutMs?: number;
  /** Close connections that have not bound within N ms (enquire_link does not count). Default 30 000; 0 disables. */
  bindTimeoutMs?: number;
  /** Outbound (deliver_sm) window per session. Default 10. */
  window?: number;
  /** Inbound requests in flight per session before answering overWindowStatus. Default 100. */
  inboundWindow?: number;
  /** Default ESME_RTHROTTLED. */
  overWindowStatus?: number;
  responseTimeoutMs?: number;
  /** Server-originated enquire_link period (0 = only answer the ESME's). Default 0. */
  enquireLinkMs?: number;
  maxPduLength?: number;
  /** Refuse connections beyond this count (socket closed at once). Default unlimited. */
  maxConnections?: number;
  logger?: SmppLogger;
}

export interface SmppServer {
  /** Listen; port 0 picks a free port. Resolves with the bound address. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  address(): AddressInfo | null;
  /** Sessions currently connected (bound or not). */
  readonly sessions: ReadonlySet<SmppSession>;
  /**
   * Stop accepting, unbind every session (waiting up to graceMs for unbind_resp and in-flight work), then
   * destroy whatever is left. Default graceMs 5000.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  /** The underlying net.Server / tls.Server. */
  readonly server: net.Server;
}

export function createSmppServer(options: SmppServerOptions): SmppServer {
  const log = options.logger ?? silentLogger;
  const sessions = new Set<SmppSession>();
  const onSocket = (socket: net.Socket): void => {
    if (options.maxConnections !== undefined && sessions.size >= options.maxConnections) {
      log.warn({ remote: socket.remoteAddress }, 'smpp connection refused: too many connections');
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const session = new SmppSession(socket, {
      side: 'server',
      onBind: options.onBind,
      handlers: options.handlers ?? {},
      systemId: options.systemId ?? 'smshub',
      idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
      bindTimeoutMs: options.bindTimeoutMs ?? 30_000,
      ...(options.window !== undefined && { window: options.window }),
      ...(options.inboundWindow !== undefined && { inboundWindow: options.inboundWindow }),
      ...(options.overWindowStatus !== undefined && { overWindowStatus: options.overWindowStatus }),
      ...(options.responseTimeoutMs !== undefined && { responseTimeoutMs: options.responseTimeoutMs }),
      ...(options.enquireLinkMs !== undefined && { enquireLinkMs: options.enquireLinkMs }),
      ...(options.maxPduLength !== undefined && { maxPduLength: options.maxPduLength }),
      logger: log,
    });
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    try {
      options.onSession?.(session);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'smpp onSession failed');
    }
  };
  const server: net.Server = options.tls
    ? tls.createServer({ ...SMPP_TLS_SERVER_DEFAULTS, ...options.tls }, onSocket)
    : net.createServer(onSocket);
  server.on('error', (err) => log.error({ err: err.message }, 'smpp server error'));
  if (options.tls) {
    // A failed handshake must not reach the process as an unhandled error.
    server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'smpp tls handshake failed'));
  }

  return {
    server,
    sessions,
    address: () => server.address() as AddressInfo | null,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (e: Error): void => reject(e);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close({ graceMs = 5000 } = {}) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const all = [...sessions];
      const timer = setTimeout(() => all.forEach((s) => s.destroy()), graceMs);
      timer.unref();
      await Promise.all(all.map((s) => s.close()));
      clearTimeout(timer);
      await stopped;
    },
  };
}
