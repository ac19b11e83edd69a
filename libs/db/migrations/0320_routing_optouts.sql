-- 0320_routing_optouts: subscribers who asked an account to stop sending.
--   One row per (account, subscriber, scope). scope_number '' = account-wide, else the hub number (digits or
--   short code) the subscriber replied to. Written by the admin API (add/remove/import) and by
--   services/inbound (keywords); routing holds every row in memory and rejects a later MT (REJECTD, err 017).

CREATE TABLE IF NOT EXISTS optouts (
  account_id   uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  msisdn       text        NOT NULL CHECK (msisdn ~ '^[1-9][0-9]{5,14}$'),
  scope_number text        NOT NULL DEFAULT '' CHECK (scope_number ~ '^[0-9]{0,15}$'),
  source       text        NOT NULL CHECK (source IN ('keyword', 'import', 'api')),
  keyword      text        NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  actor        text        NOT NULL DEFAULT '',
  PRIMARY KEY (account_id, msisdn, scope_number)
);

CREATE INDEX IF NOT EXISTS optouts_msisdn ON optouts (msisdn);

COMMENT ON TABLE optouts IS 'Opt-outs: routing rejects an MT of account_id to msisdn (from scope_number, or any sender when empty)';
