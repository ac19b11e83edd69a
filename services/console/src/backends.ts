// The internal gRPC services the console calls, always with the signed-in user's bearer token: every
// role check is the services' own (the console holds no credential of its own). A gRPC status becomes
// an HTTP status and a message the browser can show.
import { readFileSync } from 'node:fs';
import {
  credentials,
  Metadata,
  status,
  type CallOptions,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  AdminServiceClient,
  DeadLetterServiceClient,
  MessageServiceClient,
  SettlementServiceClient,
  RoutingServiceClient,
  StatsServiceClient,
} from '@smshub/contracts';

export interface BackendAddresses {
  admin?: string | undefined;
  dlr?: string | undefined;
  rating?: string | undefined;
  stats?: string | undefined;
  /** A routing replica's RoutingService (dry runs, learnt estimates). */
  routing?: string | undefined;
  tls?: boolean;
  caFile?: string | undefined;
}

/** A refusal or failure to show in the browser, with the HTTP status the JSON API answers. */
export class ConsoleError extends Error {
  readonly retriable: boolean;
  constructor(
    readonly httpStatus: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConsoleError';
    this.retriable = httpStatus === 503 || httpStatus === 504;
  }
}

const HTTP_OF: Partial<Record<status, number>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.ABORTED]: 409,
  [status.FAILED_PRECONDITION]: 409,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.UNIMPLEMENTED]: 501,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
};

/** A gRPC error as a ConsoleError (the service's own message is kept: it is written for users). */
export function fromGrpc(err: unknown): ConsoleError {
  const e = err as Partial<ServiceError>;
  if (typeof e.code !== 'number') return new ConsoleError(500, 'internal error', { cause: err });
  const http = HTTP_OF[e.code] ?? 502;
  return new ConsoleError(http, e.details || status[e.code] || 'error', { cause: err });
}

type Callback<Res> = (err: ServiceError | null, res: Res) => void;

/** The deadline of every call (a console page must answer or say why). */
const DEADLINE_MS = 15_000;

function metadataOf(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** Runs one unary call with the user's token: `invoke(metadata, options, callback)`. */
export function unary<Res>(
  token: string,
  invoke: (md: Metadata, opts: Partial<CallOptions>, cb: Callback<Res>) => unknown,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke(metadataOf(token), { deadline: Date.now() + DEADLINE_MS }, (err, res) =>
      err ? reject(fromGrpc(err)) : resolve(res),
    );
  });
}

/** The options and metadata of a streaming call with the user's token. */
export function streamArgs(token: string): [Metadata, Partial<CallOptions>] {
  return [metadataOf(token), { deadline: Date.now() + 5 * 60_000 }];
}

export class Backends {
  readonly admin?: AdminServiceClient;
  readonly messages?: MessageServiceClient;
  readonly settlement?: SettlementServiceClient;
  readonly stats?: StatsServiceClient;
  readonly routing?: RoutingServiceClient;
  /** admin's DeadLetterService (on admin's address). */
  readonly deadLetters?: DeadLetterServiceClient;

  constructor(a: BackendAddresses) {
    const creds: ChannelCredentials = a.tls
      ? credentials.createSsl(a.caFile ? readFileSync(a.caFile) : null)
      : credentials.createInsecure();
    if (a.admin) this.admin = new AdminServiceClient(a.admin, creds);
    if (a.admin) this.deadLetters = new DeadLetterServiceClient(a.admin, creds);
    if (a.dlr) this.messages = new MessageServiceClient(a.dlr, creds);
    if (a.rating) this.settlement = new SettlementServiceClient(a.rating, creds);
    if (a.stats) this.stats = new StatsServiceClient(a.stats, creds);
    if (a.routing) this.routing = new RoutingServiceClient(a.routing, creds);
  }

  /** The client of `name`, or a 503 saying which variable is unset. */
  need<K extends 'admin' | 'messages' | 'settlement' | 'stats' | 'deadLetters' | 'routing'>(
    name: K,
  ): NonNullable<Backends[K]> {
    const c = this[name];
    if (c === undefined) {
      const v = {
        admin: 'ADMIN',
        messages: 'DLR',
        settlement: 'RATING',
        stats: 'STATS',
        deadLetters: 'ADMIN',
        routing: 'ROUTING',
      }[name];
      throw new ConsoleError(503, `the console has no ${name} service configured (${v}_GRPC_ADDRESS)`);
    }
    return c as NonNullable<Backends[K]>;
  }

  close(): void {
    for (const c of [this.admin, this.messages, this.settlement, this.stats, this.deadLetters, this.routing])
      c?.close();
  }
}
