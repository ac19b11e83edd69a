-- 0710_webhooks: the webhooks service's tables (services/webhooks owns them; nothing else writes them).
--   webhook_endpoints: one per account: where its delivery receipts go, whether intermediate statuses are
--     wanted, and its signing secrets. A signing secret must be recoverable to compute an HMAC, so it is not
--     hashed: it is sealed with AES-256-GCM (libs/secrets, WEBHOOK_SECRET_KEY; the account id and slot are
--     the additional data). During a rotation the previous secret stays valid until previous_until and both
--     signatures are sent.
--   webhook_deliveries: one per (message, revision of its sms.delivery.v1 event) that must be POSTed; the
--     body is fixed when it is stored, so every retry sends the same bytes. The Kafka consumer only inserts
--     rows (then commits its offsets); the dispatcher works the table, so a slow receiver never holds a
--     partition. seq orders the deliveries of one message (a later one waits for the earlier to finish).
--   webhook_attempts: every HTTP attempt, for `hubctl webhooks attempts` and replays.

CREATE TABLE IF NOT EXISTS webhook_endpoints (
  account_id            text        PRIMARY KEY,
  url                   text        NOT NULL CHECK (url ~ '^https?://'),
  include_intermediate  boolean     NOT NULL DEFAULT false,
  secret_current        bytea       NOT NULL,
  secret_previous       bytea,
  previous_until        timestamptz,
  enabled               boolean     NOT NULL DEFAULT true,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id               uuid        PRIMARY KEY,
  seq              bigserial   NOT NULL UNIQUE,
  account_id       text        NOT NULL,
  message_id       text        NOT NULL,
  revision         integer     NOT NULL,
  event_type       text        NOT NULL,
  -- The message's callback_url; '' = the account's endpoint URL at the time of each attempt (a fixed
  -- endpoint also serves the retries already scheduled).
  url              text        NOT NULL DEFAULT '',
  body             text        NOT NULL,
  -- pending: to be attempted at next_attempt_at; delivered: a 2xx came back; failed: retries exhausted.
  state            text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  -- A replica working the row holds it until then (another one takes it over after a crash).
  lease_until      timestamptz,
  -- No retry is scheduled after this (created_at + WEBHOOK_RETRY_FOR, 24 h by default).
  give_up_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  last_error       text,
  -- Set by a replay; its attempts are marked replay.
  replay           boolean     NOT NULL DEFAULT false,
  UNIQUE (message_id, revision)
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_message ON webhook_deliveries (message_id, seq);

CREATE TABLE IF NOT EXISTS webhook_attempts (
  id           uuid        PRIMARY KEY,
  delivery_id  uuid        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt      integer     NOT NULL,
  started_at   timestamptz NOT NULL,
  duration_ms  integer     NOT NULL,
  -- HTTP status; NULL when no answer came (refused, timeout, DNS...).
  http_status  integer,
  error        text,
  -- true for an attempt made by a replay (hubctl webhooks replay).
  replay       boolean     NOT NULL DEFAULT false
);

CREATE INDEX IF NOT EXISTS webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);

COMMENT ON TABLE webhook_endpoints IS 'Per-account webhook URL, options and sealed signing secrets; written by webhooks';
COMMENT ON TABLE webhook_deliveries IS 'Webhook POSTs to make (body fixed), their state and retry schedule; written by webhooks';
COMMENT ON TABLE webhook_attempts IS 'Every HTTP attempt of a webhook delivery; written by webhooks';
