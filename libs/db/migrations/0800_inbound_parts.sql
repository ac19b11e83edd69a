-- 0800_inbound_parts: parts of long inbound messages (MO) waiting for their siblings (services/inbound owns
-- it). A part is stored before its Kafka offset is committed, so a crash loses none; when every part of a
-- group is there the whole message is published and the group marked published_at; a group whose oldest
-- part waited longer than INBOUND_REASSEMBLY_TIMEOUT_MS is published part by part and marked. Published
-- groups stay a while (a re-read part with the same mo_id is then recognised, not started over as a new
-- group) and are deleted by the sweeper.
--   group_key: source / destination / method / reference / total.

CREATE TABLE IF NOT EXISTS inbound_parts (
  group_key    text        NOT NULL,
  part_number  integer     NOT NULL CHECK (part_number >= 1),
  part_total   integer     NOT NULL CHECK (part_total >= 1),
  mo_id        text        NOT NULL,
  -- The SmsMo record as received (protobuf).
  record       bytea       NOT NULL,
  stored_at    timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  PRIMARY KEY (group_key, part_number)
);
CREATE INDEX IF NOT EXISTS inbound_parts_stored_at ON inbound_parts (stored_at);
