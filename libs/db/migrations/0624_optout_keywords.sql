-- 0624_optout_keywords: the STOP/START/HELP keywords of opt-out (the lists themselves: 0320_routing_optouts).
--   optout_keyword_sets: keyword sets per account ('' = every account), country ('' = any) and language.
--   optout_keyword_events: one row per inbound message a keyword was acted on (a redelivered MO is not
--   counted, audited or answered twice).

CREATE TABLE IF NOT EXISTS optout_keyword_sets (
  account_id        text        NOT NULL DEFAULT '',
  country           text        NOT NULL DEFAULT '' CHECK (country ~ '^([A-Z]{2})?$'),
  language          text        NOT NULL DEFAULT '' CHECK (language ~ '^([a-z]{2,3}(-[A-Za-z0-9]{2,8})*)?$'),
  stop_keywords     text[]      NOT NULL DEFAULT '{}',
  stop_all_keywords text[]      NOT NULL DEFAULT '{}',
  start_keywords    text[]      NOT NULL DEFAULT '{}',
  help_keywords     text[]      NOT NULL DEFAULT '{}',
  help_reply        text        NOT NULL DEFAULT '',
  stop_reply        text        NOT NULL DEFAULT '',
  start_reply       text        NOT NULL DEFAULT '',
  scope             text        NOT NULL DEFAULT 'number' CHECK (scope IN ('number', 'account')),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, country, language)
);

CREATE TABLE IF NOT EXISTS optout_keyword_events (
  message_id  text        PRIMARY KEY,
  account_id  text        NOT NULL,
  action      text        NOT NULL,
  keyword     text        NOT NULL,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS optout_keyword_events_at ON optout_keyword_events (at);

COMMENT ON TABLE optout_keyword_sets IS 'STOP/START/HELP keywords and replies per account, country and language (built-in defaults when none)';
