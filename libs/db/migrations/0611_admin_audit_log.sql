-- 0611_admin_audit_log: every admin write (who, what, before/after with secrets masked, when, from where).
--   Also published on audit.v1 for SIEMs; this table is what `hubctl audit list` reads.

CREATE TABLE IF NOT EXISTS admin_audit_log (
  event_id      uuid        PRIMARY KEY,
  at            timestamptz NOT NULL,
  token_id      text        NOT NULL,
  role          text        NOT NULL,
  token_name    text        NOT NULL DEFAULT '',
  method        text        NOT NULL,
  resource_kind text        NOT NULL DEFAULT '',
  resource_id   text        NOT NULL DEFAULT '',
  before_json   jsonb,
  after_json    jsonb,
  peer          text        NOT NULL DEFAULT '',
  outcome       text        NOT NULL,
  error         text        NOT NULL DEFAULT '',
  service       text        NOT NULL DEFAULT 'admin'
);

CREATE INDEX IF NOT EXISTS admin_audit_log_at ON admin_audit_log (at DESC, event_id DESC);
CREATE INDEX IF NOT EXISTS admin_audit_log_resource ON admin_audit_log (resource_kind, resource_id, at DESC);
CREATE INDEX IF NOT EXISTS admin_audit_log_token ON admin_audit_log (token_id, at DESC);

COMMENT ON TABLE admin_audit_log IS 'Admin API writes: who (token id, role), what (before/after, secrets masked), when, from where';
