-- 0101_ingress_receipts_sent: a receipt the customer acknowledged stays (marked sent) until its expiry, so a
-- redelivered sms.delivery.v1 event cannot produce a second receipt after the first was delivered.
ALTER TABLE ingress_pending_receipts ADD COLUMN IF NOT EXISTS sent_at timestamptz;

DROP INDEX IF EXISTS ingress_pending_receipts_due;
CREATE INDEX ingress_pending_receipts_due ON ingress_pending_receipts (system_id, next_attempt_at)
  WHERE sent_at IS NULL;

COMMENT ON COLUMN ingress_pending_receipts.sent_at IS 'when the customer acknowledged it (deliver_sm_resp OK); NULL = still to send';
