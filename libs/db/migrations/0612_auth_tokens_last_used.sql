-- 0612_auth_tokens_last_used: when each API token was last accepted (written by the verifying services at
-- most once a minute per token and process), so operators can find and retire unused tokens.

ALTER TABLE auth_tokens ADD COLUMN IF NOT EXISTS last_used_at timestamptz;
