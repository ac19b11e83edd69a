// API tokens: created with a secret shown once (stored as SHA-256, libs/auth), listed without it, expired
// and revoked. Revocation reaches every service within AUTH_CACHE_TTL_MS (their token cache); admin's
// own verifier forgets its cache at once.
import { generateSecret, hashSecret, isRole, type CallInfo, type Role } from '@smshub/auth';
import {
  TokenRole,
  type ApiToken,
  type CreateTokenRequest,
  type ListTokensRequest,
  type RevokeTokenRequest,
  type SetTokenExpiryRequest,
} from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { AdminContext } from '../context.js';
import { invalid, notFound } from '../errors.js';
import { decodePageToken, isUuid, pageOf, pageSize, uuidv7 } from '../validate.js';

const ROLE_OF: Partial<Record<TokenRole, Role>> = {
  [TokenRole.TOKEN_ROLE_ADMIN]: 'admin',
  [TokenRole.TOKEN_ROLE_OPERATIONS]: 'operations',
  [TokenRole.TOKEN_ROLE_FINANCE]: 'finance',
  [TokenRole.TOKEN_ROLE_CUSTOMER]: 'customer',
};
const TOKEN_ROLE: Record<Role, TokenRole> = {
  admin: TokenRole.TOKEN_ROLE_ADMIN,
  operations: TokenRole.TOKEN_ROLE_OPERATIONS,
  finance: TokenRole.TOKEN_ROLE_FINANCE,
  customer: TokenRole.TOKEN_ROLE_CUSTOMER,
};

interface TokenRow {
  id: string;
  name: string;
  role: string;
  account_id: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_by: string;
  last_used_at: Date | null;
}

const COLUMNS = 'id, name, role, account_id, created_at, expires_at, revoked_at, created_by, last_used_at';

export function tokenFromRow(r: TokenRow): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: isRole(r.role) ? TOKEN_ROLE[r.role] : TokenRole.TOKEN_ROLE_UNSPECIFIED,
    accountId: r.account_id ?? '',
    createTime: r.created_at,
    ...(r.expires_at ? { expireTime: r.expires_at } : {}),
    ...(r.revoked_at ? { revokeTime: r.revoked_at } : {}),
    createdBy: r.created_by,
    ...(r.last_used_at ? { lastUseTime: r.last_used_at } : {}),
  };
}

/** One token by id (NOT_FOUND when absent); also the audit log's "before". */
export async function readToken(pool: Pool, id: string): Promise<ApiToken> {
  if (!isUuid(id)) throw invalid('id', 'must be a token id (UUID)');
  const { rows } = await pool.query<TokenRow>(`SELECT ${COLUMNS} FROM auth_tokens WHERE id = $1`, [id]);
  if (!rows[0]) throw notFound('token', id);
  return tokenFromRow(rows[0]);
}

export function tokenHandlers(ctx: AdminContext) {
  return {
    async createToken(req: CreateTokenRequest, call?: CallInfo) {
      const name = req.name.trim();
      if (name === '' || name.length > 200) throw invalid('name', 'is required (up to 200 characters)');
      const role = ROLE_OF[req.role];
      if (role === undefined) throw invalid('role', 'must be admin, operations, finance or customer');
      if (role === 'customer') {
        if (!isUuid(req.accountId)) throw invalid('account_id', 'a customer token needs its account id');
        const { rowCount } = await ctx.pool.query('SELECT 1 FROM accounts WHERE id = $1', [req.accountId]);
        if (!rowCount) throw notFound('account', req.accountId);
      } else if (req.accountId !== '') {
        throw invalid('account_id', 'only customer tokens are scoped to an account');
      }
      if (req.expireTime !== undefined && req.expireTime.getTime() <= Date.now()) {
        throw invalid('expire_time', 'must be in the future');
      }
      const secret = generateSecret();
      const { rows } = await ctx.pool.query<TokenRow>(
        `INSERT INTO auth_tokens (id, token_hash, name, role, account_id, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [
          uuidv7(),
          hashSecret(secret),
          name,
          role,
          role === 'customer' ? req.accountId : null,
          req.expireTime ?? null,
          call?.principal.tokenId ?? '',
        ],
      );
      return { token: tokenFromRow(rows[0]!), secret };
    },

    async listTokens(req: ListTokensRequest) {
      const size = pageSize(req.pageSize);
      const filters = { inactive: req.includeInactive };
      const after = decodePageToken(req.pageToken, filters);
      if (after !== undefined && !isUuid(after))
        throw invalid('page_token', 'is not a token this API returned');
      const { rows } = await ctx.pool.query<TokenRow>(
        `SELECT ${COLUMNS} FROM auth_tokens
          WHERE ($1 OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())))
            AND ($2::uuid IS NULL OR id > $2::uuid)
          ORDER BY id LIMIT $3`,
        [req.includeInactive, after ?? null, size + 1],
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => r.id, filters);
      return { tokens: page.map(tokenFromRow), nextPageToken };
    },

    async revokeToken(req: RevokeTokenRequest) {
      await readToken(ctx.pool, req.id);
      const { rows } = await ctx.pool.query<TokenRow>(
        `UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
        [req.id],
      );
      ctx.verifier?.invalidate();
      return { token: tokenFromRow(rows[0]!) };
    },

    async setTokenExpiry(req: SetTokenExpiryRequest) {
      await readToken(ctx.pool, req.id);
      const { rows } = await ctx.pool.query<TokenRow>(
        `UPDATE auth_tokens SET expires_at = GREATEST(COALESCE($2::timestamptz, now()), now())
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [req.id, req.expireTime ?? null],
      );
      ctx.verifier?.invalidate();
      return { token: tokenFromRow(rows[0]!) };
    },
  };
}
