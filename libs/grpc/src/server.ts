// The one way a service starts its gRPC server: listen address (loopback unless configured), optional TLS
// from PEM files, grpc.health.v1 for every registered service, and a graceful stop bounded by a grace
// period. Authentication, metrics and error mapping belong to each service's handlers, not here.
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@smshub/logging';

/** Where a process listens when its configuration names no address: this machine only. */
export const DEFAULT_HOST = '127.0.0.1';

/** PEM files of the server's certificate chain and private key. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A service to serve: its full name (for health), its definition and its implementation. */
export interface ServiceRegistration {
  /** Fully qualified name, e.g. smshub.messages.v1.MessageService (reported by grpc.health.v1). */
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  /** Listen address; default 127.0.0.1 (set 0.0.0.0 in containers). */
  host?: string;
  /** 0 picks a free port (see GrpcServer.port). */
  port: number;
  /** TLS with this certificate and key; omitted = plaintext. */
  tls?: TlsFiles;
  services: ServiceRegistration[];
  /** Registers extra services (reflection) on the server before it binds. */
  register?(server: grpc.Server): void;
  /** grpc-js server options (message size limits and the like). */
  serverOptions?: grpc.ServerOptions;
  logger: Logger;
  /** Default graceful stop period of stop(), in ms. Default 5000. */
  graceMs?: number;
}

export interface GrpcServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly host: string;
  readonly tls: boolean;
  readonly health: HealthImplementation;
  readonly server: grpc.Server;
  /**
   * Reports NOT_SERVING on grpc.health.v1, stops accepting calls, lets in-flight calls finish within
   * graceMs, then cancels whatever is left. Idempotent.
   */
  stop(graceMs?: number): Promise<void>;
}

/** A start-up failure the operator can act on (unreadable certificate, address in use). */
export class GrpcStartError extends Error {
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GrpcStartError';
  }
}

/** Host part of a listen address for grpc-js: IPv6 literals in brackets. */
function target(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new GrpcStartError(`cannot read the gRPC TLS ${what} ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Server credentials: TLS from the files, else plaintext. */
export async function serverCredentials(tls: TlsFiles | undefined): Promise<grpc.ServerCredentials> {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const [certChain, privateKey] = await Promise.all([
    readPem(tls.certFile, 'certificate'),
    readPem(tls.keyFile, 'key'),
  ]);
  try {
    return grpc.ServerCredentials.createSsl(null, [{ cert_chain: certChain, private_key: privateKey }]);
  } catch (err) {
    throw new GrpcStartError(
      `the gRPC TLS certificate ${tls.certFile} or key ${tls.keyFile} is not usable PEM: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * TLS files from a pair of optional settings: both or neither. Throws a sentence naming the variables
 * when only one is given.
 */
export function tlsFiles(
  certFile: string | undefined,
  keyFile: string | undefined,
  names: { cert: string; key: string } = { cert: 'GRPC_TLS_CERT_FILE', key: 'GRPC_TLS_KEY_FILE' },
): TlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new GrpcStartError(`${names.cert} and ${names.key} must be set together`);
  }
  return { certFile, keyFile };
}

/** Starts a gRPC server with the services, grpc.health.v1 and the given credentials; resolves once bound. */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServer> {
  const host = opts.host ?? DEFAULT_HOST;
  const credentials = await serverCredentials(opts.tls);
  const server = new grpc.Server(opts.serverOptions);
  for (const s of opts.services) server.addService(s.definition, s.implementation);
  const health = new HealthImplementation({
    '': 'SERVING',
    ...Object.fromEntries(opts.services.map((s) => [s.name, 'SERVING' as const])),
  });
  health.addToServer(server);
  opts.register?.(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target(host, opts.port), credentials, (err, p) =>
      err
        ? reject(
            new GrpcStartError(`cannot listen on ${target(host, opts.port)}: ${err.message}`, { cause: err }),
          )
        : resolve(p),
    );
  });
  const names = opts.services.map((s) => s.name);
  opts.logger.info(
    { grpcHost: host, grpcPort: port, tls: Boolean(opts.tls), services: names },
    'gRPC listening',
  );

  let stopping: Promise<void> | undefined;
  return {
    port,
    host,
    tls: Boolean(opts.tls),
    health,
    server,
    stop(graceMs = opts.graceMs ?? 5_000) {
      stopping ??= new Promise<void>((resolve) => {
        for (const name of ['', ...names]) health.setStatus(name, 'NOT_SERVING');
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopping;
    },
  };
}
