import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '@smshub/logging';

/** Connection settings; services build them from their validated config (KAFKA_* variables). */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sslCaFile?: string;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
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
  if (conn.ssl) config.ssl = conn.sslCaFile ? { ca: [readFileSync(conn.sslCaFile, 'utf8')] } : true;
  if (conn.sasl) config.sasl = { ...conn.sasl } as SASLOptions;
  return new Kafka(config);
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
}

/** Builds the connection settings from validated configuration (the config schema checks SASL completeness). */
export function kafkaConnection(config: KafkaEnvConfig, defaultClientId: string): KafkaConnection {
  const conn: KafkaConnection = {
    brokers: [...config.KAFKA_BROKERS],
    clientId: config.KAFKA_CLIENT_ID ?? defaultClientId,
    ssl: config.KAFKA_SSL,
  };
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
