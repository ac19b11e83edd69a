#!/usr/bin/env bash
# A PostgreSQL cluster for development and tests, from Debian's postgresql package.
# Usage: postgres.sh start|stop|status|url
#   start  install the package when missing, init a cluster under .local/postgres on first start, run it
#          on loopback on a free port (as the postgres OS user when we are root: it refuses to run as root),
#          create the role/database smshub, print its DATABASE_URL.
# When DATABASE_URL is already set, start only prints it: nothing is installed or run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
STATE="$SMSHUB_LOCAL_DIR/postgres"
DATA="$STATE/data"
PID_FILE="$STATE/postgres.pid"
URL_FILE="$STATE/url"

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
  return 1
}

ensure_installed() {
  pg_bin >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; run: sudo apt-get install -y postgresql (or set DATABASE_URL)"
  log "installing Debian's postgresql package (once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
    || die "apt-get could not install postgresql"
  pg_bin >/dev/null || die "postgresql installed but initdb was not found"
}

# as_owner CMD...: run as the cluster owner (postgres when we are root, else ourselves).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; return 0; fi
  if pid_alive "$PID_FILE"; then log "postgres already running"; cat "$URL_FILE"; return 0; fi
  ensure_installed
  local bin port started=$SECONDS
  bin=$(pg_bin)
  mkdir -p "$STATE/run"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$STATE"; fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$STATE/initdb.log" 2>&1 \
      || { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
  fi
  port=${PGPORT_LOCAL:-$(free_port)}
  # Loopback only, trust auth: a throwaway developer cluster. Tuned for tests, not durability.
  as_owner "$bin/pg_ctl" -D "$DATA" -l "$STATE/postgres.log" -w -t 60 start -o \
    "-p $port -c listen_addresses=127.0.0.1 -k $STATE/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" \
    >/dev/null || { tail -20 "$STATE/postgres.log" >&2; die "postgres did not start"; }
  head -1 "$DATA/postmaster.pid" >"$PID_FILE"
  as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'CREATE ROLE smshub LOGIN CREATEDB' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'smshub')\gexec
SELECT 'CREATE DATABASE smshub OWNER smshub' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'smshub')\gexec
SQL
  echo "postgres://smshub@127.0.0.1:$port/smshub" >"$URL_FILE"
  log "postgres $("$bin/postgres" --version | awk '{print $3}') up on 127.0.0.1:$port in $((SECONDS - started)) s"
  cat "$URL_FILE"
}

stop() {
  pid_alive "$PID_FILE" || { rm -f "$PID_FILE"; return 0; }
  local bin; bin=$(pg_bin)
  log "stopping postgres"
  as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || stop_pid "$PID_FILE" postgres
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if pid_alive "$PID_FILE"; then echo "running: $(cat "$URL_FILE")"; else echo stopped; exit 3; fi ;;
  url) pid_alive "$PID_FILE" || die "postgres is not running"; cat "$URL_FILE" ;;
  *) echo "usage: postgres.sh start|stop|status|url" >&2; exit 2 ;;
esac
