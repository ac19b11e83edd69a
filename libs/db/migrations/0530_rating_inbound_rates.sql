-- 0530_rating_inbound_rates: sell rates for inbound messages (MO). See services/rating/README.md and
-- docs/finance.md ("Inbound rates").
--   rating_rates.inbound  true: the rate prices MO received for the account (matched on the subscriber's
--                         number); false: an MT sell rate (or a buy rate). MT readers skip inbound rates,
--                         the MO lookup uses only them.

ALTER TABLE rating_rates ADD COLUMN IF NOT EXISTS inbound boolean NOT NULL DEFAULT false;

-- Only sell rates (account or plan) can be inbound: MO has no buy side.
ALTER TABLE rating_rates ADD CONSTRAINT rating_rates_inbound_sell_only
  CHECK (NOT inbound OR owner_kind IN ('account', 'plan'));
