-- 0110_ingress_bind_guard: failed-bind counters of ingress's bind guard (services/ingress/src/bind-guard.ts),
-- shared by every replica so that a guesser cannot multiply its attempts by the number of replicas.
-- Keys: 'pair:<system_id>|<ip>', 'ip:<ip>', 'sid:<system_id>'. Times in epoch milliseconds, 0 = never.
-- A row can be deleted once expires_at has passed (nothing in it matters any more).
CREATE TABLE ingress_bind_guard (
  key            text        PRIMARY KEY,
  failures       integer     NOT NULL DEFAULT 0,
  last_failure   bigint      NOT NULL DEFAULT 0,
  blocked_until  bigint      NOT NULL DEFAULT 0,
  locks          integer     NOT NULL DEFAULT 0,
  last_success   bigint      NOT NULL DEFAULT 0,
  expires_at     timestamptz NOT NULL
);

CREATE INDEX ingress_bind_guard_expiry ON ingress_bind_guard (expires_at);

COMMENT ON TABLE ingress_bind_guard IS 'ingress: failed-bind counters and locks per (system_id, IP), IP and system_id, across replicas';
