#!/usr/bin/env bash
# Stop what up.sh started (by pid); leaves nothing running. Data stays under .local/ until `down.sh --purge`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$LOCAL_LIB_DIR/kafka.sh" stop
"$LOCAL_LIB_DIR/postgres.sh" stop
rm -f "$SMSHUB_LOCAL_DIR/env"
if [ "${1:-}" = "--purge" ]; then
  rm -rf "$SMSHUB_LOCAL_DIR/kafka"
  "$LOCAL_LIB_DIR/postgres.sh" purge
  log "purged local data"
fi
