-- 0210_egress_replicas: the live egress replicas, so each connector's max_submit_rate and sessions are split
-- by the replicas actually running, not by a hand-set count (services/egress/README.md, "TPS across binds
-- and replicas"). Every replica refreshes its row every 2 s; a row older than 6 s belongs to a replica that
-- died and no longer counts; a replica that stops deletes its row.
CREATE TABLE egress_replicas (
  replica_id   text        PRIMARY KEY,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE egress_replicas IS 'egress: live replicas and their heartbeats (connector TPS and sessions split across replicas)';
