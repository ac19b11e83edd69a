-- 0300_routing: tables owned by services/routing (see services/routing/README.md "Service").
--   routing_number_prefixes    E.164 prefix -> country and original network (longest prefix wins)
--   routing_ported_numbers     numbers ported away from their original network (read per number, TTL-cached)
--   routing_rules              routing rules: match fields, action (route with a strategy / block), sender rewrite
--   routing_rule_candidates    the connectors of a route rule, in order, with weights
--   routing_firewall_rules     firewall rules checked before routing
--   accounts.routing_group     the account group routing and firewall rules may match
--   accounts.default_country   country used to read national destination numbers
-- Routing also reads (never writes) egress_connectors (id, enabled), rating_rates (buy rates of connectors,
-- owner_kind = 'connector') and rating_exchange_rates.
-- Routing loads everything except ported numbers into memory at start and on every config.changes.v1 event.

CREATE TABLE routing_number_prefixes (
  prefix     text        PRIMARY KEY CHECK (prefix ~ '^[1-9][0-9]{0,14}$'),
  -- ISO 3166-1 alpha-2, or '001' for non-geographic numbering.
  country    text        NOT NULL CHECK (country ~ '^([A-Z]{2}|001)$'),
  mcc        text        NOT NULL CHECK (mcc ~ '^[0-9]{3}$'),
  mnc        text        NOT NULL CHECK (mnc ~ '^[0-9]{2,3}$'),
  operator   text        NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER routing_number_prefixes_touch_updated_at
  BEFORE UPDATE ON routing_number_prefixes
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

CREATE TABLE routing_ported_numbers (
  -- E.164 digits without "+".
  e164       text        PRIMARY KEY CHECK (e164 ~ '^[1-9][0-9]{1,14}$'),
  -- The network now serving the number.
  mcc        text        NOT NULL CHECK (mcc ~ '^[0-9]{3}$'),
  mnc        text        NOT NULL CHECK (mnc ~ '^[0-9]{2,3}$'),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER routing_ported_numbers_touch_updated_at
  BEFORE UPDATE ON routing_ported_numbers
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

CREATE TABLE routing_rules (
  id                   text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  name                 text        NOT NULL DEFAULT '',
  -- Higher wins among matching rules (then account and destination specificity, see the README).
  priority             integer     NOT NULL DEFAULT 0,
  enabled              boolean     NOT NULL DEFAULT true,
  -- Match fields; an empty array matches anything. account_ids or account_groups, not both.
  account_ids          text[]      NOT NULL DEFAULT '{}',
  account_groups       text[]      NOT NULL DEFAULT '{}',
  -- E.164 digits without "+".
  destination_prefixes text[]      NOT NULL DEFAULT '{}',
  countries            text[]      NOT NULL DEFAULT '{}',
  -- "234-15"
  mcc_mncs             text[]      NOT NULL DEFAULT '{}',
  -- Sender patterns: [{"glob": "ACME*"}, {"regex": "^\\d{5}$", "flags": "i"}].
  senders              jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(senders) = 'array'),
  -- {"timeZone": "Europe/London", "days": ["mon"], "ranges": [{"from": "09:00", "to": "17:00"}]} or NULL.
  time_window          jsonb,
  -- OTP, TRANSACTIONAL, MARKETING, UNSPECIFIED.
  traffic_types        text[]      NOT NULL DEFAULT '{}'
                                   CHECK (traffic_types <@ ARRAY['OTP', 'TRANSACTIONAL', 'MARKETING', 'UNSPECIFIED']::text[]),
  action               text        NOT NULL DEFAULT 'route' CHECK (action IN ('route', 'block')),
  -- Operator-facing reason of a block (never shown to customers).
  block_reason         text        NOT NULL DEFAULT '',
  strategy             text        NOT NULL DEFAULT 'priority'
                                   CHECK (strategy IN ('priority', 'weighted', 'least_cost', 'best_quality', 'score')),
  -- Currency costs are compared in (least_cost, score).
  strategy_currency    text        CHECK (strategy_currency ~ '^[A-Z]{3}$'),
  -- Strategy tuning: {"minSamples": 100, "prior": {"deliveryRatio": 0.9, "p50LatencyMs": 5000},
  -- "weights": {"quality": 0.6, "cost": 0.3, "latency": 0.1}}.
  strategy_options     jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(strategy_options) = 'object'),
  -- Sender rewrite for this destination: {"sourceAddr": "ACME", "sourceTon": 5, "sourceNpi": 0,
  -- "onlyIfSender": [{"glob": "*"}]} or NULL.
  sender_rewrite       jsonb,
  revision             bigint      NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK (cardinality(account_ids) = 0 OR cardinality(account_groups) = 0),
  CHECK (action <> 'route' OR strategy NOT IN ('least_cost', 'score') OR strategy_currency IS NOT NULL)
);

CREATE TRIGGER routing_rules_touch_updated_at
  BEFORE UPDATE ON routing_rules
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

CREATE TABLE routing_rule_candidates (
  rule_id      text    NOT NULL REFERENCES routing_rules (id) ON DELETE CASCADE,
  -- Order of the candidates (priority strategy tries them in this order; ties of other strategies too).
  position     integer NOT NULL CHECK (position >= 0),
  -- A connector of egress_connectors (not a foreign key: routing drops unknown connectors at load).
  connector_id text    NOT NULL CHECK (length(connector_id) BETWEEN 1 AND 64),
  -- Relative weight for the weighted strategy.
  weight       integer NOT NULL DEFAULT 1 CHECK (weight >= 0),
  PRIMARY KEY (rule_id, position),
  UNIQUE (rule_id, connector_id)
);

CREATE TABLE routing_firewall_rules (
  id             text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  name           text        NOT NULL DEFAULT '',
  kind           text        NOT NULL CHECK (kind IN (
                   'destination_block', 'premium_range', 'sender_deny', 'sender_allow', 'keyword',
                   'content_regex', 'url_shortener', 'duplicate', 'velocity_prefix', 'velocity_account',
                   'sequential_burst')),
  enabled        boolean     NOT NULL DEFAULT true,
  -- Scope: either list matches (empty = every account); countries of the destination (empty = all).
  account_ids    text[]      NOT NULL DEFAULT '{}',
  account_groups text[]      NOT NULL DEFAULT '{}',
  countries      text[]      NOT NULL DEFAULT '{}',
  -- Operator-facing reason (never shown to customers); derived from the rule when empty.
  reason         text        NOT NULL DEFAULT '',
  -- The kind's parameters, e.g. {"prefixes": ["44909"]}, {"patterns": [{"glob": "BANK*"}], "senderKind":
  -- "alphanumeric"}, {"keywords": ["casino"]}, {"limit": 100, "windowSeconds": 60}. See the README.
  params         jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
  revision       bigint      NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER routing_firewall_rules_touch_updated_at
  BEFORE UPDATE ON routing_firewall_rules
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

ALTER TABLE accounts ADD COLUMN IF NOT EXISTS routing_group text
  CHECK (routing_group IS NULL OR length(routing_group) BETWEEN 1 AND 64);
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS default_country text
  CHECK (default_country IS NULL OR default_country ~ '^[A-Z]{2}$');

COMMENT ON TABLE routing_ported_numbers IS 'Ported numbers: routing looks one number up on a cache miss (TTL cache)';
COMMENT ON COLUMN accounts.routing_group IS 'Account group matched by routing_rules.account_groups and firewall scopes';
COMMENT ON COLUMN accounts.default_country IS 'Country used by routing to read national (TON 2) destination numbers';
