// The gRPC server: AdminService and server reflection (@grpc/reflection, from the embedded descriptor set
// of admin_service.proto) behind libs/auth (token and role on every call), grpc.health.v1 without a token;
// listen address, TLS and graceful stop come from @smshub/grpc.
import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { AdminServiceService, type AdminServiceServer } from '@smshub/contracts';
import { startGrpcServer as startServer, type GrpcServer, type TlsFiles } from '@smshub/grpc';
import type { Logger } from '@smshub/logging';
import {
  callInfo,
  guardedRegistrar,
  guardService,
  METHODS,
  WRITE_PERMISSIONS,
  type CallInfo,
  type Guard,
} from '@smshub/auth';
import type { AuditLog } from './audit.js';
import { RpcError } from './errors.js';
import { ADMIN_DESCRIPTOR_SET } from './gen/descriptor.js';
import { adminMetrics } from './metrics.js';

export const ADMIN_SERVICE_NAME = 'smshub.admin.v1.AdminService';

/** The handlers of AdminService as plain async functions of the request and its (authenticated) caller. */
export type AdminHandlers = {
  [
    K in keyof AdminServiceServer as string extends K ? never : K
  ]: AdminServiceServer[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? (req: Req, call: CallInfo) => Promise<Res>
    : never;
};

export type { GrpcServer };

export interface ServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  tls?: TlsFiles;
  /** Authentication and roles for AdminService and reflection (libs/auth). */
  guard: Guard;
}

type Handler = (req: unknown, call: CallInfo) => Promise<unknown>;

/**
 * Wraps each handler: the audit log for writes (every method whose permission is a write, in one place),
 * metrics, and errors as gRPC statuses (never a stack trace). Authentication and roles are applied around
 * the result by startGrpcServer (guardService), so handlers only run for an authorised caller.
 */
export function toGrpc(handlers: AdminHandlers, log: Logger, audit: AuditLog): AdminServiceServer {
  return toGrpcService(ADMIN_SERVICE_NAME, handlers, log, audit) as unknown as AdminServiceServer;
}

/** toGrpc for another service served next to AdminService (DeadLetterService). */
export function toGrpcService(
  serviceName: string,
  handlers: object,
  log: Logger,
  audit: AuditLog,
): grpc.UntypedServiceImplementation {
  const out: Record<string, grpc.handleUnaryCall<unknown, unknown>> = {};
  const all = handlers as unknown as Record<string, Handler>;
  for (const [name, handler] of Object.entries(all)) {
    const method = name.charAt(0).toUpperCase() + name.slice(1);
    const permission = METHODS.get(`/${serviceName}/${method}`);
    const fn: Handler =
      permission !== undefined && WRITE_PERMISSIONS.has(permission)
        ? audit.wrap(method, handler, all)
        : handler;
    out[name] = (call, callback) => {
      const end = adminMetrics.duration.startTimer({ method });
      const done = (err: grpc.ServiceError | null, res?: unknown) => {
        end();
        adminMetrics.requests.inc({ method, code: grpc.status[err ? err.code : grpc.status.OK] });
        callback(err, res);
      };
      let pending: Promise<unknown>;
      try {
        pending = fn(call.request, callInfo(call));
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
  return out;
}

function rpcStatus(code: grpc.status, message: string): grpc.ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

/** Binds AdminService, health and reflection (libs/grpc: host, TLS, graceful stop). */
/** A further service on admin's port, guarded like AdminService. */
export interface ExtraService {
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export async function startGrpcServer(
  impl: AdminServiceServer,
  opts: ServerOptions,
  log: Logger,
  extra: ExtraService[] = [],
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
        implementation: guardService(
          AdminServiceService,
          impl,
          opts.guard,
        ) as unknown as grpc.UntypedServiceImplementation,
      },
      ...extra.map((x) => ({
        name: x.name,
        definition: x.definition,
        implementation: guardService(x.definition, x.implementation, opts.guard),
      })),
    ],
    // Reflection describes the API only to an authenticated caller (any staff role).
    register: (server) =>
      new ReflectionService(definition, {
        services: [ADMIN_SERVICE_NAME, ...extra.map((x) => x.name)],
      }).addToServer(guardedRegistrar(server, opts.guard)),
    // CSV imports may be up to 32 MiB (plus framing).
    serverOptions: { 'grpc.max_receive_message_length': 33 * 1024 * 1024 },
    logger: log,
  });
}
