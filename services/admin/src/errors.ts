// gRPC failures of the admin API: every error a client sees carries a status code and a message that
// names the field or resource; Postgres constraint violations are translated here.
import { status } from '@grpc/grpc-js';

/** A failure with its gRPC status code (the message is sent to the client as is). */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** INVALID_ARGUMENT naming the field: "account.currency_code: must be ...". */
export function invalid(field: string, message: string): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, `${field}: ${message}`);
}

export function notFound(what: string, id: string): RpcError {
  return new RpcError(status.NOT_FOUND, `${what} ${JSON.stringify(id)} not found`);
}

export function alreadyExists(what: string, id: string): RpcError {
  return new RpcError(status.ALREADY_EXISTS, `${what} ${JSON.stringify(id)} already exists`);
}

export function revisionMismatch(what: string, id: string, expected: bigint, actual: bigint): RpcError {
  return new RpcError(
    status.ABORTED,
    `${what} ${JSON.stringify(id)} is at revision ${actual}, not the expected ${expected}; read it again and retry`,
  );
}

/** ABORTED when the caller expected a revision (non-zero) other than the stored one. */
export function checkRevision(what: string, id: string, expected: bigint, actual: bigint): void {
  if (expected !== 0n && expected !== actual) throw revisionMismatch(what, id, expected, actual);
}

export function failedPrecondition(message: string): RpcError {
  return new RpcError(status.FAILED_PRECONDITION, message);
}

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
  message?: string;
  column?: string;
}

/**
 * The RpcError for a Postgres error raised by a write (undefined for anything else, which stays INTERNAL):
 * unique violation -> ALREADY_EXISTS, foreign key -> FAILED_PRECONDITION, check/not-null/bad value ->
 * INVALID_ARGUMENT. Validation runs before the write, so these are the last line of defence.
 */
export function fromPgError(err: unknown, what: string): RpcError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as PgError;
  switch (e.code) {
    case '23505':
      return new RpcError(
        status.ALREADY_EXISTS,
        `${what}: already exists (${e.detail ?? e.constraint ?? ''})`,
      );
    case '23503':
      return new RpcError(
        status.FAILED_PRECONDITION,
        `${what}: refers to a resource that does not exist or is still referenced (${e.detail ?? e.constraint ?? ''})`,
      );
    case '23514':
      return new RpcError(status.INVALID_ARGUMENT, `${what}: rejected by check ${e.constraint ?? ''}`);
    case '23502':
      return new RpcError(status.INVALID_ARGUMENT, `${what}: ${e.column ?? 'a field'} is required`);
    case '22P02':
    case '22001':
    case '22003':
    case '22007':
    case '22008':
    case '22023':
      return new RpcError(status.INVALID_ARGUMENT, `${what}: ${e.message ?? 'invalid value'}`);
    default:
      return undefined;
  }
}
