-- 0404_dlr_dispatch_event: an accepted dispatch's timeline event is kept in its dlr_dispatch_index row
-- instead of a dlr_timeline row of its own (issue 17; services/dlr/README.md "Performance: session 13"):
-- one row and one primary-key entry fewer per message, the index row being written anyway. GetMessage
-- reads both (services/dlr/src/grpc.ts TIMELINE_OF). A dlr_timeline row is still written for rows before
-- this migration (payload NULL), dispatches that are not indexed (refused, failed), one whose index row
-- existed already, and with DLR_DISPATCH_EVENT=timeline (services/dlr/src/joiner.ts DISPATCH_EVENT_IN_INDEX).
-- Additive: nullable columns, no rewrite.

ALTER TABLE dlr_dispatch_index
  -- The topic the dispatch was read from (dlr_timeline.topic of the event).
  ADD COLUMN topic text,
  -- The SmsDispatched protobuf as read (dlr_timeline.payload of the event); NULL: it has a dlr_timeline row.
  ADD COLUMN payload bytea;
