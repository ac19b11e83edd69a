// The gRPC server: AdminService behind token authentication, grpc.health.v1 (grpc-health-check) and server
// reflection (@grpc/reflection, from the embedded descriptor set of admin_service.proto) without a token,
// optional TLS.
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { AdminServiceService, type AdminServiceServer } from '@smshub/contracts';
import type { Logger } from '@smshub/logging';
import type { TokenAuth } from './auth.js';
import { RpcError } from './errors.js';
import { ADMIN_DESCRIPTOR_SET } from './gen/descriptor.js';
import { adminMetrics } from './metrics.js';

export const ADMIN_SERVICE_NAME = 'smshub.admin.v1.AdminService';

/** The handlers of AdminService as plain async functions of the request. */
export type AdminHandlers = {
  [
    K in keyof AdminServiceServer as string extends K ? never : K
  ]: AdminServiceServer[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? (req: Req) => Promise<Res>
    : never;
};

export interface GrpcServer {
  readonly port: number;
  readonly health: HealthImplementation;
  stop(graceMs?: number): Promise<void>;
}

export interface ServerOptions {
  port: number;
  host?: string;
  tls?: { certFile: string; keyFile: string };
}

/** Wraps each handler: authentication, metrics, and errors as gRPC statuses (never a stack trace). */
export function toGrpc(handlers: AdminHandlers, auth: TokenAuth, log: Logger): AdminServiceServer {
  const out: Record<string, grpc.handleUnaryCall<unknown, unknown>> = {};
  for (const [name, fn] of Object.entries(handlers) as [string, (req: unknown) => Promise<unknown>][]) {
    const method = name.charAt(0).toUpperCase() + name.slice(1);
    out[name] = (call, callback) => {
      const end = adminMetrics.duration.startTimer({ method });
      const done = (err: grpc.ServiceError | null, res?: unknown) => {
        end();
        adminMetrics.requests.inc({ method, code: grpc.status[err ? err.code : grpc.status.OK] });
        callback(err, res);
      };
      let pending: Promise<unknown>;
      try {
        auth.check(call.metadata);
        pending = fn(call.request);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (res) => done(null, res),
        (err: unknown) => {
          if (err instanceof RpcError) {
            if (err.code === grpc.status.UNAUTHENTICATED) adminMetrics.authFailures.inc();
            else log.info({ rpc: method, code: grpc.status[err.code], msg: err.message }, 'rpc refused');
            done(rpcStatus(err.code, err.message));
            return;
          }
          log.error({ err, rpc: method }, 'rpc failed');
          done(rpcStatus(grpc.status.INTERNAL, 'internal error'));
        },
      );
    };
  }
  return out as unknown as AdminServiceServer;
}

function rpcStatus(code: grpc.status, message: string): grpc.ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

/** Binds AdminService, health and reflection on host:port (0 = any free port). */
export async function startGrpcServer(
  impl: AdminServiceServer,
  opts: ServerOptions,
  log: Logger,
): Promise<GrpcServer> {
  // CSV imports may be up to 32 MiB (plus framing).
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 33 * 1024 * 1024 });
  server.addService(AdminServiceService, impl);
  const health = new HealthImplementation({ '': 'SERVING', [ADMIN_SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);

  // The descriptor set is embedded (src/gen/descriptor.ts), so reflection works in bundles and images too.
  const definition = loadFileDescriptorSetFromBuffer(Buffer.from(ADMIN_DESCRIPTOR_SET, 'base64'), {
    keepCase: true,
  });
  new ReflectionService(definition, { services: [ADMIN_SERVICE_NAME] }).addToServer(server);

  const credentials = opts.tls
    ? grpc.ServerCredentials.createSsl(null, [
        {
          cert_chain: await readFile(opts.tls.certFile),
          private_key: await readFile(opts.tls.keyFile),
        },
      ])
    : grpc.ServerCredentials.createInsecure();
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host ?? '0.0.0.0'}:${opts.port}`, credentials, (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  log.info({ grpcPort: bound, tls: Boolean(opts.tls) }, 'gRPC AdminService listening');
  return {
    port: bound,
    health,
    stop: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(ADMIN_SERVICE_NAME, 'NOT_SERVING');
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
