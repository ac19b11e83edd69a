import { z } from 'zod';
import { envBoolean, envInt, envList, envString, envUrl } from './fields.js';

/**
 * Every default of the shared fragments, in one place. Service-specific defaults live in the service's
 * own schema; nothing else in the code base invents a fallback value.
 */
export const DEFAULTS = Object.freeze({
  KAFKA_BROKERS: '127.0.0.1:9092',
  KAFKA_SSL: false,
  HTTP_PORT: 9400,
  /**
   * How long a service's start may take before it gives up and exits 1 (an orchestrator then restarts it):
   * a start waits on Kafka, PostgreSQL and group joins, and a wait that never ends would otherwise leave a
   * live process that is never ready. Generous: a first start may wait for a broker still electing leaders.
   */
  STARTUP_TIMEOUT_S: 300,
  /** Every listener binds loopback unless configured otherwise (containers set 0.0.0.0). */
  LISTEN_HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  LOG_DEBUG_NUMBERS: false,
} as const);

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

const BROKER = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

function brokerProblem(entry: string): string | undefined {
  const m = BROKER.exec(entry);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return `"${entry}" is not host:port`;
  return undefined;
}

/** Largest fetch size accepted from the environment (256 MiB): beyond it a typo, not a setting. */
const FETCH_BYTES_MAX = 256 * 1024 * 1024;

/** Kafka connection. The SASL trio is checked together by loadConfig (see crossFieldChecks). */
export const kafkaEnv = {
  KAFKA_BROKERS: envList({ default: DEFAULTS.KAFKA_BROKERS, nonEmpty: true, item: brokerProblem }),
  KAFKA_CLIENT_ID: envString().optional(),
  KAFKA_SSL: envBoolean(DEFAULTS.KAFKA_SSL),
  KAFKA_SSL_CA_FILE: envString().optional(),
  KAFKA_SASL_MECHANISM: z
    .enum(SASL_MECHANISMS, { message: `must be one of ${SASL_MECHANISMS.join(', ')}` })
    .optional(),
  KAFKA_SASL_USERNAME: envString().optional(),
  KAFKA_SASL_PASSWORD: envString().optional(),
  /**
   * Bytes one consumer fetch may bring back, all partitions together / per partition: they bound the
   * records a consumer holds in memory while it has a backlog. Unset: @smshub/kafka's FETCH_LIMITS_DEFAULT
   * (1 MiB / 256 KiB), the one place that default lives.
   */
  KAFKA_FETCH_MAX_BYTES: envInt({ min: 1024, max: FETCH_BYTES_MAX }).optional(),
  KAFKA_FETCH_MAX_BYTES_PER_PARTITION: envInt({ min: 1024, max: FETCH_BYTES_MAX }).optional(),
  /**
   * Prefix for every topic and consumer group name (`<namespace>.<name>`): several hubs on one cluster
   * (staging beside production, the end-to-end tests beside a developer's hub) never see each other's records.
   */
  KAFKA_NAMESPACE: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, { message: 'must be 1 to 64 letters, digits, _ or -' })
    .optional(),
};

/** Postgres connection string (required). */
export const databaseEnv = {
  DATABASE_URL: envUrl(['postgres:', 'postgresql:']),
  /**
   * Frequent parameterised statements as named prepared statements (libs/db "Prepared statements"). False
   * behind a pooler that cannot carry them: PgBouncer in transaction mode before 1.21 or without
   * `max_prepared_statements`.
   */
  DATABASE_PREPARED_STATEMENTS: envBoolean(true),
};

/** A listen address: an IPv4 or IPv6 literal, or a host name (resolved once at start). */
export function envHost(defaultHost: string = DEFAULTS.LISTEN_HOST) {
  return z
    .string()
    .trim()
    .regex(/^(\[?[0-9a-fA-F:.]+\]?|[a-zA-Z0-9][a-zA-Z0-9.-]{0,252})$/, {
      message: 'must be an IP address (127.0.0.1, 0.0.0.0, ::) or a host name',
    })
    .optional()
    .transform((v) => v ?? defaultHost);
}

/**
 * Port and listen address of the health/metrics HTTP server (0 picks a free port). Loopback by default:
 * /metrics is not for everyone; containers set HTTP_HOST=0.0.0.0 (the image does).
 */
export const httpEnv = {
  HTTP_PORT: envInt({ min: 0, max: 65535, default: DEFAULTS.HTTP_PORT }),
  HTTP_HOST: envHost(),
};

/**
 * Listen address and TLS of a gRPC server (admin, dlr, rating; the port is each service's GRPC_PORT).
 * TLS needs both PEM files (checked together by crossFieldChecks); without them the server is plaintext.
 */
export const grpcServerEnv = {
  GRPC_HOST: envHost(),
  GRPC_TLS_CERT_FILE: envString().optional(),
  GRPC_TLS_KEY_FILE: envString().optional(),
};

/** The start-up deadline (0: none). */
export const startupEnv = {
  STARTUP_TIMEOUT_S: envInt({ min: 0, max: 86_400, default: DEFAULTS.STARTUP_TIMEOUT_S }),
};

/** Log level and whether phone numbers are logged unmasked. */
export const logEnv = {
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
    .optional()
    .transform((v): LogLevel => v ?? DEFAULTS.LOG_LEVEL),
  LOG_DEBUG_NUMBERS: envBoolean(DEFAULTS.LOG_DEBUG_NUMBERS),
};

/** OpenTelemetry export. Without an endpoint spans are not exported (trace context still propagates). */
export const otelEnv = {
  OTEL_EXPORTER_OTLP_ENDPOINT: envUrl(['http:', 'https:']).optional(),
  OTEL_SERVICE_NAME: envString().optional(),
};

/**
 * A check that involves several variables. It runs on the raw environment (after blank values are
 * treated as unset) whenever the schema contains all of `keys`, independently of per-field errors, so
 * its issues are reported together with the others.
 */
export interface CrossFieldCheck {
  keys: readonly string[];
  check(env: Readonly<Record<string, string | undefined>>): string[];
}

const SASL_KEYS = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const;

export const crossFieldChecks: readonly CrossFieldCheck[] = [
  {
    keys: ['GRPC_TLS_CERT_FILE', 'GRPC_TLS_KEY_FILE'],
    check(env) {
      const cert = env['GRPC_TLS_CERT_FILE'] !== undefined;
      const key = env['GRPC_TLS_KEY_FILE'] !== undefined;
      if (cert === key) return [];
      return [
        `${cert ? 'GRPC_TLS_KEY_FILE' : 'GRPC_TLS_CERT_FILE'}: is required when ${cert ? 'GRPC_TLS_CERT_FILE' : 'GRPC_TLS_KEY_FILE'} is set`,
      ];
    },
  },
  {
    keys: SASL_KEYS,
    check(env) {
      const set = SASL_KEYS.filter((k) => env[k] !== undefined);
      if (set.length === 0 || set.length === SASL_KEYS.length) return [];
      return SASL_KEYS.filter((k) => env[k] === undefined).map(
        (k) => `${k}: is required when ${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set`,
      );
    },
  },
  {
    keys: ['KAFKA_FETCH_MAX_BYTES', 'KAFKA_FETCH_MAX_BYTES_PER_PARTITION'],
    check(env) {
      const total = Number(env['KAFKA_FETCH_MAX_BYTES']?.trim());
      const perPartition = Number(env['KAFKA_FETCH_MAX_BYTES_PER_PARTITION']?.trim());
      if (Number.isSafeInteger(total) && Number.isSafeInteger(perPartition) && perPartition > total) {
        return ['KAFKA_FETCH_MAX_BYTES_PER_PARTITION: must not be larger than KAFKA_FETCH_MAX_BYTES'];
      }
      return [];
    },
  },
  {
    keys: ['KAFKA_SSL', 'KAFKA_SSL_CA_FILE'],
    check(env) {
      const ssl = env['KAFKA_SSL']?.trim().toLowerCase();
      if (
        env['KAFKA_SSL_CA_FILE'] !== undefined &&
        (ssl === undefined || ssl === 'false' || ssl === '0' || ssl === 'no')
      ) {
        return ['KAFKA_SSL_CA_FILE: is set but KAFKA_SSL is not true'];
      }
      return [];
    },
  },
];
