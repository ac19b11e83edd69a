-- 0200_egress_connectors: tables owned by services/egress.
--   egress_connectors: the SMPP connectors to downstream operators (suppliers). Written by the admin API
--     (then announced on config.changes.v1 as kind CONNECTOR); egress loads all of them at start and
--     reloads one row whenever a change for it arrives. Column names follow smshub.config.v1.Connector
--     where both have the field.
--   egress_part_dispatch: the no-double-send record of each egress part (see services/egress/README.md).

CREATE TABLE egress_connectors (
  -- Stable admin-chosen id ("con_..."), never reused: part of Kafka keys.
  id                  text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  name                text        NOT NULL,
  -- Whether egress keeps it bound (routing does not use a disabled connector either).
  enabled             boolean     NOT NULL DEFAULT true,
  host                text        NOT NULL,
  port                integer     NOT NULL CHECK (port BETWEEN 1 AND 65535),
  tls                 boolean     NOT NULL DEFAULT false,
  -- system_id / system_type of our bind (C-strings of 16 and 13 octets with the NUL).
  system_id           text        NOT NULL CHECK (length(system_id) BETWEEN 1 AND 15),
  system_type         text        NOT NULL DEFAULT '' CHECK (length(system_type) <= 12),
  -- The password, exactly one of: sealed with AES-256-GCM under CONNECTOR_SECRET_KEY (version byte,
  -- 12-byte nonce, ciphertext, 16-byte tag; the connector id is the associated data), or a reference to
  -- a secret ("file:/run/secrets/con_1" - a mounted Kubernetes/compose secret). Never plaintext.
  password_sealed     bytea,
  password_secret_ref text        CHECK (password_secret_ref ~ '^file:/'),
  -- interface_version of the bind: 0x34 (SMPP 3.4) or 0x50 (5.0).
  interface_version   smallint    NOT NULL DEFAULT 52 CHECK (interface_version IN (52, 80)),
  -- transceiver: `sessions` TRX binds; transmitter_receiver: `sessions` TX plus `sessions` RX binds;
  -- transmitter: TX only (no receipts on this connector).
  bind_type           text        NOT NULL DEFAULT 'transceiver'
                                  CHECK (bind_type IN ('transceiver', 'transmitter_receiver', 'transmitter')),
  sessions            integer     NOT NULL DEFAULT 1 CHECK (sessions BETWEEN 1 AND 64),
  -- Unacknowledged submit_sm per session.
  window_size         integer     NOT NULL DEFAULT 10 CHECK (window_size BETWEEN 1 AND 1000),
  -- submit_sm per second across all sessions and all egress replicas (the supplier's TPS).
  max_submit_rate     integer     NOT NULL CHECK (max_submit_rate > 0),
  response_timeout_ms integer     NOT NULL DEFAULT 30000 CHECK (response_timeout_ms BETWEEN 100 AND 600000),
  enquire_link_ms     integer     NOT NULL DEFAULT 30000 CHECK (enquire_link_ms BETWEEN 0 AND 3600000),
  -- data_coding values the supplier takes: 0 GSM7, 1 IA5, 3 Latin-1, 8 UCS2, 2/4 8-bit binary.
  data_codings        smallint[]  NOT NULL DEFAULT '{0,8}' CHECK (cardinality(data_codings) > 0),
  -- GSM7 sent 7-bit packed (only when agreed; SMPP default is one septet per octet).
  gsm7_packed         boolean     NOT NULL DEFAULT false,
  -- How long messages are split: UDH with 8- or 16-bit reference, SAR TLVs, or one message_payload.
  segmentation        text        NOT NULL DEFAULT 'udh8' CHECK (segmentation IN ('udh8', 'udh16', 'sar', 'payload')),
  -- How the supplier writes message ids in submit_sm_resp and in receipt texts (smshub.config.v1.MessageIdFormat
  -- plus same-base 'hex'/'decimal'); all but 'verbatim' ignore case and zero padding.
  message_id_format   text        NOT NULL DEFAULT 'unspecified'
                                  CHECK (message_id_format IN ('unspecified', 'verbatim', 'hex_resp_decimal_receipt',
                                                               'decimal_resp_hex_receipt', 'hex', 'decimal')),
  -- IANA zone of the supplier's receipt dates.
  receipt_time_zone   text        NOT NULL DEFAULT 'UTC',
  -- source TON/NPI for numeric short senders (alphanumeric and international senders are normalised).
  default_source_ton  smallint    NOT NULL DEFAULT 0 CHECK (default_source_ton BETWEEN 0 AND 6),
  default_source_npi  smallint    NOT NULL DEFAULT 0 CHECK (default_source_npi BETWEEN 0 AND 18),
  -- Optimistic-concurrency revision (smshub.config.v1.Connector.revision); bumped on every update.
  revision            bigint      NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK ((password_sealed IS NULL) <> (password_secret_ref IS NULL))
);

CREATE TRIGGER egress_connectors_touch BEFORE UPDATE ON egress_connectors
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();

CREATE TABLE egress_part_dispatch (
  message_id      uuid        NOT NULL,
  -- 1-based egress part number (SmsDispatched.part_number).
  part_number     integer     NOT NULL CHECK (part_number >= 1),
  part_total      integer     NOT NULL CHECK (part_total >= part_number),
  -- sending: a submit_sm is (or was, if we crashed) on the wire with no answer recorded;
  -- pending: between attempts; sent / failed / unknown: final, `event` holds the SmsDispatched to re-publish.
  state           text        NOT NULL CHECK (state IN ('sending', 'pending', 'sent', 'failed', 'unknown')),
  attempt         integer     NOT NULL CHECK (attempt >= 1),
  connector_id    text        NOT NULL,
  -- Replica that wrote the row last (for operators).
  replica         text        NOT NULL,
  supplier_message_id text,
  command_status  bigint,
  event           bytea,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, part_number),
  CHECK ((state IN ('sent', 'failed', 'unknown')) = (event IS NOT NULL))
);

-- Housekeeping deletes rows older than the routed topic's retention (7 days) by this index.
CREATE INDEX egress_part_dispatch_created ON egress_part_dispatch (created_at);

CREATE TRIGGER egress_part_dispatch_touch BEFORE UPDATE ON egress_part_dispatch
  FOR EACH ROW EXECUTE FUNCTION smshub_touch_updated_at();
