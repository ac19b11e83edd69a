// Per-account webhook endpoints (webhook_endpoints): URL, options and the signing secrets, sealed with
// WEBHOOK_SECRET_KEY. Read through a short cache by the consumer and the dispatcher.
import { randomBytes } from 'node:crypto';
import { openSecretWithKeys, sealSecret } from '@smshub/secrets';
import type { Pool } from '@smshub/db';

export interface Endpoint {
  accountId: string;
  url: string;
  includeIntermediate: boolean;
  enabled: boolean;
  /** The secrets to sign with: the current one first, then the previous one while its rotation lasts. */
  secrets: string[];
  previousUntil: Date | null;
  updatedAt: Date;
}

interface Row {
  account_id: string;
  url: string;
  include_intermediate: boolean;
  enabled: boolean;
  secret_current: Buffer;
  secret_previous: Buffer | null;
  previous_until: Date | null;
  updated_at: Date;
}

/** A new signing secret: 32 random bytes, "whsec_" + base64url (shown once to the operator). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

const aad = (accountId: string) => `webhook-secret/${accountId}`;

export class EndpointStore {
  private readonly cache = new Map<string, { at: number; value: Endpoint | null }>();

  constructor(
    private readonly pool: Pool,
    /** WEBHOOK_SECRET_KEY first, then previous keys during a key rotation. */
    private readonly keys: readonly Buffer[],
    private readonly cacheTtlMs = 2_000,
  ) {}

  private fromRow(row: Row, now: Date): Endpoint {
    const secrets = [openSecretWithKeys(this.keys, row.secret_current, aad(row.account_id)).plaintext];
    if (row.secret_previous && row.previous_until && row.previous_until > now)
      secrets.push(openSecretWithKeys(this.keys, row.secret_previous, aad(row.account_id)).plaintext);
    return {
      accountId: row.account_id,
      url: row.url,
      includeIntermediate: row.include_intermediate,
      enabled: row.enabled,
      secrets,
      previousUntil: row.previous_until && row.previous_until > now ? row.previous_until : null,
      updatedAt: row.updated_at,
    };
  }

  /** The cached endpoint (null: the account has none) while fresh; undefined when it must be read. */
  cached(accountId: string, now = Date.now()): Endpoint | null | undefined {
    const hit = this.cache.get(accountId);
    return hit && now - hit.at < this.cacheTtlMs ? hit.value : undefined;
  }

  async get(accountId: string, opts: { fresh?: boolean } = {}): Promise<Endpoint | null> {
    const hit = this.cache.get(accountId);
    if (!opts.fresh && hit && Date.now() - hit.at < this.cacheTtlMs) return hit.value;
    const { rows } = await this.pool.query<Row>('SELECT * FROM webhook_endpoints WHERE account_id = $1', [
      accountId,
    ]);
    const value = rows[0] ? this.fromRow(rows[0], new Date()) : null;
    this.cache.set(accountId, { at: Date.now(), value });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
    return value;
  }

  /**
   * Creates or updates an account's endpoint. A new endpoint gets a signing secret, returned once (the
   * only time it is shown); an update keeps the secrets.
   */
  async set(input: {
    accountId: string;
    url: string;
    includeIntermediate: boolean;
    enabled: boolean;
  }): Promise<{ endpoint: Endpoint; newSecret: string | null }> {
    const secret = newSigningSecret();
    const { rows } = await this.pool.query<Row & { inserted: boolean }>(
      `INSERT INTO webhook_endpoints (account_id, url, include_intermediate, enabled, secret_current)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (account_id) DO UPDATE SET url = EXCLUDED.url,
         include_intermediate = EXCLUDED.include_intermediate, enabled = EXCLUDED.enabled, updated_at = now()
       RETURNING *, (xmax = 0) AS inserted`,
      [
        input.accountId,
        input.url,
        input.includeIntermediate,
        input.enabled,
        sealSecret(this.keys[0]!, secret, aad(input.accountId)),
      ],
    );
    const row = rows[0]!;
    this.cache.delete(input.accountId);
    return { endpoint: this.fromRow(row, new Date()), newSecret: row.inserted ? secret : null };
  }

  /**
   * Rotates the signing secret: the current one becomes the previous one, valid (and signed with) for
   * `overlapMs` more; a new current one is made and returned once. Null when the account has no endpoint.
   */
  async rotate(
    accountId: string,
    overlapMs: number,
  ): Promise<{ endpoint: Endpoint; newSecret: string } | null> {
    const secret = newSigningSecret();
    const { rows } = await this.pool.query<Row>(
      `UPDATE webhook_endpoints SET secret_previous = secret_current, secret_current = $2,
         previous_until = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
       WHERE account_id = $1 RETURNING *`,
      [accountId, sealSecret(this.keys[0]!, secret, aad(accountId)), overlapMs],
    );
    this.cache.delete(accountId);
    return rows[0] ? { endpoint: this.fromRow(rows[0], new Date()), newSecret: secret } : null;
  }

  async remove(accountId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM webhook_endpoints WHERE account_id = $1', [
      accountId,
    ]);
    this.cache.delete(accountId);
    return (rowCount ?? 0) > 0;
  }
}
