-- 0403_dlr_messages_room: more free room in dlr_messages' pages, so that the routed update of a message is
-- HOT (issue 17; services/dlr/README.md "Performance: session 10").
--   A batch of submitted events inserts its message rows one after the other into the same pages, and the
--   routed events of those messages update them together a moment later. With fillfactor 70 the room left
--   in a page (30 %) held the new versions of about half of its rows: the others went to another page,
--   with a new entry in each of the table's four btree indexes. With 50 % every routed update fits (bench:
--   HOT updates 24 % → 50 % of all updates, i.e. every routed one; the final update is never HOT, it changes
--   indexed columns). The rows are a third smaller since 0402, so the table takes about the pages it took
--   before 0402 with fillfactor 70. New pages only: existing ones keep their fill (no rewrite).

ALTER TABLE dlr_messages SET (fillfactor = 50);
