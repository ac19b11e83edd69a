// The gRPC server: AdminService behind token authentication, grpc.health.v1 (grpc-health-check) and server
// reflection (@grpc/reflection, from the embedded descriptor set of admin_service.proto) without a token;
// listen address, TLS and graceful stop come from @smshub/grpc.
import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { AdminServiceService, type AdminServiceServer } from '@smshub/contracts';
import { startGrpcServer as startServer, type GrpcServer, type TlsFiles } from '@smshub/grpc';
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

export type { GrpcServer };

export interface ServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  tls?: TlsFiles;
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

/** Binds AdminService, health and reflection (libs/grpc: host, TLS, graceful stop). */
export async function startGrpcServer(
  impl: AdminServiceServer,
  opts: ServerOptions,
  log: Logger,
): Promise<GrpcServer> {
  // The descriptor set is embedded (src/gen/descriptor.ts), so reflection works in bundles and images too.
  const definition = loadFileDescriptorSetFromBuffer(Buffer.from(ADMIN_DESCRIPTOR_SET, 'base64'), {
    keepCase: true,
  });
  return startServer({
    port: opts.port,
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    services: [
      {
        name: ADMIN_SERVICE_NAME,
        definition: AdminServiceService,
        implementation: impl as unknown as grpc.UntypedServiceImplementation,
      },
    ],
    register: (server) =>
      new ReflectionService(definition, { services: [ADMIN_SERVICE_NAME] }).addToServer(server),
    // CSV imports may be up to 32 MiB (plus framing).
    serverOptions: { 'grpc.max_receive_message_length': 33 * 1024 * 1024 },
    logger: log,
  });
}
