#!/usr/bin/env bash
# Bring up the real infrastructure for development and tests: Kafka and PostgreSQL on loopback.
# Honours KAFKA_BROKERS / DATABASE_URL when already set (nothing is started for those).
# Writes the addresses to .local/env (KEY=value lines) and prints them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
brokers=${KAFKA_BROKERS:-}
if [ -z "$brokers" ]; then brokers=$("$LOCAL_LIB_DIR/kafka.sh" start); fi
db=$("$LOCAL_LIB_DIR/postgres.sh" start)
printf 'KAFKA_BROKERS=%s\nDATABASE_URL=%s\n' "$brokers" "$db" | tee "$SMSHUB_LOCAL_DIR/env"
