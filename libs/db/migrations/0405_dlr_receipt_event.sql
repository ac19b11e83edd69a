-- 0405_dlr_receipt_event: a joined receipt's timeline event is kept in the dlr_timeline row of the delivery
-- it caused (the same transaction writes both since session 13) instead of a row of its own (issue 17;
-- services/dlr/README.md "Performance: session 13"): one row and one primary-key entry fewer per message.
-- GetMessage reads it back as the entry it was (services/dlr/src/grpc.ts TIMELINE_OF). A receipt that
-- causes no delivery (a duplicate, a part of a message not yet final) keeps a row of its own, as do rows
-- before this migration and DLR_RECEIPT_EVENT=timeline (services/dlr/src/aggregator.ts RECEIPT_IN_DELIVERY).
-- Additive: nullable columns, no rewrite.

ALTER TABLE dlr_timeline
  -- The receipt's event key ('receipt/<receipt id>'), topic and time, as its own row had them.
  ADD COLUMN receipt_key text,
  ADD COLUMN receipt_topic text,
  ADD COLUMN receipt_time timestamptz,
  -- The SmsReceiptRaw protobuf as read; NULL: no receipt in this row.
  ADD COLUMN receipt bytea;
