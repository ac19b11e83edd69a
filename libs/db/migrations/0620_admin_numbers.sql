-- 0620_admin_numbers: hub numbers for inbound messages (MO), owned by admin (AdminService CreateNumber,
-- ListNumbers, GetNumber, DeleteNumber; `hubctl numbers`). The inbound stage reads it to find the account of
-- an MO's destination number.
--   hub_numbers: one row per assignment of a number to an account for [valid_from, valid_to). A short code
--     may be shared between accounts by keyword (the MO's first word, upper case); the row without keywords
--     takes every other MO. Admin refuses overlapping assignments of one number whose keyword sets meet.
--   accounts.mo_reassemble: long MO in UDH/SAR parts are reassembled (true) or passed on as parts.

CREATE TABLE IF NOT EXISTS hub_numbers (
  id          text        PRIMARY KEY,
  -- E.164 digits without "+" (long code) or the short code digits.
  number      text        NOT NULL CHECK (number ~ '^[0-9]{3,15}$'),
  kind        text        NOT NULL CHECK (kind IN ('long_code', 'short_code')),
  account_id  uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  keywords    text[]      NOT NULL DEFAULT '{}',
  valid_from  timestamptz NOT NULL DEFAULT now(),
  valid_to    timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_to IS NULL OR valid_to > valid_from),
  CHECK (kind = 'short_code' OR cardinality(keywords) = 0)
);
CREATE INDEX IF NOT EXISTS hub_numbers_number ON hub_numbers (number, valid_from);
CREATE INDEX IF NOT EXISTS hub_numbers_account ON hub_numbers (account_id, number);

ALTER TABLE accounts ADD COLUMN IF NOT EXISTS mo_reassemble boolean NOT NULL DEFAULT true;
