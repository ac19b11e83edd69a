-- 0342_routing_probes: grey-route probing and demotion (issue 21 item 3; docs/routing.md "Grey routes").
--   routing_probe_targets  which probe numbers routing sends probes to through which connector, how often
--                          (operator configuration; next_at is claimed atomically by whichever replica is
--                          first, so each target gets one probe per interval across replicas)
--   routing_probes         every probe sent: its token, the receipt dlr published for it, and when the
--                          probe handset's MO confirmation came back (sms.inbound.v1)
--   routing_suspicion_clears  an operator's clear of a connector: evidence before cleared_at is ignored
--   routing_rules.demote_suspected  NULL = on for OTP traffic, off otherwise
CREATE TABLE IF NOT EXISTS routing_probe_targets (
  id            text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
  connector_id  text        NOT NULL,
  -- The probe handset's number (E.164 digits, no '+').
  number        text        NOT NULL CHECK (number ~ '^[0-9]{6,15}$'),
  -- Destination prefix the target stands for (digits; '' = the connector as a whole).
  destination   text        NOT NULL DEFAULT '' CHECK (destination ~ '^[0-9]{0,15}$'),
  interval_s    integer     NOT NULL DEFAULT 60 CHECK (interval_s BETWEEN 1 AND 86400),
  enabled       boolean     NOT NULL DEFAULT true,
  next_at       timestamptz NOT NULL DEFAULT now(),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS routing_probe_targets_due ON routing_probe_targets (next_at) WHERE enabled;

CREATE TABLE IF NOT EXISTS routing_probes (
  message_id     uuid        PRIMARY KEY,
  token          text        NOT NULL UNIQUE,
  target_id      text        NOT NULL,
  connector_id   text        NOT NULL,
  destination    text        NOT NULL DEFAULT '',
  number         text        NOT NULL,
  sent_at        timestamptz NOT NULL,
  -- Final status name from sms.delivery.v1 ('DELIVERED', 'UNDELIVERABLE', ...) and when dlr published it.
  receipt_status text,
  receipt_at     timestamptz,
  -- When the probe handset's MO carrying the token arrived.
  confirmed_at   timestamptz
);
CREATE INDEX IF NOT EXISTS routing_probes_connector ON routing_probes (connector_id, sent_at DESC);

CREATE TABLE IF NOT EXISTS routing_suspicion_clears (
  connector_id  text        PRIMARY KEY,
  cleared_at    timestamptz NOT NULL,
  cleared_by    text        NOT NULL
);

ALTER TABLE routing_rules ADD COLUMN IF NOT EXISTS demote_suspected boolean;
