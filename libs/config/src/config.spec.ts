import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  configOrExit,
  databaseEnv,
  grpcServerEnv,
  httpEnv,
  kafkaEnv,
  loadConfig,
  logEnv,
  otelEnv,
} from './index.js';

const schema = z.object({ ...kafkaEnv, ...databaseEnv, ...httpEnv, ...logEnv, ...otelEnv });
const good = { DATABASE_URL: 'postgres://u:p@db:5432/smshub' };

function issuesOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the defaults when only the required variable is set', () => {
    const cfg = loadConfig(schema, good);
    expect(cfg).toEqual({
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      KAFKA_CLIENT_ID: undefined,
      KAFKA_SSL: false,
      KAFKA_SSL_CA_FILE: undefined,
      KAFKA_SASL_MECHANISM: undefined,
      KAFKA_SASL_USERNAME: undefined,
      KAFKA_SASL_PASSWORD: undefined,
      KAFKA_FETCH_MAX_BYTES: undefined,
      KAFKA_FETCH_MAX_BYTES_PER_PARTITION: undefined,
      DATABASE_URL: 'postgres://u:p@db:5432/smshub',
      DATABASE_PREPARED_STATEMENTS: true,
      HTTP_PORT: 9400,
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LOG_DEBUG_NUMBERS: false,
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
      OTEL_SERVICE_NAME: undefined,
    });
  });

  it('turns prepared statements off for a pooler that cannot carry them, and refuses a non-boolean', () => {
    expect(
      loadConfig(schema, { ...good, DATABASE_PREPARED_STATEMENTS: 'false' }).DATABASE_PREPARED_STATEMENTS,
    ).toBe(false);
    expect(issuesOf({ ...good, DATABASE_PREPARED_STATEMENTS: 'sometimes' })).toEqual([
      'DATABASE_PREPARED_STATEMENTS: must be one of true, false, 1, 0, yes, no (got "sometimes")',
    ]);
  });

  it('parses set values', () => {
    const cfg = loadConfig(schema, {
      ...good,
      KAFKA_BROKERS: ' k1:9092, k2:9093 ,,',
      HTTP_PORT: '0',
      LOG_LEVEL: 'debug',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318',
    });
    expect(cfg.KAFKA_BROKERS).toEqual(['k1:9092', 'k2:9093']);
    expect(cfg.HTTP_PORT).toBe(0);
    expect(cfg.LOG_LEVEL).toBe('debug');
    expect(cfg.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel:4318');
  });

  it('reports every bad variable at once, each with its name', () => {
    const issues = issuesOf({
      KAFKA_BROKERS: 'no-port-here',
      KAFKA_SSL: 'maybe',
      HTTP_PORT: '70000',
      LOG_LEVEL: 'verbose',
      LOG_DEBUG_NUMBERS: 'on',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
      KAFKA_SASL_MECHANISM: 'gssapi',
    });
    const names = issues.map((i) => i.split(':')[0]);
    expect(names.sort()).toEqual(
      [
        'DATABASE_URL',
        'HTTP_PORT',
        'KAFKA_BROKERS',
        'KAFKA_SASL_MECHANISM',
        'KAFKA_SASL_PASSWORD',
        'KAFKA_SASL_USERNAME',
        'KAFKA_SSL',
        'LOG_DEBUG_NUMBERS',
        'LOG_LEVEL',
        'OTEL_EXPORTER_OTLP_ENDPOINT',
      ].sort(),
    );
    expect(issues).toContain('DATABASE_URL: is required');
    expect(issues.find((i) => i.startsWith('HTTP_PORT'))).toMatch(/0 to 65535/);
  });

  it('rejects a database URL of another scheme without echoing it', () => {
    const issues = issuesOf({ DATABASE_URL: 'mysql://user:s3cret@db/x' });
    expect(issues).toEqual(['DATABASE_URL: must use postgres: or postgresql: (got mysql:)']);
    expect(issues.join()).not.toContain('s3cret');
  });

  it('treats blank values as unset', () => {
    expect(loadConfig(schema, { ...good, HTTP_PORT: '', LOG_LEVEL: '  ' }).HTTP_PORT).toBe(9400);
    expect(issuesOf({ DATABASE_URL: '' })).toEqual(['DATABASE_URL: is required']);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['Yes', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
  ])('parses boolean %s as %s', (raw, value) => {
    expect(loadConfig(schema, { ...good, KAFKA_SSL: raw }).KAFKA_SSL).toBe(value);
  });

  it.each(['2', 'on', 'off', 'y', 'truthy'])('rejects boolean %s', (raw) => {
    expect(issuesOf({ ...good, LOG_DEBUG_NUMBERS: raw })).toEqual([
      `LOG_DEBUG_NUMBERS: must be one of true, false, 1, 0, yes, no (got "${raw}")`,
    ]);
  });

  it('requires the SASL mechanism, username and password together', () => {
    expect(issuesOf({ ...good, KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toEqual([
      'KAFKA_SASL_USERNAME: is required when KAFKA_SASL_MECHANISM is set',
      'KAFKA_SASL_PASSWORD: is required when KAFKA_SASL_MECHANISM is set',
    ]);
    expect(issuesOf({ ...good, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toEqual([
      'KAFKA_SASL_MECHANISM: is required when KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are set',
    ]);
    const cfg = loadConfig(schema, {
      ...good,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    expect(cfg.KAFKA_SASL_MECHANISM).toBe('plain');
  });

  it('reports the SASL check together with unrelated field errors', () => {
    const issues = issuesOf({ HTTP_PORT: 'x', KAFKA_SASL_PASSWORD: 'p' });
    expect(issues.map((i) => i.split(':')[0]).sort()).toEqual(
      ['DATABASE_URL', 'HTTP_PORT', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME'].sort(),
    );
  });

  it('refuses a CA file when TLS is off', () => {
    expect(issuesOf({ ...good, KAFKA_SSL_CA_FILE: '/ca.pem' })).toEqual([
      'KAFKA_SSL_CA_FILE: is set but KAFKA_SSL is not true',
    ]);
    expect(
      loadConfig(schema, { ...good, KAFKA_SSL: 'yes', KAFKA_SSL_CA_FILE: '/ca.pem' }).KAFKA_SSL_CA_FILE,
    ).toBe('/ca.pem');
  });

  it('reads the consumer fetch limits and refuses a per-partition limit above the total', () => {
    const cfg = loadConfig(schema, {
      ...good,
      KAFKA_FETCH_MAX_BYTES: '2097152',
      KAFKA_FETCH_MAX_BYTES_PER_PARTITION: '524288',
    });
    expect([cfg.KAFKA_FETCH_MAX_BYTES, cfg.KAFKA_FETCH_MAX_BYTES_PER_PARTITION]).toEqual([2097152, 524288]);
    expect(
      issuesOf({ ...good, KAFKA_FETCH_MAX_BYTES: '65536', KAFKA_FETCH_MAX_BYTES_PER_PARTITION: '131072' }),
    ).toEqual(['KAFKA_FETCH_MAX_BYTES_PER_PARTITION: must not be larger than KAFKA_FETCH_MAX_BYTES']);
    expect(issuesOf({ ...good, KAFKA_FETCH_MAX_BYTES: '100' })).toEqual([
      'KAFKA_FETCH_MAX_BYTES: must be a whole number from 1024 to 268435456 (got "100")',
    ]);
  });

  it('returns a deep-frozen object', () => {
    const cfg = loadConfig(schema, good);
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.KAFKA_BROKERS)).toBe(true);
    expect(() => {
      (cfg as { HTTP_PORT: number }).HTTP_PORT = 1;
    }).toThrow(TypeError);
    expect(() => cfg.KAFKA_BROKERS.push('x:1')).toThrow(TypeError);
  });

  it('accepts a variable parsed into a Buffer (a key), leaving its bytes as they are', () => {
    const keySchema = z.object({ SECRET_KEY: z.string().transform((v) => Buffer.from(v, 'base64')) });
    const cfg = loadConfig(keySchema, { SECRET_KEY: Buffer.alloc(32, 7).toString('base64') });
    expect(cfg.SECRET_KEY).toEqual(Buffer.alloc(32, 7));
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('ignores variables that are not in the schema', () => {
    const cfg = loadConfig(z.object(httpEnv), { HTTP_PORT: '8080', PATH: '/bin', KAFKA_SSL: 'garbage' });
    expect(cfg).toEqual({ HTTP_PORT: 8080, HTTP_HOST: '127.0.0.1' });
  });

  it('listens on loopback unless a host is given, and refuses what is not an address', () => {
    const listen = z.object({ ...httpEnv, ...grpcServerEnv });
    expect(loadConfig(listen, {})).toMatchObject({ HTTP_HOST: '127.0.0.1', GRPC_HOST: '127.0.0.1' });
    expect(loadConfig(listen, { HTTP_HOST: '0.0.0.0', GRPC_HOST: '::' })).toMatchObject({
      HTTP_HOST: '0.0.0.0',
      GRPC_HOST: '::',
    });
    expect(() => loadConfig(listen, { GRPC_HOST: 'http://x/' })).toThrow(/GRPC_HOST: must be an IP address/);
  });

  it('takes the gRPC TLS certificate and key together', () => {
    const listen = z.object(grpcServerEnv);
    expect(loadConfig(listen, { GRPC_TLS_CERT_FILE: '/c', GRPC_TLS_KEY_FILE: '/k' })).toMatchObject({
      GRPC_TLS_CERT_FILE: '/c',
      GRPC_TLS_KEY_FILE: '/k',
    });
    expect(() => loadConfig(listen, { GRPC_TLS_CERT_FILE: '/c' })).toThrow(
      /GRPC_TLS_KEY_FILE: is required when GRPC_TLS_CERT_FILE is set/,
    );
  });
});

describe('configOrExit', () => {
  it('prints one line per issue and exits with 78', () => {
    const lines: string[] = [];
    const exit = vi.fn();
    expect(() =>
      configOrExit(schema, {
        env: { HTTP_PORT: '-1' },
        service: 'ingress',
        exit,
        write: (l) => lines.push(l),
      }),
    ).toThrow(ConfigError);
    expect(exit).toHaveBeenCalledWith(78);
    expect(lines.sort()).toEqual([
      'ingress: invalid configuration: DATABASE_URL: is required',
      'ingress: invalid configuration: HTTP_PORT: must be a whole number from 0 to 65535 (got "-1")',
    ]);
  });

  it('returns the config when valid', () => {
    const exit = vi.fn();
    expect(configOrExit(schema, { env: good, exit }).HTTP_PORT).toBe(9400);
    expect(exit).not.toHaveBeenCalled();
  });
});
