-- 0201_egress_dispatch_hot: egress_part_dispatch costs less Postgres CPU per part (services/egress/README.md,
-- "Live flow and Postgres CPU").
--   Each part's row is written twice: the 'sending' claim (an insert of about 110 bytes) and its outcome (an
--   update that adds the encoded dispatch event: about 380 bytes). The update changes no indexed column, so
--   it can be HOT (the new version on the same page, no new index entry) when the page has room for it.
--   Pages fill with claims up to the fillfactor; at 20 % a full page of claims (about 14) and all their
--   outcomes, written before any claim version could be pruned, still fit in one page. A page ends about as
--   full as with no free room, because what stays is the outcomes.

ALTER TABLE egress_part_dispatch SET (fillfactor = 20);

-- The upsert sets updated_at itself: the trigger ran a PL/pgSQL function for every outcome row.
DROP TRIGGER egress_part_dispatch_touch ON egress_part_dispatch;

-- Housekeeping deletes by created_at, which grows with insertion order: a BRIN index serves that delete
-- for a fraction of a btree's upkeep per row.
DROP INDEX egress_part_dispatch_created;
CREATE INDEX egress_part_dispatch_created ON egress_part_dispatch USING brin (created_at);
