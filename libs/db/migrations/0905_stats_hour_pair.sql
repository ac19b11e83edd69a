-- 0905_stats_hour_pair: hourly roll-ups per PAIR of the small dimensions (connector, destination country,
-- destination network, traffic type): "OTP traffic by country", "connector X by network" and the like
-- read one row per (hour, value pair) instead of every full key (account x ... x currency) of the hours.
-- Accounts are left out on purpose: a pair with the account is about as many rows as the full key (one
-- account's full keys are few and already range-scanned by key id), and the number of accounts is what
-- grows; these rows grow only with the product of the two small dimensions.
--   pair: 10 * dim_a + dim_b (dim_a < dim_b, both in 2..5: 23, 24, 25, 34, 35, 45)
--   key_a / key_b: the values of dim_a and dim_b (traffic type as its number in text, as in *_dim)
-- Written in the same transaction as the other roll-ups (services/stats/src/store.ts); the same
-- counters and histogram columns; kept as long as the hourly rows (STATS_HOUR_RETENTION_DAYS).
CREATE TABLE IF NOT EXISTS stats_hour_pair (
  bucket            timestamptz NOT NULL,
  pair              smallint    NOT NULL,
  key_a             text        NOT NULL,
  key_b             text        NOT NULL,
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
  PRIMARY KEY (pair, bucket, key_a, key_b, currency)
);
