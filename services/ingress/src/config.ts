import { hostname } from 'node:os';
import { databaseEnv, envHost, envInt, envString, z } from '@smshub/config';
import { DEFAULT_OPTIONS } from './ingress.js';

/** Ingress's own environment variables (merged with the shared Kafka/HTTP/log/OTel ones by runService). */
export const ingressEnv = {
  ...databaseEnv,
  /**
   * Listen address of both SMPP listeners. Loopback by default, like every listener: customers reach
   * SMPP from outside, so deployments set 0.0.0.0 (the image, compose and the Helm chart do).
   */
  SMPP_HOST: envHost(),
  SMPP_PORT: envInt({ min: 0, max: 65535, default: 2775 }),
  SMPP_TLS_PORT: envInt({ min: 0, max: 65535, default: 3550 }),
  /** PEM certificate chain and key of the TLS listener; without both, no TLS listener is opened. */
  SMPP_TLS_CERT_FILE: envString().optional(),
  SMPP_TLS_KEY_FILE: envString().optional(),
  /** Replica name (the pod name); defaults to the host name. */
  INGRESS_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
  /**
   * A fetch of sms.delivery.v1 waits for this many bytes or this long, whichever comes first: larger
   * batches (fewer statements) under a paced flow, for up to that much more receipt latency.
   */
  INGRESS_DELIVERY_FETCH_MIN_BYTES: envInt({
    min: 1,
    max: 16 * 1024 * 1024,
    default: DEFAULT_OPTIONS.deliveryFetch.minBytes,
  }),
  INGRESS_DELIVERY_FETCH_WAIT_MS: envInt({
    min: 0,
    max: 10_000,
    default: DEFAULT_OPTIONS.deliveryFetch.maxWaitMs,
  }),
};

export type IngressEnv = z.infer<z.ZodObject<typeof ingressEnv>>;
