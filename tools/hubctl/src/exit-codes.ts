// Exit codes of hubctl (sysexits.h style, documented in tools/hubctl/README.md).
import { status as GrpcStatus } from '@grpc/grpc-js';

export const EXIT = {
  /** Success. */
  OK: 0,
  /** The resource was not found, a conflict, or any other failure. */
  FAILURE: 1,
  /** EX_USAGE: unknown command or option, missing or malformed argument. */
  USAGE: 64,
  /** EX_DATAERR: the server or hubctl refused the data (INVALID_ARGUMENT, a rejected CSV line, bad file). */
  DATA: 65,
  /** EX_NOINPUT: an input file (-f, CSV) cannot be read. */
  NO_INPUT: 66,
  /** EX_UNAVAILABLE: the server cannot be reached or did not answer in time. */
  UNAVAILABLE: 69,
  /** EX_CANTCREAT: the output file (--file) cannot be written. */
  CANT_CREATE: 73,
  /** EX_TEMPFAIL: the resource changed meanwhile (ABORTED, revision mismatch) or the server is overloaded. */
  TEMP_FAIL: 75,
  /** EX_NOPERM: the token is missing, wrong, or not allowed to do this. */
  NO_PERM: 77,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure hubctl reports as one sentence on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Which server a call went to: named in error messages. */
export interface Target {
  /** "admin", "dlr" (MessageService) or "rating" (SettlementService). */
  readonly service: string;
  readonly address: string;
}

/** Exit code for a gRPC status code. */
export function exitCodeForStatus(code: number): ExitCode {
  switch (code) {
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return EXIT.DATA;
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
      return EXIT.UNAVAILABLE;
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      return EXIT.NO_PERM;
    case GrpcStatus.ABORTED:
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return EXIT.TEMP_FAIL;
    default:
      return EXIT.FAILURE;
  }
}

function sentence(details: string): string {
  return details.trim().replace(/\.$/, '');
}

/** The cause inside grpc-js's "No connection established. Last error: Error: <cause>. Resolution note: ...". */
function connectionCause(details: string): string {
  const m = /Last error: (?:\w*Error: )?(.*?)\.?\s*(?:Resolution note:.*)?$/s.exec(details);
  return sentence(m ? m[1]! : details);
}

/**
 * One sentence for a failed call: what went wrong, in the operator's terms, with the server's own
 * message where it has one. `hasToken` tells an authentication failure without a token from a wrong one.
 */
export function describeStatus(code: number, details: string, target: Target, hasToken: boolean): string {
  const where = `${target.service} at ${target.address}`;
  const d = sentence(details);
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
      if (/certificate|ssl|tls|handshake|self.signed|wrong version number/i.test(d)) {
        return `cannot reach ${where}: TLS failed (${connectionCause(d)}); check --tls and --ca`;
      }
      return `cannot reach ${where}: is the hub running?`;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return `${where} did not answer in time (raise --timeout, or check the server)`;
    case GrpcStatus.UNAUTHENTICATED:
      return hasToken
        ? `${where} refused the token: ${d || 'unauthenticated'} (check HUBCTL_TOKEN or --token)`
        : `${where} requires a token: set HUBCTL_TOKEN or pass --token`;
    case GrpcStatus.PERMISSION_DENIED:
      return `permission denied by ${where}: ${d || 'the token may not do this'}`;
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return `invalid argument: ${d}`;
    case GrpcStatus.NOT_FOUND:
      return `not found: ${d}`;
    case GrpcStatus.ALREADY_EXISTS:
      return `already exists: ${d}`;
    case GrpcStatus.FAILED_PRECONDITION:
      return `refused: ${d}`;
    case GrpcStatus.ABORTED:
      return `conflict: ${d} (read the resource again and retry)`;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return `${where} is overloaded or the request is too large: ${d}`;
    case GrpcStatus.UNIMPLEMENTED:
      return `${where} does not implement this call (is it an older version, or another service?)${d ? `: ${d}` : ''}`;
    default:
      return `${where} failed: ${d || `gRPC status ${code}`}`;
  }
}

/** The CliError for a failed gRPC call. */
export function grpcFailure(
  err: { code?: number; details?: string; message?: string },
  target: Target,
  hasToken: boolean,
): CliError {
  const code = typeof err.code === 'number' ? err.code : GrpcStatus.UNKNOWN;
  const details = err.details ?? err.message ?? '';
  return new CliError(describeStatus(code, details, target, hasToken), exitCodeForStatus(code), {
    cause: err,
  });
}
