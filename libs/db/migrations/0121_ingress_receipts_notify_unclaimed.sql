-- 0121_ingress_receipts_notify_unclaimed: ingress_pending_receipts notifies once per INSERT statement, and only
-- for the system_ids of new rows nobody has claimed.
--   A replica with a receiver of the customer bound inserts that customer's receipts already claimed (its
--   lease, attempt 1) and sends them at once (services/ingress, ReceiptStore.insertMany): waking every
--   replica's dispatcher for them would only make each run a claim that finds nothing. The row trigger also
--   ran a PL/pgSQL call and a pg_notify per receipt; a statement trigger over the transition table runs one
--   call per statement and one notification per distinct system_id (the payload, as before).

DROP TRIGGER IF EXISTS ingress_pending_receipts_notify ON ingress_pending_receipts;

CREATE OR REPLACE FUNCTION ingress_pending_receipts_notify_unclaimed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  sid text;
BEGIN
  FOR sid IN SELECT DISTINCT system_id FROM new_receipts WHERE claimed_by IS NULL LOOP
    PERFORM pg_notify('smshub_ingress_receipts', sid);
  END LOOP;
  RETURN NULL;
END;
$$;

CREATE TRIGGER ingress_pending_receipts_notify
  AFTER INSERT ON ingress_pending_receipts
  REFERENCING NEW TABLE AS new_receipts
  FOR EACH STATEMENT EXECUTE FUNCTION ingress_pending_receipts_notify_unclaimed();

DROP FUNCTION IF EXISTS ingress_pending_receipts_notify();
