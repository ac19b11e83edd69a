-- 0700_http_api_idempotency: Idempotency-Key reservations of the HTTP API (services/http-api), shared by
-- every replica. A request with a key first reserves (account_id, key) in state 'pending' with the hash of
-- its request and the hub message ids it will use, then produces, then stores its answer ('done'). A retry
-- with the same key gets the stored answer, a different request 422, a retry while pending waits or 409.
-- A pending row whose owner died is taken over after a while with the SAME message ids, so a message that
-- did reach Kafka before the crash is produced again under its own id (downstream stages are idempotent
-- on message_id), never as a second message. Rows are kept 24 h.
CREATE TABLE http_api_idempotency (
  account_id   uuid        NOT NULL,
  idem_key     text        NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
  request_hash text        NOT NULL,
  state        text        NOT NULL CHECK (state IN ('pending', 'done')),
  message_ids  text[]      NOT NULL DEFAULT '{}',
  status_code  integer,
  response     jsonb,
  owner        text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, idem_key)
);

CREATE INDEX http_api_idempotency_created ON http_api_idempotency (created_at);

COMMENT ON TABLE http_api_idempotency IS 'http-api: Idempotency-Key reservations and first answers (24 h)';
