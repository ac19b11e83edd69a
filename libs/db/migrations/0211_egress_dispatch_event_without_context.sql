-- 0211_egress_dispatch_event_without_context: what egress_part_dispatch.event holds since session 13
-- (services/egress/README.md, "Performance: session 13"; services/egress/src/domain/stored-event.ts).
--   The row keeps the part's SmsDispatched without field 1 (the MessageContext, ~150 of ~270 bytes), which
--   the redelivered routed record carries again: egress puts it back in front when it re-publishes the event
--   (the same bytes as the event first published). Rows written before hold the whole event (they start
--   with field 1's tag, 0x0a) and are re-published as they are. Nothing else reads the column.
COMMENT ON COLUMN egress_part_dispatch.event IS
  'SmsDispatched to re-publish on redelivery, without field 1 (context: put back from the routed record); rows written before session 13 hold the whole event';
