-- 0502_rating_ledger_topup_index: the ledger's unique index on topup_id holds top-ups only (issue 17).
--   rating_balance_ledger has one row per charged message (hub_message_id set, topup_id NULL) and one per
--   top-up (topup_id set). The column's UNIQUE constraint put a NULL entry into its index for every charge:
--   an index insertion (and its WAL) per rated message that no lookup ever uses. A partial unique index keeps
--   the same rule for top-ups (a top-up id is in the ledger at most once) without those entries.
--   Building it reads the ledger once under a SHARE lock (rating's writes wait for that scan; the index
--   itself holds only the top-ups).
CREATE UNIQUE INDEX rating_balance_ledger_topup ON rating_balance_ledger (topup_id) WHERE topup_id IS NOT NULL;
ALTER TABLE rating_balance_ledger DROP CONSTRAINT rating_balance_ledger_topup_id_key;
