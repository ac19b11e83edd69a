-- 0401_dlr_cheaper_writes: dlr's tables cost less Postgres CPU per message (services/dlr/README.md,
-- "Performance").
--   dlr_messages is rewritten on several events of a message (submitted, routed, dispatch, receipt).
--     Free room in each page lets the updates that change no indexed column (all but the final one) be
--     HOT: a new row version on the same page and no new entry in any of the table's indexes.
--   The time columns used only by the retention delete (received_at, event_time, accepted_at) grow with
--     insertion order, so a BRIN index serves that delete for a fraction of a btree's upkeep per row.
--     dlr_timeline's btree on recorded_at served no query at all (retention filters on event_time).

ALTER TABLE dlr_messages SET (fillfactor = 70);

DROP INDEX dlr_messages_received;
CREATE INDEX dlr_messages_received ON dlr_messages USING brin (received_at);

DROP INDEX dlr_timeline_recorded;
CREATE INDEX dlr_timeline_event_time ON dlr_timeline USING brin (event_time);

DROP INDEX dlr_dispatch_index_accepted;
CREATE INDEX dlr_dispatch_index_accepted ON dlr_dispatch_index USING brin (accepted_at);

-- GIN's fast update queues new entries in a pending list that every search of the index reads in full
-- until a vacuum merges it. dlr searches these indexes all the time (each receipt batch that misses the
-- cache, each dispatch batch for parked receipts, the sweep once per parked receipt), so with a backlog
-- each search read thousands of pending entries: the sweep alone took seconds of Postgres CPU. Entries go
-- straight into the tree instead (two or three keys per row).
ALTER INDEX dlr_dispatch_index_keys SET (fastupdate = off);
ALTER INDEX dlr_parked_receipts_keys SET (fastupdate = off);
