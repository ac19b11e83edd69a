-- 0100_ingress_receipts: tables owned by services/ingress.
--   ingress_pending_receipts: delivery receipts waiting to be sent to the customer (store and forward).
--     Written by whichever ingress replica consumed the sms.delivery.v1 event; sent by the replica that has
--     a receiver/transceiver session of that system_id bound (claimed with a lease, FOR UPDATE SKIP LOCKED).
--   ingress_message_state: the last known state of each customer message, for query_sm.

CREATE TABLE ingress_pending_receipts (
  -- Hub message id and the smshub.sms.v1.DeliveryStatus the receipt reports: one receipt per pair.
  message_id          uuid        NOT NULL,
  status              smallint    NOT NULL,
  system_id           text        NOT NULL,
  customer_message_id text        NOT NULL,
  -- deliver_sm fields, ready to send (source = the original destination, destination = the original source).
  source_addr_ton     smallint    NOT NULL,
  source_addr_npi     smallint    NOT NULL,
  source_addr         text        NOT NULL,
  dest_addr_ton       smallint    NOT NULL,
  dest_addr_npi       smallint    NOT NULL,
  dest_addr           text        NOT NULL,
  data_coding         smallint    NOT NULL,
  short_message       bytea       NOT NULL,
  message_state       smallint    NOT NULL,
  -- network_error_code TLV value (3 octets) when known.
  network_error_code  bytea,
  -- Dropped (and counted) after this: the message's validity has ended.
  expires_at          timestamptz NOT NULL,
  attempts            integer     NOT NULL DEFAULT 0,
  next_attempt_at     timestamptz NOT NULL DEFAULT now(),
  -- Lease of the replica currently sending it; a row whose lease passed may be claimed again.
  claimed_by          text,
  claim_until         timestamptz,
  last_error          text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, status)
);

CREATE INDEX ingress_pending_receipts_due ON ingress_pending_receipts (system_id, next_attempt_at);
CREATE INDEX ingress_pending_receipts_expiry ON ingress_pending_receipts (expires_at);

-- Wakes the dispatchers of every replica (LISTEN smshub_ingress_receipts); the payload is the system_id.
CREATE FUNCTION ingress_pending_receipts_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('smshub_ingress_receipts', NEW.system_id);
  RETURN NULL;
END;
$$;

CREATE TRIGGER ingress_pending_receipts_notify
  AFTER INSERT ON ingress_pending_receipts
  FOR EACH ROW EXECUTE FUNCTION ingress_pending_receipts_notify();

CREATE TABLE ingress_message_state (
  system_id           text        NOT NULL,
  -- The id the customer got in submit_sm_resp (what query_sm carries).
  customer_message_id text        NOT NULL,
  message_id          uuid        NOT NULL,
  -- SMPP message_state (1 ENROUTE .. 8 REJECTED).
  message_state       smallint    NOT NULL,
  final_date          timestamptz,
  -- query_sm_resp error_code (1 octet).
  error_code          smallint    NOT NULL DEFAULT 0,
  -- SmsDelivery.revision: an older event never overwrites a newer one.
  revision            integer     NOT NULL,
  -- The row is deleted after this.
  expires_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system_id, customer_message_id)
);

CREATE INDEX ingress_message_state_expiry ON ingress_message_state (expires_at);

COMMENT ON TABLE ingress_pending_receipts IS 'ingress: delivery receipts waiting for the customer''s receiver bind';
COMMENT ON TABLE ingress_message_state IS 'ingress: last known state per customer message, for query_sm';
