-- 0103_ingress_customer_ids: numbers for customer message ids of accounts whose message_id_format is
-- 'decimal' or 'hex' (services/ingress/src/customer-id.ts). Each nextval reserves a block of 10,000
-- numbers for one ingress replica; the block size must equal CUSTOMER_ID_BLOCK. Values stay below 2^63,
-- so the ids fit a signed 64-bit integer in every client.
CREATE SEQUENCE IF NOT EXISTS ingress_customer_ids AS bigint START WITH 1 INCREMENT BY 10000 NO CYCLE;

COMMENT ON SEQUENCE ingress_customer_ids IS 'ingress: blocks of numeric customer message ids (decimal/hex formats)';
