// The one wrapper that turns an async function into a grpc-js unary handler, and the one error type a
// handler throws to answer with a status. Services used to carry a copy each (dlr, webhooks).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@smshub/logging';

/**
 * A failure the caller should hear as it is: its gRPC status and message go to the client. `retriable`
 * says whether the same call may succeed later (UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED).
 */
export class RpcError extends Error {
  readonly retriable: boolean;
  constructor(
    readonly code: grpc.status,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RpcError';
    this.retriable =
      code === grpc.status.UNAVAILABLE ||
      code === grpc.status.RESOURCE_EXHAUSTED ||
      code === grpc.status.ABORTED;
  }
}

/** An error class whose instances carry a gRPC status meant for the client (e.g. libs/auth's AuthError). */
export type StatusErrorClass = abstract new (...args: never[]) => Error & { code: grpc.status };

/**
 * Unary handlers of one service. `name`s label the log line of an unexpected failure. RpcError (and
 * instances of `clientErrors`) answer with their own status and message; anything else is logged and
 * answered INTERNAL "internal error" (no detail of the server leaks to the client).
 */
export function unaryHandlers(
  log: Logger,
  opts: { clientErrors?: readonly StatusErrorClass[] } = {},
): <Req, Res>(
  name: string,
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
) => grpc.handleUnaryCall<Req, Res> {
  const known = [RpcError, ...(opts.clientErrors ?? [])];
  const forClient = (err: unknown): err is Error & { code: grpc.status } =>
    known.some((k) => err instanceof k);
  return (name, fn) => (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          if (forClient(err)) {
            callback({ code: err.code, details: err.message, name: 'RpcError', message: err.message });
            return;
          }
          log.error({ err, rpc: name }, 'rpc failed');
          callback({
            code: grpc.status.INTERNAL,
            details: 'internal error',
            name: 'Error',
            message: 'internal error',
          });
        },
      );
  };
}
