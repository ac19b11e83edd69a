import type { Principal, TokenVerifier } from '@smshub/auth';
import { AuthError } from '@smshub/auth';
import { ipAllowed, type AccountDirectory, type ApiAccount } from './accounts.js';
import { ProblemError } from './problems.js';

/**
 * API keys are the customer-scoped tokens of libs/auth (role `customer`, one account; `hubctl api-keys
 * create <account>`), sent as `Authorization: Bearer <key>`, checked against auth_tokens through the same
 * short-lived cache as every gRPC API (a revoked key stops working within AUTH_CACHE_TTL_MS).
 *   - no key, a malformed header, an unknown, revoked or expired key        -> 401 unauthenticated
 *   - a valid token that is not a customer's (admin, operations, finance)     -> 403 forbidden (no account)
 *   - the account disabled, or the caller's address outside its allowed_cidrs -> 403 forbidden
 * Tokens that cannot be verified (database down) -> 503: never fail open.
 */
export interface Caller {
  principal: Principal;
  account: ApiAccount;
  /** The bearer secret, passed on to dlr's MessageService (it enforces the same scope). */
  token: string;
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="smshub"' };

export function bearerOf(header: string | undefined): string {
  if (header === undefined || header === '')
    throw new ProblemError('unauthenticated', 'send "Authorization: Bearer <API key>"', {}, CHALLENGE);
  const m = /^Bearer\s+(\S{1,512})$/i.exec(header.trim());
  if (!m)
    throw new ProblemError(
      'unauthenticated',
      'the Authorization header must be "Bearer <API key>"',
      {},
      CHALLENGE,
    );
  return m[1]!;
}

export async function authenticate(
  deps: { verifier: TokenVerifier; accounts: AccountDirectory },
  header: string | undefined,
  ip: string,
): Promise<Caller> {
  const token = bearerOf(header);
  let principal: Principal;
  try {
    principal = await deps.verifier.verify(token);
  } catch (err) {
    if (err instanceof AuthError && err.retriable)
      throw new ProblemError(
        'unavailable',
        'API keys cannot be verified right now; retry',
        {},
        { 'retry-after': '1' },
      );
    throw new ProblemError(
      'unauthenticated',
      'the API key is not valid (unknown, revoked or expired)',
      {},
      CHALLENGE,
    );
  }
  if (principal.role !== 'customer' || !principal.accountId)
    throw new ProblemError('forbidden', 'only customer API keys (scoped to one account) can use this API');
  const account = deps.accounts.get(principal.accountId);
  if (!account || !account.enabled) throw new ProblemError('forbidden', 'the account is disabled');
  if (!ipAllowed(account, ip))
    throw new ProblemError('forbidden', `this account does not accept requests from ${ip}`);
  return { principal, account, token };
}
