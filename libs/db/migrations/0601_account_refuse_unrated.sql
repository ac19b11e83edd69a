-- 0601_account_refuse_unrated: smshub.config.v1.Account.refuse_unrated. When true, ingress refuses a
-- submit_sm for which no sell rate applies (ESME_RINVDSTADR) instead of sending a message nobody is billed for.
-- Accounts created through the admin API get true unless the request says otherwise. Rows that exist
-- when this migration runs get false: the hub cannot tell an account deliberately sending unpriced
-- traffic (tests, internal) from a forgotten price list, and refusing live traffic on upgrade is worse
-- than the alert on RATED_STATUS_MISSING_RATE records that ships with this change. Operators turn it on
-- per account (hubctl accounts update ID --refuse-unrated=true).
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS refuse_unrated boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN accounts.refuse_unrated IS
  'ingress refuses submits with no applicable sell rate (smshub.config.v1.Account.refuse_unrated)';
