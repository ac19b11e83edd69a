-- 0343_routing_probe_target_sender: a probe target's own internal account and sender (hub number the probe
-- handset answers to); NULL = routing's ROUTING_PROBE_ACCOUNT_ID / ROUTING_PROBE_SENDER.
ALTER TABLE routing_probe_targets ADD COLUMN IF NOT EXISTS account_id text;
ALTER TABLE routing_probe_targets ADD COLUMN IF NOT EXISTS sender text CHECK (sender IS NULL OR sender ~ '^[0-9]{3,15}$');
