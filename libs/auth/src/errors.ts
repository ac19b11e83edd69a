// Refusals of the auth layer, with the gRPC status a client sees.
import { status } from '@grpc/grpc-js';

/** UNAUTHENTICATED, PERMISSION_DENIED or UNAVAILABLE (tokens cannot be checked now); message sent as is. */
export class AuthError extends Error {
  readonly retriable: boolean;
  constructor(
    readonly code: status,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
    this.retriable = code === status.UNAVAILABLE;
  }
}

export const unauthenticated = (message: string) => new AuthError(status.UNAUTHENTICATED, message);
export const permissionDenied = (message: string) => new AuthError(status.PERMISSION_DENIED, message);
