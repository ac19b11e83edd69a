import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '@smshub/logging';
// kafkajs's idle 1 ms timer loop, patched before any client is made.
import './request-queue-fix.js';
import './produce-encoder.js';
import './fetch-decoder.js';
import { frameReaderInstalled, frameSocketFactory } from './frame-reader.js';

/** Connection settings; services build them from their validated config (KAFKA_* variables). */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sslCaFile?: string;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Fetch size limits of the consumers made on this client; unset fields take FETCH_LIMITS_DEFAULT. */
  fetch?: Partial<FetchLimits>;
}

/**
 * How much one fetch request of a consumer may bring back. kafkajs fetches again only once every batch of
 * the previous response is processed, so these bound the records a consumer holds in memory, whatever its
 * lag. The broker still returns a first record batch larger than the limit whole (so a big record is
 * never stuck), hence records are best produced in batches well under maxBytesPerPartition.
 */
export interface FetchLimits {
  /** Bytes per fetch response, all partitions together (kafkajs maxBytes; its own default is 10 MiB). */
  maxBytes: number;
  /** Bytes per partition in one fetch response (kafkajs maxBytesPerPartition; its own default is 1 MiB). */
  maxBytesPerPartition: number;
}

/**
 * 1 MiB per fetch and 256 KiB per partition: about 2,800 hub records of ~370 bytes in memory per consumer
 * at most (plus their decoded form), and still about 700 records per partition batch, which is what the
 * batch handlers (egress, rating) group into one SQL statement. kafkajs's defaults (10 MiB, 1 MiB) let a
 * consumer holding a backlog keep tens of thousands of decoded records per fetch.
 */
export const FETCH_LIMITS_DEFAULT: Readonly<FetchLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxBytesPerPartition: 256 * 1024,
});

/** The fetch limits of each client made by createKafka (a kafkajs client has no room for them). */
const clientFetchLimits = new WeakMap<Kafka, FetchLimits>();

/** The fetch limits consumers on `kafka` use by default: its connection's, else FETCH_LIMITS_DEFAULT. */
export function fetchLimitsOf(kafka: Kafka): FetchLimits {
  return clientFetchLimits.get(kafka) ?? { ...FETCH_LIMITS_DEFAULT };
}

/** Throws a clear error for limits kafkajs would take but that make no sense. */
export function checkFetchLimits(limits: FetchLimits): void {
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v < 1024) {
      throw new Error(`the consumer fetch limit ${name} must be a whole number of bytes >= 1024 (got ${v})`);
    }
  }
  if (limits.maxBytesPerPartition > limits.maxBytes) {
    throw new Error(
      `the consumer fetch limit maxBytesPerPartition (${limits.maxBytesPerPartition}) is larger than maxBytes (${limits.maxBytes})`,
    );
  }
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own logs go to our pino logger (at warn and above unless debugging). */
export function createKafka(conn: KafkaConnection, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const config: KafkaConfig = {
    clientId: conn.clientId,
    brokers: conn.brokers,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    logLevel: logger.isLevelEnabled('debug') ? logLevel.INFO : logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      log[levels[entry.level] ?? 'info']({ namespace: entry.namespace, ...extra }, message);
    },
  };
  // Whole responses per socket read, large ones read straight into place (frame-reader.ts; TLS: kafkajs's).
  if (frameReaderInstalled) config.socketFactory = frameSocketFactory as KafkaConfig['socketFactory'];
  if (conn.ssl) config.ssl = conn.sslCaFile ? { ca: [readFileSync(conn.sslCaFile, 'utf8')] } : true;
  if (conn.sasl) config.sasl = { ...conn.sasl } as SASLOptions;
  const fetch = { ...FETCH_LIMITS_DEFAULT, ...conn.fetch };
  checkFetchLimits(fetch);
  const kafka = new Kafka(config);
  clientFetchLimits.set(kafka, fetch);
  return kafka;
}

/** The KAFKA_* part of a service's validated configuration (see @smshub/config's kafkaEnv). */
export interface KafkaEnvConfig {
  readonly KAFKA_BROKERS: readonly string[];
  readonly KAFKA_CLIENT_ID?: string | undefined;
  readonly KAFKA_SSL: boolean;
  readonly KAFKA_SSL_CA_FILE?: string | undefined;
  readonly KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  readonly KAFKA_SASL_USERNAME?: string | undefined;
  readonly KAFKA_SASL_PASSWORD?: string | undefined;
  readonly KAFKA_FETCH_MAX_BYTES?: number | undefined;
  readonly KAFKA_FETCH_MAX_BYTES_PER_PARTITION?: number | undefined;
}

/** Builds the connection settings from validated configuration (the config schema checks SASL completeness). */
export function kafkaConnection(config: KafkaEnvConfig, defaultClientId: string): KafkaConnection {
  const conn: KafkaConnection = {
    brokers: [...config.KAFKA_BROKERS],
    clientId: config.KAFKA_CLIENT_ID ?? defaultClientId,
    ssl: config.KAFKA_SSL,
  };
  if (
    config.KAFKA_FETCH_MAX_BYTES !== undefined ||
    config.KAFKA_FETCH_MAX_BYTES_PER_PARTITION !== undefined
  ) {
    conn.fetch = {};
    if (config.KAFKA_FETCH_MAX_BYTES !== undefined) conn.fetch.maxBytes = config.KAFKA_FETCH_MAX_BYTES;
    if (config.KAFKA_FETCH_MAX_BYTES_PER_PARTITION !== undefined)
      conn.fetch.maxBytesPerPartition = config.KAFKA_FETCH_MAX_BYTES_PER_PARTITION;
  }
  if (config.KAFKA_SSL_CA_FILE) conn.sslCaFile = config.KAFKA_SSL_CA_FILE;
  if (config.KAFKA_SASL_MECHANISM && config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD) {
    conn.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME,
      password: config.KAFKA_SASL_PASSWORD,
    };
  }
  return conn;
}
