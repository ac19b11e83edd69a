// The one way a service starts its gRPC server: listen address (loopback unless configured), optional TLS
// from PEM files (ECDHE + AEAD suites only; a renewed certificate is picked up without a restart),
// grpc.health.v1 for every registered service, and a graceful stop bounded by a grace period.
// Authentication, metrics and error mapping belong to each service's handlers, not here.
import { X509Certificate } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@smshub/logging';
import { TLS_SERVER_POLICY } from '@smshub/smpp/tls-policy';

/** Where a process listens when its configuration names no address: this machine only. */
export const DEFAULT_HOST = '127.0.0.1';

/** TLS policy of the gRPC servers: the hub's one policy, as SMPP's (libs/smpp tls-policy.ts). */
export const GRPC_TLS_SERVER_OPTIONS = TLS_SERVER_POLICY;

/** How often the certificate files are checked for a renewal, by default. */
export const TLS_RELOAD_INTERVAL_MS = 10_000;

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
  /** How often the TLS files are checked for a new certificate (ms). Default TLS_RELOAD_INTERVAL_MS. */
  tlsReloadIntervalMs?: number;
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

/** Reads the pair and checks that it makes a TLS context (PEM that parses, a key that fits the certificate). */
async function loadPair(tls: TlsFiles): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readPem(tls.certFile, 'certificate'), readPem(tls.keyFile, 'key')]);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new GrpcStartError(
      `the gRPC TLS certificate ${tls.certFile} and key ${tls.keyFile} are not a usable pair: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { cert, key };
}

/** Expiry and fingerprint of the leaf certificate, for the logs. */
function describeCert(cert: Buffer): { notAfter?: string; fingerprint256?: string } {
  try {
    const x = new X509Certificate(cert);
    return { notAfter: new Date(x.validTo).toISOString(), fingerprint256: x.fingerprint256 };
  } catch {
    return {};
  }
}

/**
 * TLS server credentials whose certificate can be replaced while the server runs: grpc-js applies a new
 * secure context to its listening sockets (new connections get it; open ones keep theirs).
 */
class ReloadableTlsCredentials extends grpc.ServerCredentials {
  constructor(context: SecureContextOptions) {
    super({ ...GRPC_TLS_SERVER_OPTIONS }, context);
  }
  replace(context: SecureContextOptions): void {
    this.updateSecureContextOptions(context);
  }
  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** Server credentials: TLS from the files (GRPC_TLS_SERVER_OPTIONS), else plaintext. */
export async function serverCredentials(tls: TlsFiles | undefined): Promise<grpc.ServerCredentials> {
  return tls ? new ReloadableTlsCredentials(await loadPair(tls)) : grpc.ServerCredentials.createInsecure();
}

/**
 * Watches the certificate and key files and swaps in a changed pair once both fit together (a Kubernetes
 * Secret volume swaps both at once; files copied one by one fit after the second). A pair that does not
 * load is logged and the current certificate kept. Returns the function that stops watching.
 */
function watchTls(
  tls: TlsFiles,
  creds: ReloadableTlsCredentials,
  current: Buffer,
  intervalMs: number,
  log: Logger,
): () => void {
  let loaded = current;
  let running: Promise<void> = Promise.resolve();
  const check = () => {
    running = running.then(async () => {
      try {
        const pair = await loadPair(tls);
        if (pair.cert.equals(loaded)) return;
        creds.replace(pair);
        loaded = pair.cert;
        log.info({ certFile: tls.certFile, ...describeCert(pair.cert) }, 'gRPC TLS certificate reloaded');
      } catch (err) {
        log.warn(
          { certFile: tls.certFile, err: (err as Error).message },
          'gRPC TLS certificate not reloaded: keeping the current one',
        );
      }
    });
  };
  const opts = { interval: intervalMs, persistent: false };
  watchFile(tls.certFile, opts, check);
  watchFile(tls.keyFile, opts, check);
  return () => {
    unwatchFile(tls.certFile, check);
    unwatchFile(tls.keyFile, check);
  };
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
  const pair = opts.tls ? await loadPair(opts.tls) : undefined;
  const tlsCredentials = pair ? new ReloadableTlsCredentials(pair) : undefined;
  const credentials = tlsCredentials ?? grpc.ServerCredentials.createInsecure();
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
    {
      grpcHost: host,
      grpcPort: port,
      tls: Boolean(opts.tls),
      services: names,
      ...(pair ? describeCert(pair.cert) : {}),
    },
    'gRPC listening',
  );
  const unwatch =
    opts.tls && pair && tlsCredentials
      ? watchTls(
          opts.tls,
          tlsCredentials,
          pair.cert,
          opts.tlsReloadIntervalMs ?? TLS_RELOAD_INTERVAL_MS,
          opts.logger,
        )
      : () => undefined;

  let stopping: Promise<void> | undefined;
  return {
    port,
    host,
    tls: Boolean(opts.tls),
    health,
    server,
    stop(graceMs = opts.graceMs ?? 5_000) {
      stopping ??= new Promise<void>((resolve) => {
        unwatch();
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
