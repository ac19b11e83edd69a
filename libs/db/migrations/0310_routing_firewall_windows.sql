-- 0310_routing_firewall_windows: routing's duplicate and velocity firewall windows, shared by every routing
-- replica and kept over restarts (services/routing/README.md, "Firewall state across replicas").
--   Written once per consumed batch (services/routing/src/firewall-store.ts): the batch's keys are locked
--   (an upsert, in sorted order), read, and what the batch admitted is added, in one transaction.
--   Rows carry the time (epoch ms, the deciding replica's clock) after which they no longer count; routing
--   deletes those periodically.

-- Admitted messages per velocity rule (rule_key = "<rule id>@<window ms>") and key (destination prefix or
-- account id) in one bucket of windowMs / 10 (bucket = floor(epoch ms / (windowMs / 10))).
CREATE TABLE routing_firewall_counters (
  rule_key      text   NOT NULL,
  key           text   NOT NULL,
  bucket        bigint NOT NULL,
  n             int    NOT NULL DEFAULT 0,
  expires_at_ms bigint NOT NULL,
  PRIMARY KEY (rule_key, key, bucket)
);
CREATE INDEX routing_firewall_counters_expiry ON routing_firewall_counters (expires_at_ms);

-- The first admitted message per duplicate rule and digest of (account, destination, text); NULL (or an
-- expiry in the past) = none in the window.
CREATE TABLE routing_firewall_duplicates (
  rule_key         text   NOT NULL,
  key              text   NOT NULL,
  first_message_id text,
  expires_at_ms    bigint NOT NULL,
  PRIMARY KEY (rule_key, key)
);
CREATE INDEX routing_firewall_duplicates_expiry ON routing_firewall_duplicates (expires_at_ms);

-- Messages already counted by these windows: a redelivery (crash, rebalance, restart) on any replica is
-- neither counted again nor a duplicate of itself.
CREATE TABLE routing_firewall_admitted (
  hub_message_id text   PRIMARY KEY,
  expires_at_ms  bigint NOT NULL
);
CREATE INDEX routing_firewall_admitted_expiry ON routing_firewall_admitted (expires_at_ms);
