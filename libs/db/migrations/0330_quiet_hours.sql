-- 0330_quiet_hours: when a destination country may be sent to (issue 19 part 3), read by routing into
--   memory (services/routing/README.md "Quiet hours"). One row per country (account_id '') and per
--   account overriding its country. `allowed` is a JSON array of routing TimeWindows
--   ({"timeZone": "Europe/London", "days": ["mon", ...], "ranges": [{"from": "08:00", "to": "21:00"}]}),
--   read in the recipient's zone that the entry names (a country with several zones names one).
--   Outside every window routing holds the message (sms.scheduled.v1, services/scheduler) until the next
--   one opens. Changes are announced on config.changes.v1 (RESOURCE_KIND_QUIET_HOURS).
CREATE TABLE quiet_hours (
  country    text        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  account_id text        NOT NULL DEFAULT '',
  allowed    jsonb       NOT NULL CHECK (jsonb_typeof(allowed) = 'array' AND jsonb_array_length(allowed) > 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (country, account_id)
);
