// gRPC calls to the three APIs: addresses, TLS, the bearer token, deadlines, and the mapping of failures
// to CliError. Commands see only the small Rpc interface, so unit tests can replace the network.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import {
  AdminServiceService,
  DeadLetterServiceService,
  MessageServiceService,
  ProbeServiceService,
  RoutingServiceService,
  SettlementServiceService,
  StatsServiceService,
  WebhookServiceService,
} from '@smshub/contracts';
import { CliError, EXIT, grpcFailure, type Target } from './exit-codes.js';

export const SERVICES = {
  // DeadLetterService and ProbeService are served by admin, on its port.
  admin: { ...AdminServiceService, ...DeadLetterServiceService, ...ProbeServiceService },
  messages: MessageServiceService,
  settlement: SettlementServiceService,
  webhooks: WebhookServiceService,
  stats: StatsServiceService,
  routing: RoutingServiceService,
} as const;

export type ServiceName = keyof typeof SERVICES;
type Def<S extends ServiceName> = (typeof SERVICES)[S];
export type MethodOf<S extends ServiceName> = keyof Def<S> & string;
export type RequestOf<S extends ServiceName, M extends MethodOf<S>> = Def<S>[M] extends {
  requestSerialize: (value: infer R) => Buffer;
}
  ? R
  : never;
export type ResponseOf<S extends ServiceName, M extends MethodOf<S>> = Def<S>[M] extends {
  responseDeserialize: (value: Buffer) => infer R;
}
  ? R
  : never;

/** The calls commands make. */
export interface Rpc {
  unary<S extends ServiceName, M extends MethodOf<S>>(
    service: S,
    method: M,
    request: RequestOf<S, M>,
  ): Promise<ResponseOf<S, M>>;
  /** A server-streaming call, as an async iterable of responses. */
  stream<S extends ServiceName, M extends MethodOf<S>>(
    service: S,
    method: M,
    request: RequestOf<S, M>,
  ): AsyncIterable<ResponseOf<S, M>>;
  close(): void;
}

/** Where and how to connect; from flags, else environment, else defaults. */
export interface ConnectionSettings {
  addresses: Record<ServiceName, string>;
  /** Never printed. */
  token: string | undefined;
  tls: boolean;
  /** PEM of the CA that signed the servers' certificates (implies TLS). */
  caFile: string | undefined;
  /**
   * The name the servers' certificates must hold, when it is not the host of the address (implies TLS),
   * e.g. the in-cluster Service name behind `kubectl port-forward`. Verification is never skipped.
   */
  tlsServerName: string | undefined;
  /** Deadline of a unary call. */
  timeoutMs: number;
}

/** Who answers each API, for messages ("admin", "dlr", "rating"). */
export const SERVER_NAMES: Record<ServiceName, string> = {
  admin: 'admin',
  messages: 'dlr',
  settlement: 'rating',
  webhooks: 'webhooks',
  stats: 'stats',
  routing: 'routing',
};

export const DEFAULT_ADDRESSES: Record<ServiceName, string> = {
  admin: '127.0.0.1:50051',
  messages: '127.0.0.1:50052',
  settlement: '127.0.0.1:50053',
  webhooks: '127.0.0.1:50054',
  stats: '127.0.0.1:50055',
  routing: '127.0.0.1:50057',
};

/**
 * The default addresses of a local hub: DEFAULT_ADDRESSES with every port moved up by HUB_PORT_OFFSET,
 * as `HUB_PORT_OFFSET=N npm start` moves them (`npm run hubctl` sets it to the running hub's offset).
 */
export function defaultAddresses(env: Record<string, string | undefined>): Record<ServiceName, string> {
  const text = env.HUB_PORT_OFFSET?.trim();
  if (!text) return DEFAULT_ADDRESSES;
  const offset = Number(text);
  if (!Number.isInteger(offset) || offset < 0 || offset > 15_000)
    throw new CliError(`HUB_PORT_OFFSET must be an integer 0..15000, got "${text}"`, EXIT.USAGE);
  const moved = (address: string): string => {
    const i = address.lastIndexOf(':');
    return `${address.slice(0, i)}:${Number(address.slice(i + 1)) + offset}`;
  };
  return {
    admin: moved(DEFAULT_ADDRESSES.admin),
    messages: moved(DEFAULT_ADDRESSES.messages),
    settlement: moved(DEFAULT_ADDRESSES.settlement),
    webhooks: moved(DEFAULT_ADDRESSES.webhooks),
    stats: moved(DEFAULT_ADDRESSES.stats),
    routing: moved(DEFAULT_ADDRESSES.routing),
  };
}

export interface GlobalFlags {
  adminAddr?: string;
  messagesAddr?: string;
  settlementAddr?: string;
  webhooksAddr?: string;
  statsAddr?: string;
  routingAddr?: string;
  token?: string;
  tls?: boolean;
  ca?: string;
  tlsServerName?: string;
  timeout?: string;
}

function checkAddress(value: string, what: string): string {
  const v = value.trim();
  // host:port, [v6]:port, or a grpc-js target such as unix:/path or dns:host:port.
  if (!/^(unix:|dns:|ipv4:|ipv6:)/.test(v) && !/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(v)) {
    throw new CliError(`${what} must be host:port (e.g. 127.0.0.1:50051), got "${value}"`, EXIT.USAGE);
  }
  return v;
}

/** Flags win over HUBCTL_* variables, which win over the defaults (moved by HUB_PORT_OFFSET). */
export function connectionSettings(
  flags: GlobalFlags,
  env: Record<string, string | undefined>,
): ConnectionSettings {
  const nonEmpty = (v: string | undefined): string | undefined => (v && v.trim() !== '' ? v : undefined);
  const timeoutText = flags.timeout ?? nonEmpty(env.HUBCTL_TIMEOUT) ?? '30';
  const timeout = Number(timeoutText);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 3600) {
    throw new CliError(
      `--timeout must be a number of seconds between 0 and 3600, got "${timeoutText}"`,
      EXIT.USAGE,
    );
  }
  const caFile = flags.ca ?? nonEmpty(env.HUBCTL_CA);
  const tlsServerName = nonEmpty(flags.tlsServerName) ?? nonEmpty(env.HUBCTL_TLS_SERVER_NAME);
  if (tlsServerName !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(tlsServerName)) {
    throw new CliError(`--tls-server-name must be a DNS name, got "${tlsServerName}"`, EXIT.USAGE);
  }
  const defaults = defaultAddresses(env);
  const tlsEnv = nonEmpty(env.HUBCTL_TLS);
  return {
    addresses: {
      admin: checkAddress(
        flags.adminAddr ?? nonEmpty(env.HUBCTL_ADMIN_ADDR) ?? defaults.admin,
        '--admin-addr',
      ),
      messages: checkAddress(
        flags.messagesAddr ?? nonEmpty(env.HUBCTL_MESSAGES_ADDR) ?? defaults.messages,
        '--messages-addr',
      ),
      settlement: checkAddress(
        flags.settlementAddr ?? nonEmpty(env.HUBCTL_SETTLEMENT_ADDR) ?? defaults.settlement,
        '--settlement-addr',
      ),
      webhooks: checkAddress(
        flags.webhooksAddr ?? nonEmpty(env.HUBCTL_WEBHOOKS_ADDR) ?? defaults.webhooks,
        '--webhooks-addr',
      ),
      stats: checkAddress(
        flags.statsAddr ?? nonEmpty(env.HUBCTL_STATS_ADDR) ?? defaults.stats,
        '--stats-addr',
      ),
      routing: checkAddress(
        flags.routingAddr ?? nonEmpty(env.HUBCTL_ROUTING_ADDR) ?? defaults.routing,
        '--routing-addr',
      ),
    },
    token: nonEmpty(flags.token) ?? nonEmpty(env.HUBCTL_TOKEN) ?? nonEmpty(env.ADMIN_TOKEN),
    tls:
      flags.tls === true ||
      caFile !== undefined ||
      tlsServerName !== undefined ||
      (tlsEnv !== undefined && /^(1|true|yes)$/i.test(tlsEnv)),
    caFile,
    tlsServerName,
    timeoutMs: Math.round(timeout * 1000),
  };
}

function credentials(s: ConnectionSettings): grpc.ChannelCredentials {
  if (!s.tls) return grpc.credentials.createInsecure();
  let ca: Buffer | null = null;
  if (s.caFile !== undefined) {
    try {
      ca = readFileSync(s.caFile);
    } catch (err) {
      throw new CliError(`cannot read the CA file ${s.caFile}: ${(err as Error).message}`, EXIT.NO_INPUT, {
        cause: err,
      });
    }
  }
  return grpc.credentials.createSsl(ca);
}

/** Rpc over real gRPC channels (one per service, opened on first use). */
export function grpcRpc(settings: ConnectionSettings): Rpc {
  const clients = new Map<ServiceName, grpc.Client>();
  const client = (service: ServiceName): grpc.Client => {
    let c = clients.get(service);
    if (!c) {
      c = new grpc.Client(settings.addresses[service], credentials(settings), {
        // Fail fast on a refused connection instead of retrying for the whole deadline.
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        ...(settings.tls && settings.tlsServerName !== undefined
          ? { 'grpc.ssl_target_name_override': settings.tlsServerName }
          : {}),
      });
      clients.set(service, c);
    }
    return c;
  };
  const metadata = (): grpc.Metadata => {
    const md = new grpc.Metadata();
    if (settings.token !== undefined) md.set('authorization', `Bearer ${settings.token}`);
    return md;
  };
  const target = (service: ServiceName): Target => ({
    service: SERVER_NAMES[service],
    address: settings.addresses[service],
  });
  const fail = (service: ServiceName, err: unknown): CliError =>
    err instanceof CliError
      ? err
      : grpcFailure(err as grpc.ServiceError, target(service), settings.token !== undefined);
  const method = (service: ServiceName, name: string) => {
    const def = (SERVICES[service] as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>)[
      name
    ];
    if (!def) throw new Error(`no method ${name} in ${service}`);
    return def;
  };
  /** Serialises up front, so a value protobuf cannot encode is invalid data, not a crash. */
  const serialize = (def: grpc.MethodDefinition<unknown, unknown>, request: unknown): Buffer => {
    try {
      return def.requestSerialize(request);
    } catch (err) {
      throw new CliError(`the request cannot be encoded: ${(err as Error).message}`, EXIT.DATA, {
        cause: err,
      });
    }
  };

  return {
    unary(service, name, request) {
      const def = method(service, name);
      const bytes = serialize(def, request);
      return new Promise((resolve, reject) => {
        client(service).makeUnaryRequest(
          def.path,
          (b: Buffer) => b,
          (b: Buffer) => def.responseDeserialize(b),
          bytes,
          metadata(),
          { deadline: Date.now() + settings.timeoutMs },
          (err, res) => (err ? reject(fail(service, err)) : resolve(res as never)),
        );
      });
    },
    stream(service, name, request) {
      const def = method(service, name);
      const bytes = serialize(def, request);
      const call = client(service).makeServerStreamRequest(
        def.path,
        (b: Buffer) => b,
        (b: Buffer) => def.responseDeserialize(b),
        bytes,
        metadata(),
        {},
      );
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for await (const chunk of call) yield chunk as never;
          } catch (err) {
            throw fail(service, err);
          } finally {
            call.cancel();
          }
        },
      };
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
