// The grpc-js side: guardService wraps every method of a service implementation so that it runs only for
// an authenticated caller whose role holds the method's permission (roles.ts). It is independent of how
// the server is created (credentials, bind address): wrap the implementation, then register it.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@smshub/logging';
import { counter } from '@smshub/telemetry';
import { AuthError, permissionDenied } from './errors.js';
import { describeRoles, hasPermission, methodName, METHODS, type Permission } from './roles.js';
import type { Principal, TokenVerifier } from './verifier.js';

/** The caller of a call that passed guardService. */
export interface CallInfo {
  principal: Principal;
  /** The peer address as the server saw it ("127.0.0.1:53422"). */
  peer: string;
  /** The permission the method needed. */
  permission: Permission;
}

const calls = new WeakMap<object, CallInfo>();

const refusals = counter(
  'smshub_grpc_auth_refusals_total',
  'gRPC calls refused before their handler ran (UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE) by method',
  ['method', 'code'],
);

/**
 * At most one "rpc refused" log line per (method, status, peer address) per second, so a flood of bad
 * tokens cannot flood the logs; the metric counts every refusal.
 */
class LogLimiter {
  private readonly last = new Map<string, number>();
  allow(key: string, now = Date.now()): boolean {
    const t = this.last.get(key);
    if (t !== undefined && now - t < 1_000) return false;
    if (this.last.size >= 10_000) this.last.clear();
    this.last.set(key, now);
    return true;
  }
}
const limiter = new LogLimiter();

/** The CallInfo of a guarded call; throws when the call did not pass guardService (a wiring bug). */
export function callInfo(call: object): CallInfo {
  const info = calls.get(call);
  if (info === undefined) throw new Error('call did not pass guardService');
  return info;
}

export interface Guard {
  verifier: TokenVerifier;
  logger: Logger;
  /** Called for every refused call (metrics). */
  onRefused?(event: { method: string; code: grpc.status; principal?: Principal; peer: string }): void;
}

/** Throws PERMISSION_DENIED naming the roles that may call `path` unless `principal` may. */
export function authorize(principal: Principal, path: string): Permission {
  const permission = METHODS.get(path);
  if (permission === undefined) throw permissionDenied(`${methodName(path)} is not open to any role`);
  if (!hasPermission(principal.role, permission)) {
    throw permissionDenied(
      `${methodName(path)} needs role ${describeRoles(permission)}; this token's role is ${principal.role}`,
    );
  }
  return permission;
}

/**
 * For a customer token: the account the call is limited to (the requested one must be empty or the
 * token's own, else PERMISSION_DENIED). For other roles: the requested account as is.
 */
export function accountScope(principal: Principal, requested: string, field = 'account_id'): string {
  if (principal.role !== 'customer') return requested;
  if (requested !== '' && requested !== principal.accountId) {
    throw permissionDenied(`a customer token reads only its own account; ${field} must be empty or its own`);
  }
  return principal.accountId!;
}

function serviceError(code: grpc.status, message: string): grpc.ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

/** What every kind of server call has. */
type ServerCall = { metadata: grpc.Metadata; getPeer(): string };

type AnyHandler = (call: never, callback?: never) => void;

/**
 * `impl` with every method of `definition` behind authentication and authorisation. Throws at once when
 * a method of the definition has no entry in the permission table (so none is forgotten).
 */
export function guardService<T extends object>(definition: grpc.ServiceDefinition, impl: T, guard: Guard): T {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(definition)) {
    if (!METHODS.has(def.path)) {
      throw new Error(`no permission is defined for ${def.path} (libs/auth/src/roles.ts METHODS)`);
    }
    const handler = (impl as Record<string, AnyHandler | undefined>)[key];
    if (handler === undefined) continue;
    const admit = async (call: ServerCall): Promise<void> => {
      const peer = call.getPeer();
      let principal: Principal | undefined;
      try {
        principal = await guard.verifier.authenticate(call.metadata);
        const permission = authorize(principal, def.path);
        calls.set(call, { principal, peer, permission });
      } catch (err) {
        const code = err instanceof AuthError ? err.code : grpc.status.INTERNAL;
        const method = methodName(def.path);
        refusals.inc({ method, code: grpc.status[code] });
        guard.onRefused?.({ method, code, peer, ...(principal ? { principal } : {}) });
        const level = code === grpc.status.UNAVAILABLE || code === grpc.status.INTERNAL ? 'error' : 'warn';
        const host = peer.replace(/:\d+$/, '');
        if (limiter.allow(`${method}|${code}|${host}`))
          guard.logger[level](
            {
              rpc: methodName(def.path),
              code: grpc.status[code],
              peer,
              ...(principal ? { tokenId: principal.tokenId, role: principal.role } : {}),
              ...(code === grpc.status.INTERNAL ? { err } : {}),
            },
            'rpc refused',
          );
        throw err instanceof AuthError ? err : new AuthError(grpc.status.INTERNAL, 'internal error');
      }
    };
    const fail = (err: unknown) => {
      const e = err as AuthError;
      return serviceError(e.code, e.message);
    };
    if (!def.responseStream) {
      // unary and client-streaming: (call, callback)
      out[key] = (call: ServerCall, callback: grpc.sendUnaryData<unknown>) => {
        admit(call).then(
          () => (handler as (c: unknown, cb: unknown) => void).call(impl, call, callback),
          (err: unknown) => callback(fail(err)),
        );
      };
    } else {
      // server-streaming and bidi: (call); an 'error' event ends the call with that status.
      out[key] = (call: ServerCall & NodeJS.EventEmitter) => {
        admit(call).then(
          () => (handler as (c: unknown) => void).call(impl, call),
          (err: unknown) => call.emit('error', fail(err)),
        );
      };
    }
  }
  return out as T;
}

/**
 * A stand-in for grpc.Server whose addService guards what is added (for libraries that register
 * themselves, like @grpc/reflection's ReflectionService.addToServer).
 */
export function guardedRegistrar(server: grpc.Server, guard: Guard): grpc.Server {
  return new Proxy(server, {
    get(target, prop, receiver) {
      if (prop === 'addService') {
        return (definition: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) =>
          target.addService(definition, guardService(definition, impl, guard));
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A client interceptor that sends `authorization: Bearer <token>` on every call (tests, tools). */
export function bearerInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
