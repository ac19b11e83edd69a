-- 0402_dlr_compact_state: dlr_messages stores the reducer state compact, as json (issue 17;
-- services/dlr/README.md "How state is stored", services/dlr/src/stored-state.ts).
--   Every write of a message row (its insert, the routed update, the final update) carried the whole
--   state as jsonb (~560 characters, ~710 bytes stored): PostgreSQL converted it to jsonb's binary form on
--   every write and back to text on every read, and part of it repeats the row (message id, account,
--   part count) or is a default. `state_json` holds the state without those, as json (stored as
--   written); dlr reads `coalesce(state_json, state::json)`, so rows written before keep their jsonb
--   state, and DLR_STATE_FORMAT=jsonb keeps writing `state` (for a rolling upgrade from a dlr that
--   reads only `state`).
--   Both statements change the catalogue only (no table rewrite, a brief lock).

ALTER TABLE dlr_messages ADD COLUMN state_json json;
ALTER TABLE dlr_messages ALTER COLUMN state DROP NOT NULL;
ALTER TABLE dlr_messages ADD CONSTRAINT dlr_messages_state_present
  CHECK (state IS NOT NULL OR state_json IS NOT NULL) NOT VALID;
