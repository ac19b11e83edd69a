-- 0901_stats_rule_hits: hits per routing and firewall rule per minute (services/stats owns it), counted
-- from sms.routed.v1 (the routing rule of the first candidate) and sms.rejected.v1 (the rule that
-- refused, when one did) of every routing replica. Bucketed by the minute routing DECIDED (routed_at /
-- rejected_at), unlike the message roll-ups of 0900 (submission minute): a hit count is about the rule.
--   kind: 1 = routing rule, 2 = firewall rule.
--   last_hit: the latest decision time in the minute.
-- Exactly once: the writer moves its own rows of stats_offsets (group "<stats group>:rule-hits") in the
-- same transaction. Kept STATS_MINUTE_RETENTION_DAYS like the minute roll-ups.
CREATE TABLE IF NOT EXISTS stats_rule_minute (
  bucket    timestamptz NOT NULL,
  rule_id   text        NOT NULL,
  kind      smallint    NOT NULL,
  hits      bigint      NOT NULL DEFAULT 0,
  last_hit  timestamptz NOT NULL,
  PRIMARY KEY (rule_id, kind, bucket)
);
CREATE INDEX IF NOT EXISTS stats_rule_minute_bucket ON stats_rule_minute (bucket);
