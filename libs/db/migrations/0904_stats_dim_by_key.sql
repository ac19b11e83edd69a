-- 0904_stats_dim_by_key: the *_dim roll-ups also indexed by (dimension, value, bucket). Their primary
-- key leads with the bucket, right for breakdowns (every value of a dimension in a window) but not for
-- one value: a series of one account or of the top 10 connectors scanned every value's index entries
-- of every minute of the window (1,440 x 200 for one account over 24 h, growing with the number of
-- accounts); by value it is one range per value. Updates of existing rows stay HOT (no indexed column
-- changes).
CREATE INDEX IF NOT EXISTS stats_minute_dim_by_key ON stats_minute_dim (dim, key, bucket);
CREATE INDEX IF NOT EXISTS stats_hour_dim_by_key ON stats_hour_dim (dim, key, bucket);
