-- 0600_admin: what the admin API (services/admin) needs beyond the tables the services own.
--   Fields of smshub.config.v1 resources that no service reads yet (account name, state, traffic type,
--   allowed sources, receipt text, message id format; connector currency; ported-number date and source) are
--   kept here so a Get returns what was written.
--   revision: optimistic concurrency (UpdateX/DeleteX expected_revision) on the tables that lacked it.

ALTER TABLE accounts ADD COLUMN IF NOT EXISTS name text NOT NULL DEFAULT '';
-- 'active' binds and submits; 'suspended' and 'closed' are stored with enabled = false.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'active'
  CHECK (state IN ('active', 'suspended', 'closed'));
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS default_traffic_type text NOT NULL DEFAULT 'UNSPECIFIED'
  CHECK (default_traffic_type IN ('OTP', 'TRANSACTIONAL', 'MARKETING', 'UNSPECIFIED'));
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS allowed_sources text[] NOT NULL DEFAULT '{}';
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS receipt_include_text boolean NOT NULL DEFAULT false;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS message_id_format text NOT NULL DEFAULT ''
  CHECK (message_id_format IN ('', 'uuid', 'hex', 'decimal'));
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 1;

ALTER TABLE egress_connectors ADD COLUMN IF NOT EXISTS currency text
  CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$');

ALTER TABLE rating_rates ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 1;

ALTER TABLE routing_number_prefixes ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 1;

ALTER TABLE routing_ported_numbers ADD COLUMN IF NOT EXISTS revision bigint NOT NULL DEFAULT 1;
ALTER TABLE routing_ported_numbers ADD COLUMN IF NOT EXISTS ported_at timestamptz;
ALTER TABLE routing_ported_numbers ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT '';

COMMENT ON COLUMN accounts.state IS 'Lifecycle state set by the admin API (enabled = state is active)';
COMMENT ON COLUMN accounts.revision IS 'Optimistic-concurrency revision (smshub.config.v1.Account.revision)';
