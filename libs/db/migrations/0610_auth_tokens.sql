-- 0610_auth_tokens: API tokens of the gRPC APIs (admin, dlr's MessageService, rating's SettlementService).
--   Tokens are 256-bit random secrets, so a single SHA-256 is the right hash: there is nothing to brute-force
--   (2^256 guesses), and a fast hash keeps a lookup per call cheap. Slow salted hashes (argon2id) are for
--   human-chosen passwords, which are guessable; see docs/security.md.
--   Every service that verifies tokens reads this table (with a short cache, AUTH_CACHE_TTL_MS).

CREATE TABLE IF NOT EXISTS auth_tokens (
  id          uuid        PRIMARY KEY,
  -- hex SHA-256 of the whole bearer secret ("smshub_..."); the secret itself is never stored.
  token_hash  text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role        text        NOT NULL CHECK (role IN ('admin', 'operations', 'finance', 'customer')),
  -- The one account a customer token may read; NULL for the other roles.
  account_id  uuid        REFERENCES accounts (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- NULL = never expires.
  expires_at  timestamptz,
  revoked_at  timestamptz,
  -- Token id of the creator ("bootstrap" for ADMIN_TOKEN).
  created_by  text        NOT NULL DEFAULT '',
  CHECK ((role = 'customer') = (account_id IS NOT NULL))
);

COMMENT ON TABLE auth_tokens IS 'API bearer tokens (SHA-256 of the secret), roles and scopes; written by admin';
