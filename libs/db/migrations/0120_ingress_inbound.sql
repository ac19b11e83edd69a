-- 0120_ingress_inbound: inbound messages (MO, sms.inbound.v1) go to the customer through the same store and
-- forward as receipts (ingress_pending_receipts: kept until a receiver/transceiver bind acknowledges them,
-- leased, retried, redelivered after a crash). esm_class tells them apart: 0x04 a delivery receipt (every
-- row written before this migration), 0x00 an MO, 0x40 an MO part with its UDH. An MO row has status 0,
-- message_state 0 (no message_state TLV) and customer_message_id '' (no receipted_message_id TLV).
ALTER TABLE ingress_pending_receipts ADD COLUMN IF NOT EXISTS esm_class smallint NOT NULL DEFAULT 4;

COMMENT ON COLUMN ingress_pending_receipts.esm_class IS 'deliver_sm esm_class: 4 receipt, 0 MO, 64 MO part with UDH';
