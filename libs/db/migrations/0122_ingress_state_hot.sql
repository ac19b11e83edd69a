-- 0122_ingress_state_hot: ingress's per-message rows cost less PostgreSQL (issue 17; services/ingress/README.md
-- "PostgreSQL per message").
--   ingress_message_state gets a row per accepted message (ENROUTE) and an update when the message's
--   sms.delivery.v1 event arrives. That update changed expires_at (an indexed column) and found its page full,
--   so it was never HOT: a new row version on another page, a new entry in the primary key (two text
--   columns) and in the expiry index. The upsert now leaves expires_at alone unless it moves by more than an
--   hour (ReceiptStore, EXPIRY_SLACK_SECONDS), and the pages keep room for the updates: the new version goes
--   on the same page, without index entries.
--   Both tables' expiry indexes serve only the purge of expired rows (ReceiptStore.expire), and expires_at
--   grows with insertion order (now + a retention or validity): a BRIN index serves that delete for a
--   fraction of a btree's upkeep per row version (egress did the same in 0201).

ALTER TABLE ingress_message_state SET (fillfactor = 50);

DROP INDEX ingress_message_state_expiry;
CREATE INDEX ingress_message_state_expiry ON ingress_message_state USING brin (expires_at);

DROP INDEX ingress_pending_receipts_expiry;
CREATE INDEX ingress_pending_receipts_expiry ON ingress_pending_receipts USING brin (expires_at);
