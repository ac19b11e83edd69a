-- 0400_dlr: tables owned by services/dlr (see services/dlr/README.md "How state is stored").
--   dlr_messages: one row per hub message: the customer-visible state (for MessageService and the expiry
--     sweep) and the reducer state (jsonb) that makes redelivered events harmless.
--   dlr_timeline: every event of a message's life as it was on its topic (protobuf bytes), for GetMessage.
--   dlr_dispatch_index: accepted dispatches by canonical supplier id keys, so a receipt finds its part
--     after a restart or rebalance.
--   dlr_parked_receipts: receipts that arrived before their dispatch; retried, then reported unmatched.

CREATE TABLE dlr_messages (
  message_id          uuid        PRIMARY KEY,
  account_id          text        NOT NULL DEFAULT '',
  system_id           text        NOT NULL DEFAULT '',
  customer_message_id text        NOT NULL DEFAULT '',
  -- Destination address digits (for ListMessages' destination_prefix filter).
  destination         text        NOT NULL DEFAULT '',
  -- smshub.sms.v1.DeliveryStatus number of the aggregated status.
  status              smallint    NOT NULL,
  final               boolean     NOT NULL DEFAULT false,
  -- Connector of the last attempt ('' if never dispatched).
  connector_id        text        NOT NULL DEFAULT '',
  parts_total         integer     NOT NULL DEFAULT 1 CHECK (parts_total > 0),
  parts_delivered     integer     NOT NULL DEFAULT 0,
  segments            integer     NOT NULL DEFAULT 0,
  -- Revision of the last sms.delivery.v1 event produced for this message (0 = none yet).
  revision            integer     NOT NULL DEFAULT 0,
  -- When the customer submitted it (MessageContext.received_at); ListMessages' time axis.
  received_at         timestamptz NOT NULL,
  done_at             timestamptz,
  -- When the expiry sweep declares it EXPIRED; NULL once final.
  expires_at          timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  -- smshub.sms.v1.MessageContext protobuf (merged from every event seen).
  context             bytea       NOT NULL,
  -- The domain reducer's MessageState (services/dlr/src/domain/timeline.ts).
  state               jsonb       NOT NULL
);

CREATE INDEX dlr_messages_account_time ON dlr_messages (account_id, received_at DESC, message_id DESC);
CREATE INDEX dlr_messages_customer_id ON dlr_messages (account_id, customer_message_id);
CREATE INDEX dlr_messages_expiry ON dlr_messages (expires_at) WHERE NOT final;
CREATE INDEX dlr_messages_received ON dlr_messages (received_at);

CREATE TABLE dlr_timeline (
  message_id  uuid        NOT NULL,
  -- Idempotency key of the event within the message (e.g. 'submitted', 'dispatch/1/2/con_a', 'delivery/3').
  event_key   text        NOT NULL,
  topic       text        NOT NULL,
  -- 'submitted' | 'routed' | 'rejected' | 'dispatched' | 'receipt' | 'delivery'
  kind        text        NOT NULL,
  event_time  timestamptz NOT NULL,
  -- Position of the kind in the flow, to order events with equal times.
  flow_order  smallint    NOT NULL,
  -- The event's protobuf bytes (SmsSubmitted, SmsRouted, SmsRejected, SmsDispatched, SmsReceiptRaw, SmsDelivery).
  payload     bytea       NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, event_key)
);

CREATE INDEX dlr_timeline_recorded ON dlr_timeline (recorded_at);

CREATE TABLE dlr_dispatch_index (
  message_id          uuid        NOT NULL,
  -- 0-based part index (SmsDispatched.part_number - 1).
  part_index          integer     NOT NULL,
  connector_id        text        NOT NULL,
  -- As the supplier wrote it in submit_sm_resp.
  supplier_message_id text        NOT NULL,
  parts_total         integer     NOT NULL,
  attempt             integer     NOT NULL,
  accepted_at         timestamptz NOT NULL,
  -- '<connector_id>|<canonical key>' for every reading of the id (services/dlr/src/domain/message-id.ts).
  keys                text[]      NOT NULL,
  -- smshub.sms.v1.MessageContext protobuf of the dispatch.
  context             bytea       NOT NULL,
  segments            integer     NOT NULL DEFAULT 1,
  PRIMARY KEY (message_id, part_index, connector_id, supplier_message_id)
);

CREATE INDEX dlr_dispatch_index_keys ON dlr_dispatch_index USING gin (keys);
CREATE INDEX dlr_dispatch_index_accepted ON dlr_dispatch_index (accepted_at);

CREATE TABLE dlr_parked_receipts (
  receipt_id   text        PRIMARY KEY,
  connector_id text        NOT NULL,
  -- Same form as dlr_dispatch_index.keys: the receipt's candidate keys.
  keys         text[]      NOT NULL,
  -- smshub.sms.v1.SmsReceiptRaw protobuf and its record key (for the dead-letter copy).
  receipt      bytea       NOT NULL,
  record_key   text,
  parked_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX dlr_parked_receipts_keys ON dlr_parked_receipts USING gin (keys);
CREATE INDEX dlr_parked_receipts_parked ON dlr_parked_receipts (parked_at);

COMMENT ON TABLE dlr_messages IS 'dlr: state of every hub message (one row per message)';
COMMENT ON TABLE dlr_timeline IS 'dlr: events of each message as read from their topics';
COMMENT ON TABLE dlr_dispatch_index IS 'dlr: accepted dispatches by supplier id keys (receipt join)';
COMMENT ON TABLE dlr_parked_receipts IS 'dlr: receipts waiting for their dispatch';
