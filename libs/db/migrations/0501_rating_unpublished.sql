-- 0501_rating_unpublished: the CDRs whose record Kafka has not acknowledged yet move to their own narrow
-- table (services/rating/README.md, "Performance").
--   Marking a CDR published updated its wide row, and since `published` was in the predicate of the partial
--   index rating_cdrs_unpublished the update could not be HOT: every CDR got a second row version and a
--   second entry in each index of rating_cdrs. Now a CDR's id is inserted here in the transaction that
--   inserts the CDR, and deleted once Kafka acknowledged its record: a CDR is published exactly when it has
--   no row here. The table only holds the records in flight (or lost in a crash), so finding the oldest one
--   at start (rating's recovery reads billing.rated.v1 back from there) is cheap.

DROP INDEX rating_cdrs_unpublished;

CREATE TABLE rating_cdrs_unpublished (
  hub_message_id uuid        PRIMARY KEY,
  -- rating_cdrs.rated_at of the CDR: where the read-back of billing.rated.v1 starts.
  rated_at       timestamptz NOT NULL
);

INSERT INTO rating_cdrs_unpublished (hub_message_id, rated_at)
  SELECT hub_message_id, rated_at FROM rating_cdrs WHERE NOT published;

-- rating_cdrs.published is no longer written: NULL from now on. It stays (nullable) only because existing
-- tooling tests insert it; it can be dropped once nothing does.
ALTER TABLE rating_cdrs ALTER COLUMN published DROP NOT NULL, ALTER COLUMN published DROP DEFAULT;
COMMENT ON COLUMN rating_cdrs.published IS
  'Not maintained since migration 0501 (NULL for newer CDRs): a CDR is published when rating_cdrs_unpublished has no row for it';
COMMENT ON TABLE rating_cdrs_unpublished IS
  'CDRs committed whose BillingRated record Kafka has not acknowledged yet (deleted on acknowledgement)';
