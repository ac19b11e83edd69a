import net from 'node:net';
import tls from 'node:tls';
import { SmppClosedError, SmppError } from './errors.js';
import { SmppSession, type BindType, type RequestHandlers, type SmppLogger } from './session.js';

/**
 * Connect and bind as an ESME. Replaces node-smpp's connect(): TLS verifies the server certificate by
 * default (node-smpp sets rejectUnauthorized=false), and the returned session has the window, timeouts,
 * enquire_link and backpressure of SmppSession.
 */
export interface ConnectSmppOptions {
  host: string;
  port: number;
  /** true = TLS with defaults; or tls.ConnectionOptions (ca, servername, rejectUnauthorized, ...). rejectUnauthorized defaults to TRUE. */
  tls?: boolean | tls.ConnectionOptions;
  systemId: string;
  password: string;
  systemType?: string;
  bindType: BindType;
  /** 0x34 (SMPP 3.4, default) or 0x50 (5.0). */
  interfaceVersion?: number;
  addrTon?: number;
  addrNpi?: number;
  addressRange?: string;
  /** enquire_link period while bound. Default 30 000 ms; 0 disables. */
  enquireLinkMs?: number;
  /** Per-request response timeout (also for the bind). Default 30 000 ms. */
  responseTimeoutMs?: number;
  /** Outbound window. Default 10. */
  window?: number;
  /** TCP/TLS connect timeout. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Local address to connect from (a host with several addresses; tests use 127.0.0.x). */
  localAddress?: string;
  /** Handlers for deliver_sm / data_sm / alert_notification from the SMSC. */
  handlers?: RequestHandlers;
  /** Inbound requests in flight before answering overWindowStatus. Default 100. */
  inboundWindow?: number;
  overWindowStatus?: number;
  /** Close after N ms without any PDU from the SMSC (0 = never, the default). */
  idleTimeoutMs?: number;
  maxPduLength?: number;
  logger?: SmppLogger;
}

/** Open the socket only, without binding (for tests of wrong steps, or custom bind flows). */
export function openSmppSession(
  options: Omit<ConnectSmppOptions, 'systemId' | 'password' | 'bindType'>,
): Promise<SmppSession> {
  return new Promise<SmppSession>((resolve, reject) => {
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    let socket: net.Socket;
    const readyEvent = options.tls ? 'secureConnect' : 'connect';
    if (options.tls) {
      const tlsOpts: tls.ConnectionOptions = typeof options.tls === 'object' ? options.tls : {};
      socket = tls.connect({
        servername: net.isIP(options.host) ? undefined : options.host,
        ...tlsOpts,
        host: options.host,
        port: options.port,
        ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
        rejectUnauthorized: tlsOpts.rejectUnauthorized ?? true,
      });
    } else {
      socket = net.connect({
        host: options.host,
        port: options.port,
        ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
      });
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new SmppError(`connect to ${options.host}:${options.port} timed out after ${connectTimeoutMs} ms`, {
          retriable: true,
        }),
      );
    }, connectTimeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new SmppError(`connect to ${options.host}:${options.port} failed: ${err.message}`, {
          retriable: true,
          cause: err,
        }),
      );
    };
    socket.once('error', onError);
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(
        new SmppSession(socket, {
          side: 'client',
          enquireLinkMs: options.enquireLinkMs ?? 30_000,
          ...(options.responseTimeoutMs !== undefined && { responseTimeoutMs: options.responseTimeoutMs }),
          ...(options.window !== undefined && { window: options.window }),
          ...(options.inboundWindow !== undefined && { inboundWindow: options.inboundWindow }),
          ...(options.overWindowStatus !== undefined && { overWindowStatus: options.overWindowStatus }),
          ...(options.idleTimeoutMs !== undefined && { idleTimeoutMs: options.idleTimeoutMs }),
          ...(options.maxPduLength !== undefined && { maxPduLength: options.maxPduLength }),
          ...(options.handlers !== undefined && { handlers: options.handlers }),
          ...(options.logger !== undefined && { logger: options.logger }),
        }),
      );
    });
  });
}

/** Connect and bind. Resolves with a bound session; rejects with SmppError (bind status in commandStatus) and closes the socket on failure. */
export async function connectSmpp(options: ConnectSmppOptions): Promise<SmppSession> {
  const session = await openSmppSession(options);
  try {
    await session.bind(options.bindType, {
      system_id: options.systemId,
      password: options.password,
      system_type: options.systemType ?? '',
      interface_version: options.interfaceVersion ?? 0x34,
      addr_ton: options.addrTon ?? 0,
      addr_npi: options.addrNpi ?? 0,
      address_range: options.addressRange ?? '',
    });
    return session;
  } catch (e) {
    session.destroy();
    if (e instanceof SmppError) throw e;
    throw new SmppClosedError('bind failed', e);
  }
}
