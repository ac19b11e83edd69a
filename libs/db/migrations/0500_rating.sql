-- 0500_rating: tables owned by services/rating (prices, CDRs, balances). See services/rating/README.md
-- and docs/finance.md.
--   rating_price_plans      named sets of sell rates shared by accounts
--   accounts.price_plan_id  the plan an account is priced with (its own rates override the plan)
--   rating_connectors       per connector: supplier (settlement party) and when the supplier bills
--   rating_rates            sell rates (account or plan) and buy rates (connector) per destination
--   rating_exchange_rates   currency conversion rates with effective periods
--   rating_cdrs             one rated record per hub message (the idempotency key), with the exact bytes published
--   rating_balances         current balance per account (minor units of the account currency)
--   rating_topups           credits added to balances (idempotent per client key)
--   rating_balance_ledger   every balance change: one per rated message (charge) or top-up

CREATE TABLE rating_price_plans (
  id         text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  name       text        NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER rating_price_plans_touch_updated_at
  BEFORE UPDATE ON rating_price_plans
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

ALTER TABLE accounts ADD COLUMN IF NOT EXISTS price_plan_id text
  REFERENCES rating_price_plans (id) ON DELETE SET NULL;

CREATE TABLE rating_connectors (
  connector_id  text        PRIMARY KEY CHECK (length(connector_id) BETWEEN 1 AND 64),
  -- Settlement party of the buy side (the supplier company); several connectors may share one.
  supplier_id   text        NOT NULL CHECK (length(supplier_id) BETWEEN 1 AND 64),
  -- 'submit': the supplier bills every message it accepted; 'delivery': only delivered ones.
  buy_charge_on text        NOT NULL DEFAULT 'submit' CHECK (buy_charge_on IN ('submit', 'delivery')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER rating_connectors_touch_updated_at
  BEFORE UPDATE ON rating_connectors
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

CREATE TABLE rating_rates (
  id             text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  -- Sell rates belong to an account or a price plan, buy rates to a connector.
  owner_kind     text        NOT NULL CHECK (owner_kind IN ('account', 'plan', 'connector')),
  owner_id       text        NOT NULL,
  -- Exactly one destination match: E.164 prefix (digits), MCC-MNC (5-6 digits, no dash) or country.
  prefix         text        CHECK (prefix ~ '^[0-9]{1,15}$'),
  mcc_mnc        text        CHECK (mcc_mnc ~ '^[0-9]{5,6}$'),
  country        char(2)     CHECK (country ~ '^[A-Z]{2}$'),
  -- Price per segment = price_amount / 10^price_scale major units of currency (scale 6 = micro-units).
  price_amount   bigint      NOT NULL CHECK (price_amount >= 0),
  price_scale    smallint    NOT NULL DEFAULT 6 CHECK (price_scale BETWEEN 0 AND 18),
  currency       char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- Valid in [effective_from, effective_to); rating uses the rate valid at the message's submit time.
  effective_from timestamptz NOT NULL,
  effective_to   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(prefix, mcc_mnc, country) = 1),
  CHECK (effective_to IS NULL OR effective_to > effective_from)
);

CREATE INDEX rating_rates_owner ON rating_rates (owner_kind, owner_id);

CREATE TRIGGER rating_rates_touch_updated_at
  BEFORE UPDATE ON rating_rates
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

CREATE TABLE rating_exchange_rates (
  id             text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  from_currency  char(3)     NOT NULL CHECK (from_currency ~ '^[A-Z]{3}$'),
  to_currency    char(3)     NOT NULL CHECK (to_currency ~ '^[A-Z]{3}$'),
  -- Units of to_currency per unit of from_currency, exact decimal.
  rate           numeric     NOT NULL CHECK (rate > 0),
  effective_from timestamptz NOT NULL,
  effective_to   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (from_currency <> to_currency),
  CHECK (effective_to IS NULL OR effective_to > effective_from)
);

-- One row per hub message: the primary key makes rating idempotent (INSERT ... ON CONFLICT DO NOTHING).
-- Amounts are minor units of their currency (ISO 4217 exponent: cents for EUR, yen for JPY).
CREATE TABLE rating_cdrs (
  hub_message_id  uuid        PRIMARY KEY,
  account_id      text        NOT NULL,
  connector_id    text        NOT NULL DEFAULT '',
  supplier_id     text        NOT NULL DEFAULT '',
  country         text        NOT NULL DEFAULT '',
  -- "<mcc>-<mnc>" as in billing.rated.v1, or ''.
  mcc_mnc         text        NOT NULL DEFAULT '',
  segments        integer     NOT NULL CHECK (segments > 0),
  -- Outcome priced (domain name, e.g. DELIVERED, REJECTED_HUB) and the record's RatedStatus name.
  outcome         text        NOT NULL,
  status          text        NOT NULL,
  billed_on       text        NOT NULL CHECK (billed_on IN ('submit', 'final')),
  sell_minor      bigint      NOT NULL,
  sell_currency   char(3)     NOT NULL,
  sell_charged    boolean     NOT NULL,
  sell_rate_id    text        NOT NULL DEFAULT '',
  buy_minor       bigint      NOT NULL,
  buy_currency    char(3)     NOT NULL,
  buy_charged     boolean     NOT NULL,
  buy_rate_id     text        NOT NULL DEFAULT '',
  -- NULL when it could not be computed (missing rate or exchange rate).
  margin_minor    bigint,
  submitted_at    timestamptz NOT NULL,
  -- Settlement periods are by rated_at (UTC).
  rated_at        timestamptz NOT NULL,
  -- The encoded smshub.billing.v1.BillingRated exactly as published: a re-publication is byte-identical.
  record          bytea       NOT NULL,
  -- Set once Kafka acknowledged the record; an unpublished CDR is (re)published by the next event of the message.
  published       boolean     NOT NULL DEFAULT false
);

CREATE INDEX rating_cdrs_rated_at ON rating_cdrs (rated_at);
CREATE INDEX rating_cdrs_account ON rating_cdrs (account_id, rated_at);
CREATE INDEX rating_cdrs_supplier ON rating_cdrs (supplier_id, rated_at);
CREATE INDEX rating_cdrs_unpublished ON rating_cdrs (rated_at) WHERE NOT published;

CREATE TABLE rating_balances (
  account_id    text        PRIMARY KEY,
  currency      char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- Prepaid: money left. Postpaid: payments minus usage. Minor units of currency.
  balance_minor bigint      NOT NULL DEFAULT 0,
  -- Incremented by every change; published as AccountBalance.revision.
  revision      bigint      NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rating_topups (
  id              uuid        PRIMARY KEY,
  account_id      text        NOT NULL,
  -- Positive to add credit, negative for a correction.
  amount_minor    bigint      NOT NULL CHECK (amount_minor <> 0),
  currency        char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- A repeated request with the same key has no further effect.
  idempotency_key text        NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  reference       text        NOT NULL DEFAULT '',
  actor           text        NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rating_balance_ledger (
  id             bigserial   PRIMARY KEY,
  account_id     text        NOT NULL,
  -- Charge of one rated message, or a top-up: each at most once.
  hub_message_id uuid        UNIQUE,
  topup_id       uuid        UNIQUE REFERENCES rating_topups (id),
  -- Signed change of the balance (charges are negative).
  amount_minor   bigint      NOT NULL,
  currency       char(3)     NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(hub_message_id, topup_id) = 1)
);

CREATE INDEX rating_balance_ledger_account ON rating_balance_ledger (account_id, id);

-- Top-up (admin API): applies a credit once per idempotency key and returns the resulting balance.
-- The balance row is created in the account's currency when missing; a top-up in another currency is refused.
CREATE FUNCTION rating_top_up(
  p_id uuid,
  p_account_id text,
  p_amount_minor bigint,
  p_currency text,
  p_idempotency_key text,
  p_reference text DEFAULT '',
  p_actor text DEFAULT ''
) RETURNS TABLE (applied boolean, topup_id uuid, balance_minor bigint, currency char(3), revision bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_existing rating_topups%ROWTYPE;
  v_currency char(3);
BEGIN
  INSERT INTO rating_topups (id, account_id, amount_minor, currency, idempotency_key, reference, actor)
  VALUES (p_id, p_account_id, p_amount_minor, p_currency, p_idempotency_key, p_reference, p_actor)
  ON CONFLICT (idempotency_key) DO NOTHING;
  IF NOT FOUND THEN
    SELECT * INTO v_existing FROM rating_topups t WHERE t.idempotency_key = p_idempotency_key;
    IF v_existing.account_id <> p_account_id OR v_existing.amount_minor <> p_amount_minor
       OR v_existing.currency <> p_currency THEN
      RAISE EXCEPTION 'idempotency key % was used for a different top-up', p_idempotency_key
        USING ERRCODE = 'unique_violation';
    END IF;
    RETURN QUERY SELECT false, v_existing.id, b.balance_minor, b.currency, b.revision
      FROM rating_balances b WHERE b.account_id = p_account_id;
    RETURN;
  END IF;
  SELECT b.currency INTO v_currency FROM rating_balances b WHERE b.account_id = p_account_id FOR UPDATE;
  IF v_currency IS NOT NULL AND v_currency <> p_currency THEN
    RAISE EXCEPTION 'top-up in % for a % balance of account %', p_currency, v_currency, p_account_id
      USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO rating_balance_ledger (account_id, topup_id, amount_minor, currency)
  VALUES (p_account_id, p_id, p_amount_minor, p_currency);
  RETURN QUERY
    INSERT INTO rating_balances AS b (account_id, currency, balance_minor, revision)
    VALUES (p_account_id, p_currency, p_amount_minor, 1)
    ON CONFLICT (account_id) DO UPDATE
      SET balance_minor = b.balance_minor + EXCLUDED.balance_minor,
          revision = b.revision + 1,
          updated_at = now()
    RETURNING true, p_id, b.balance_minor, b.currency, b.revision;
END;
$$;

COMMENT ON TABLE rating_cdrs IS 'One rated record (CDR) per hub message; the record column holds the published BillingRated bytes';
COMMENT ON FUNCTION rating_top_up IS 'Idempotent top-up (per idempotency_key): ledger entry plus balance change in one statement';
