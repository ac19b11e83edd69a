-- 0001_init: SMPP accounts (ESME credentials and per-account limits).
-- Applied by @smshub/db migrate() inside one transaction; schema_migrations is created by the migrator.

-- Keeps updated_at current on every UPDATE; later tables reuse it.
CREATE FUNCTION smshub_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

CREATE TABLE accounts (
  id                       uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- SMPP system_id: C-Octet String of at most 16 octets including the NUL, so 1..15 characters.
  system_id                text        NOT NULL UNIQUE
                                       CHECK (length(system_id) BETWEEN 1 AND 15),
  -- argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash); never the password itself.
  password_hash            text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  enabled                  boolean     NOT NULL DEFAULT true,
  -- Source networks a bind may come from; empty = any.
  allowed_cidrs            cidr[]      NOT NULL DEFAULT '{}',
  allowed_bind_types       text[]      NOT NULL DEFAULT '{transmitter,receiver,transceiver}'
                                       CHECK (allowed_bind_types <@ ARRAY['transmitter', 'receiver', 'transceiver']::text[]),
  -- Concurrent binds allowed for this system_id.
  max_binds                integer     NOT NULL DEFAULT 1 CHECK (max_binds > 0),
  -- submit_sm per second across all binds of the account.
  tps_limit                integer     NOT NULL DEFAULT 10 CHECK (tps_limit > 0),
  -- Outstanding (unacknowledged) PDUs per bind.
  max_window               integer     NOT NULL DEFAULT 10 CHECK (max_window > 0),
  -- Used when submit_sm carries no validity_period.
  default_validity_seconds integer     NOT NULL DEFAULT 172800 CHECK (default_validity_seconds > 0),
  -- When a message is charged: on accepted submit or on successful delivery receipt.
  charge_on                text        NOT NULL DEFAULT 'submit' CHECK (charge_on IN ('submit', 'delivery')),
  billing_mode             text        NOT NULL DEFAULT 'prepaid' CHECK (billing_mode IN ('prepaid', 'postpaid')),
  -- Postpaid: how far the balance may go below zero, in minor units of currency.
  credit_limit_minor       bigint      NOT NULL DEFAULT 0 CHECK (credit_limit_minor >= 0),
  -- ISO 4217 code; no default on purpose (money never has an implicit currency).
  currency                 char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER accounts_touch_updated_at
  BEFORE UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

COMMENT ON TABLE accounts IS 'SMPP accounts (ESMEs): credentials, bind policy, throughput and billing settings';
COMMENT ON COLUMN accounts.password_hash IS 'argon2id PHC string';
COMMENT ON COLUMN accounts.allowed_cidrs IS 'source networks allowed to bind; empty array = any';
