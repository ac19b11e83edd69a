import { hostname } from 'node:os';
import { databaseEnv, envInt, envString, z } from '@smshub/config';

/** Ingress's own environment variables (merged with the shared Kafka/HTTP/log/OTel ones by runService). */
export const ingressEnv = {
  ...databaseEnv,
  SMPP_PORT: envInt({ min: 0, max: 65535, default: 2775 }),
  SMPP_TLS_PORT: envInt({ min: 0, max: 65535, default: 3550 }),
  /** PEM certificate chain and key of the TLS listener; without both, no TLS listener is opened. */
  SMPP_TLS_CERT_FILE: envString().optional(),
  SMPP_TLS_KEY_FILE: envString().optional(),
  /** Replica name (the pod name); defaults to the host name. */
  INGRESS_REPLICA_ID: envString()
    .optional()
    .transform((v) => v ?? hostname()),
};

export type IngressEnv = z.infer<z.ZodObject<typeof ingressEnv>>;
