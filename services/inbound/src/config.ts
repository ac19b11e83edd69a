import { databaseEnv, envInt, z } from '@smshub/config';

const uuid = z
  .string()
  .trim()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: 'must be an account id (UUID)',
  });

/** The inbound stage's environment (README "Configuration"); defaults live here and nowhere else. */
export const inboundEnv = {
  ...databaseEnv,
  /** Account that takes MO sent to a number assigned to nobody; unset = such MO are dropped (counted). */
  INBOUND_DEFAULT_ACCOUNT_ID: uuid.optional(),
  /** A long MO whose parts have not all arrived within this is passed on part by part. */
  INBOUND_REASSEMBLY_TIMEOUT_MS: envInt({ min: 1_000, max: 86_400_000, default: 60_000 }),
  /** How long a number's assignments and an account's mo_reassemble are cached. */
  INBOUND_NUMBER_CACHE_MS: envInt({ min: 0, max: 3_600_000, default: 10_000 }),
};

export type InboundEnv = z.infer<z.ZodObject<typeof inboundEnv>>;

export interface InboundOptions {
  defaultAccountId?: string;
  reassemblyTimeoutMs: number;
  numberCacheMs: number;
  /** How often overdue groups are looked for; default a quarter of the timeout, at most 5 s. */
  sweepMs?: number;
  /** Consumer group; default smshub-inbound. */
  groupId: string;
}

export function optionsFromEnv(env: InboundEnv): InboundOptions {
  return {
    ...(env.INBOUND_DEFAULT_ACCOUNT_ID
      ? { defaultAccountId: env.INBOUND_DEFAULT_ACCOUNT_ID.toLowerCase() }
      : {}),
    reassemblyTimeoutMs: env.INBOUND_REASSEMBLY_TIMEOUT_MS,
    numberCacheMs: env.INBOUND_NUMBER_CACHE_MS,
    groupId: 'smshub-inbound',
  };
}
