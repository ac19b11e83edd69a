-- Dead letters replayed through admin's DeadLetterService (ReplayDeadLetters): one row per dead letter
-- (consumer group, offset in <group>.dlq) once it was written to <group>.replay, so a second replay of the
-- same dead letter is refused unless forced. Rows of dead letters that retention removed are harmless.
CREATE TABLE IF NOT EXISTS admin_dead_letter_replays (
  consumer_group text NOT NULL,
  dlq_offset bigint NOT NULL,
  first_replayed_at timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz NOT NULL DEFAULT now(),
  replayed_by text NOT NULL DEFAULT '',
  replays integer NOT NULL DEFAULT 1,
  PRIMARY KEY (consumer_group, dlq_offset)
);
