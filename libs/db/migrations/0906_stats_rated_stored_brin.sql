-- 0906_stats_rated_stored_brin: stats_rated's stored_at index as BRIN (issue 17).
--   Every counted rated message inserts a stats_rated row, and every row took an entry in the stored_at
--   btree, which only the retention purge reads (DELETE ... WHERE stored_at < now() - STATS_CORRECTION_DAYS).
--   Rows are appended in stored_at order, so a BRIN index (one summary per 128 pages) finds the old ones
--   as well, without an index entry per message. As ingress's expiry indexes (0122).
DROP INDEX IF EXISTS stats_rated_stored_at;
CREATE INDEX stats_rated_stored_at ON stats_rated USING brin (stored_at);
