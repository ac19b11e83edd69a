-- 0803_scheduler_held: messages the hub holds until their time (services/scheduler/README.md).
--   One row per held hub message, written when the scheduler consumes sms.scheduled.v1 (ingress,
--   http-api: schedule_delivery_time / send_at; routing: quiet hours). Released by publishing `record`
--   (an encoded SmsSubmitted) onto sms.submitted.v1 inside a transaction that holds the row lock
--   (SELECT ... FOR UPDATE SKIP LOCKED): two replicas never release one row, and a replica that dies
--   before its COMMIT leaves the row held for the next one.
--   state: held -> released | cancelled | expired. Finished rows are deleted after the retention.
CREATE TABLE scheduler_held (
  message_id          text        PRIMARY KEY,
  account_id          text        NOT NULL,
  system_id           text        NOT NULL DEFAULT '',
  customer_message_id text        NOT NULL DEFAULT '',
  source              text        NOT NULL DEFAULT '',
  destination         text        NOT NULL DEFAULT '',
  service_type        text        NOT NULL DEFAULT '',
  due_at              timestamptz NOT NULL,
  validity_until      timestamptz,
  reason              smallint    NOT NULL DEFAULT 1,
  state               text        NOT NULL DEFAULT 'held'
                      CHECK (state IN ('held', 'released', 'cancelled', 'expired')),
  record              bytea       NOT NULL,
  held_at             timestamptz NOT NULL DEFAULT now(),
  done_at             timestamptz,
  done_by             text,
  replaced            int         NOT NULL DEFAULT 0
);
-- The release scan: due rows in due order, held ones only (the index stays the size of what is held).
CREATE INDEX scheduler_held_due ON scheduler_held (due_at) WHERE state = 'held';
-- cancel_sm by source/destination(/service_type) of an account.
CREATE INDEX scheduler_held_addr ON scheduler_held (account_id, destination, source) WHERE state = 'held';
-- Lookups by the id the customer holds (query_sm, cancel_sm, replace_sm carry it).
CREATE INDEX scheduler_held_customer_id ON scheduler_held (system_id, customer_message_id);
-- Retention of finished rows.
CREATE INDEX scheduler_held_done ON scheduler_held (done_at) WHERE state <> 'held';
