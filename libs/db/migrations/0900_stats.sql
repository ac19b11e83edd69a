-- 0900_stats: the stats service's roll-ups (services/stats owns them; nothing else writes them).
-- Built from sms.routed.v1, sms.rejected.v1 and billing.rated.v1 (docs/stats.md). Every row is bucketed
-- by the minute (or hour) the hub accepted the message; counters are additive, so any window is a sum.
--   stats_keys: one id per (account, connector, country, mcc_mnc, traffic_type, currency) seen.
--   stats_minute / stats_hour: per bucket and key id (the full key): filtered queries.
--   stats_minute_dim / stats_hour_dim: per bucket and ONE dimension value (dim 0 = everything, key ''):
--     unfiltered totals, series and breakdowns read these (a few thousand rows for 24 h, whatever the
--     key cardinality).
--   lat: submit-to-receipt latency histogram of delivered messages, fixed log buckets (defined in
--     services/stats/src/domain/histogram.ts): element i (1-based) counts bucket i-1; trailing zeros are
--     trimmed; NULL = no samples. Buckets are the same in every row, so histograms add up.
--   stats_rated: the last counted revision of each rated message (for corrections and duplicates), kept
--     for STATS_CORRECTION_DAYS.
--   stats_offsets: the next offset per (group, topic, partition), written in the same transaction as the
--     roll-ups: a replayed record is never counted twice.

CREATE TABLE IF NOT EXISTS stats_keys (
  id            integer  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id    text     NOT NULL,
  connector_id  text     NOT NULL,
  country       text     NOT NULL,
  mcc_mnc       text     NOT NULL,
  traffic_type  smallint NOT NULL,
  currency      text     NOT NULL,
  UNIQUE (account_id, connector_id, country, mcc_mnc, traffic_type, currency)
);

CREATE TABLE IF NOT EXISTS stats_minute (
  bucket            timestamptz NOT NULL,
  key_id            integer     NOT NULL,
  submitted         bigint      NOT NULL DEFAULT 0,
  accepted          bigint      NOT NULL DEFAULT 0,
  rejected          bigint      NOT NULL DEFAULT 0,
  delivered         bigint      NOT NULL DEFAULT 0,
  failed            bigint      NOT NULL DEFAULT 0,
  segments          bigint      NOT NULL DEFAULT 0,
  rated             bigint      NOT NULL DEFAULT 0,
  missing_rate      bigint      NOT NULL DEFAULT 0,
  cost_unconverted  bigint      NOT NULL DEFAULT 0,
  revenue           numeric     NOT NULL DEFAULT 0,
  cost              numeric     NOT NULL DEFAULT 0,
  margin            numeric     NOT NULL DEFAULT 0,
  lat               integer[],
  PRIMARY KEY (key_id, bucket)
);
CREATE INDEX IF NOT EXISTS stats_minute_bucket ON stats_minute (bucket);

CREATE TABLE IF NOT EXISTS stats_hour (LIKE stats_minute INCLUDING DEFAULTS);
ALTER TABLE stats_hour DROP CONSTRAINT IF EXISTS stats_hour_pkey;
ALTER TABLE stats_hour ADD CONSTRAINT stats_hour_pkey PRIMARY KEY (key_id, bucket);
CREATE INDEX IF NOT EXISTS stats_hour_bucket ON stats_hour (bucket);

CREATE TABLE IF NOT EXISTS stats_minute_dim (
  bucket            timestamptz NOT NULL,
  dim               smallint    NOT NULL,
  key               text        NOT NULL,
  currency          text        NOT NULL,
  submitted         bigint      NOT NULL DEFAULT 0,
  accepted          bigint      NOT NULL DEFAULT 0,
  rejected          bigint      NOT NULL DEFAULT 0,
  delivered         bigint      NOT NULL DEFAULT 0,
  failed            bigint      NOT NULL DEFAULT 0,
  segments          bigint      NOT NULL DEFAULT 0,
  rated             bigint      NOT NULL DEFAULT 0,
  missing_rate      bigint      NOT NULL DEFAULT 0,
  cost_unconverted  bigint      NOT NULL DEFAULT 0,
  revenue           numeric     NOT NULL DEFAULT 0,
  cost              numeric     NOT NULL DEFAULT 0,
  margin            numeric     NOT NULL DEFAULT 0,
  lat               integer[],
  PRIMARY KEY (dim, bucket, key, currency)
);

CREATE TABLE IF NOT EXISTS stats_hour_dim (LIKE stats_minute_dim INCLUDING DEFAULTS);
ALTER TABLE stats_hour_dim DROP CONSTRAINT IF EXISTS stats_hour_dim_pkey;
ALTER TABLE stats_hour_dim ADD CONSTRAINT stats_hour_dim_pkey PRIMARY KEY (dim, bucket, key, currency);

CREATE TABLE IF NOT EXISTS stats_rated (
  message_id   text        PRIMARY KEY,
  revision     integer     NOT NULL,
  -- what the counted revision added (subtracted again when a newer revision replaces it)
  bucket       timestamptz NOT NULL,
  key_id       integer     NOT NULL,
  delivered    smallint    NOT NULL,
  failed       smallint    NOT NULL,
  segments     integer     NOT NULL,
  missing_rate smallint    NOT NULL,
  unconverted  smallint    NOT NULL,
  revenue      numeric     NOT NULL,
  cost         numeric     NOT NULL,
  margin       numeric     NOT NULL,
  lat_bucket   smallint,
  stored_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS stats_rated_stored_at ON stats_rated (stored_at);

CREATE TABLE IF NOT EXISTS stats_offsets (
  group_id     text    NOT NULL,
  topic        text    NOT NULL,
  partition    integer NOT NULL,
  next_offset  bigint  NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
);

-- Element-wise sum of two histograms (either may be NULL or shorter).
CREATE OR REPLACE FUNCTION stats_hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN a IS NULL THEN b
    WHEN b IS NULL THEN a
    ELSE (SELECT array_agg(coalesce(a[i], 0) + coalesce(b[i], 0) ORDER BY i)
            FROM generate_series(1, greatest(cardinality(a), cardinality(b))) AS i)
  END
$$;
