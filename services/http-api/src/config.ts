import { hostname } from 'node:os';
import { authEnv } from '@smshub/auth';
import { databaseEnv, envBoolean, envHost, envInt, envString } from '@smshub/config';

/** The HTTP API's own environment variables (merged with the shared Kafka/HTTP/log/OTel ones by runService). */
export const httpApiEnv = {
  ...databaseEnv,
  /** ADMIN_TOKEN is never accepted here (customer keys only); AUTH_CACHE_TTL_MS bounds revocation. */
  ...authEnv,
  /** Listen address of the API. Loopback by default, like every listener; deployments set 0.0.0.0. */
  HTTP_API_HOST: envHost(),
  HTTP_API_PORT: envInt({ min: 0, max: 65535, default: 8080 }),
  /** PEM certificate chain and key: with both, the API speaks HTTPS only. */
  HTTP_API_TLS_CERT_FILE: envString().optional(),
  HTTP_API_TLS_KEY_FILE: envString().optional(),
  /**
   * Proxies whose X-Forwarded-For is believed (comma-separated addresses/CIDRs, or a hop count). Unset:
   * none, the client address is the TCP peer (what the IP allow list checks).
   */
  HTTP_API_TRUST_PROXY: envString().optional(),
  /** Largest request body (a batch of 1,000 messages is typically ~200 KB). */
  HTTP_API_BODY_LIMIT: envInt({ min: 1024, max: 64 * 1024 * 1024, default: 4 * 1024 * 1024 }),
  /** A retry waits this long for a running request with the same Idempotency-Key before a 409. */
  HTTP_API_IDEMPOTENCY_WAIT_MS: envInt({ min: 0, max: 60_000, default: 2_000 }),
  /** Refuse messages of accounts that balances.v1 marks blocked (402 insufficient-balance). */
  HTTP_API_CREDIT_CHECK: envBoolean(true),
  /** Replica name (the pod name); defaults to the host name. */
  HTTP_API_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  /** dlr's MessageService (GET /v1/messages...), host:port; unset: those routes answer 503. */
  DLR_GRPC_ADDRESS: envString().optional(),
  /** Connect to dlr with TLS (system CAs). */
  DLR_GRPC_TLS: envBoolean(false),
};

/** "10.0.0.0/8,10.1.2.3" -> list; "2" -> hop count; unset -> false. */
export function trustProxyOf(v: string | undefined): boolean | number | string[] {
  if (v === undefined || v === '') return false;
  if (/^\d+$/.test(v)) return Number(v);
  if (v === 'true') return true;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
