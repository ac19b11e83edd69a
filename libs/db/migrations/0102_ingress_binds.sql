-- 0102_ingress_binds: SMPP sessions bound on every ingress replica, so accounts.max_binds holds across
-- replicas. A replica refreshes heartbeat_at of its rows periodically; rows whose heartbeat is older than
-- the staleness limit (a replica that died) no longer count.
CREATE TABLE ingress_binds (
  session_id   text        PRIMARY KEY,
  replica_id   text        NOT NULL,
  system_id    text        NOT NULL,
  bind_type    text        NOT NULL,
  remote       text        NOT NULL,
  bound_at     timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ingress_binds_system ON ingress_binds (system_id, heartbeat_at);
CREATE INDEX ingress_binds_replica ON ingress_binds (replica_id);

COMMENT ON TABLE ingress_binds IS 'ingress: bound SMPP sessions of all replicas (max_binds across replicas)';
