#!/usr/bin/env bash
# A PostgreSQL cluster for development and tests, from Debian's postgresql package.
# Usage: postgres.sh start|stop|status|url|purge (purge: delete a stopped cluster's files)
#   start  install the package when missing, init a cluster on first start, run it on loopback on a free
#          port, create the role/database smshub, print its DATABASE_URL.
# When DATABASE_URL is already set, start only prints it: nothing is installed or run.
#
# Where the cluster lives. PostgreSQL refuses to run as root, so when we are root it runs as the postgres OS
# user, which must reach its data directory, log and socket. A checkout in root's home (mode 700) is out of
# its reach, so as root the cluster's files live in /var/lib/smshub/postgres-<hash of this checkout's state
# directory> (SMSHUB_PG_ROOT overrides /var/lib/smshub), owned by postgres, mode 700; its path is in
# .local/postgres/home. As any other user the cluster runs as that user under .local/postgres.
# A cluster made before this rule (data under .local/postgres/data) stays where it is.
# The pid file and URL always stay under .local/postgres.
#
# Durability. By default the cluster runs with fsync=off, synchronous_commit=off and full_page_writes=off:
# fast for tests, and a crash of the machine may lose or corrupt it. SMSHUB_PG_DURABLE=1 starts it as
# production runs PostgreSQL (all three on: a commit is on disk before it is acknowledged). The mode is
# kept in $STATE/mode; start refuses to reuse a running cluster of the other mode (stop it first, or give
# this one its own SMSHUB_LOCAL_DIR, as `npm run bench -- --durable` does).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
STATE="$SMSHUB_LOCAL_DIR/postgres"
PID_FILE="$STATE/postgres.pid"
URL_FILE="$STATE/url"
HOME_FILE="$STATE/home"

# pg_home: the directory holding data/, run/ (socket) and postgres.log.
pg_home() {
  if [ -f "$HOME_FILE" ]; then cat "$HOME_FILE"; return 0; fi
  if [ -f "$STATE/data/PG_VERSION" ] || [ "$(id -u)" != 0 ]; then echo "$STATE"; return 0; fi
  local hash
  hash=$(printf '%s' "$(cd "$STATE" && pwd -P)" | sha256sum | cut -c1-16)
  echo "${SMSHUB_PG_ROOT:-/var/lib/smshub}/postgres-$hash"
}
mkdir -p "$STATE"
PG_HOME=$(pg_home)
DATA="$PG_HOME/data"
PG_LOG="$PG_HOME/postgres.log"
case "${SMSHUB_PG_DURABLE:-0}" in
  1) PG_MODE=durable; PG_SYNC="-c fsync=on -c synchronous_commit=on -c full_page_writes=on" ;;
  0|'') PG_MODE=fast; PG_SYNC="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
  *) die "SMSHUB_PG_DURABLE must be 0 or 1 (got '$SMSHUB_PG_DURABLE')" ;;
esac

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

# prepare_home: make $PG_HOME and check that the cluster owner can write there; a sentence when it cannot.
prepare_home() {
  # A parent made here is root's and traversable (755); one that exists is left as it is.
  local parent; parent=$(dirname "$PG_HOME")
  [ -d "$parent" ] || install -d -m 755 "$parent" 2>/dev/null || mkdir -p "$parent" \
    || die "cannot create $parent: create it, or set SMSHUB_PG_ROOT to a directory, or DATABASE_URL to a PostgreSQL you have"
  mkdir -p "$PG_HOME/run" || die "cannot create $PG_HOME: create it (writable by $(owner_name)) or set DATABASE_URL to a PostgreSQL you have"
  if [ "$(id -u)" = 0 ]; then
    if [ "$PG_HOME" != "$STATE" ]; then
      # The cluster's own directory is postgres's alone.
      printf '%s\n' "$STATE" >"$PG_HOME/checkout"
      echo "$PG_HOME" >"$HOME_FILE"
    fi
    chown -R postgres:postgres "$PG_HOME"
    chmod 700 "$PG_HOME"
  fi
  as_owner test -w "$PG_HOME/run" -a -x "$PG_HOME/run" || die "the $(owner_name) OS user cannot write to $PG_HOME \
(a parent directory is closed to it): make every parent directory traversable (chmod o+x), set SMSHUB_PG_ROOT \
to a directory it can reach, or set DATABASE_URL to a PostgreSQL you have"
}

owner_name() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

start() {
  if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; return 0; fi
  if pid_alive "$PID_FILE"; then
    local running; running=$(cat "$STATE/mode" 2>/dev/null || echo fast)
    [ "$running" = "$PG_MODE" ] || die "postgres already runs here in $running mode, not $PG_MODE \
(SMSHUB_PG_DURABLE): stop it first (postgres.sh stop), or use another SMSHUB_LOCAL_DIR for the other mode"
    log "postgres already running ($running)"; cat "$URL_FILE"; return 0
  fi
  ensure_installed
  local bin port started=$SECONDS
  bin=$(pg_bin)
  prepare_home
  if [ ! -f "$DATA/PG_VERSION" ]; then
    rm -rf "$DATA"
    as_owner "$bin/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$STATE/initdb.log" 2>&1 \
      || { cat "$STATE/initdb.log" >&2; die "initdb failed in $DATA (its output is above): fix what it says, \
or delete $PG_HOME to start over, or set DATABASE_URL to a PostgreSQL you have"; }
  fi
  port=${PGPORT_LOCAL:-$(free_port)}
  # Loopback only, trust auth: a throwaway developer cluster. Tuned for tests unless SMSHUB_PG_DURABLE=1.
  as_owner "$bin/pg_ctl" -D "$DATA" -l "$PG_LOG" -w -t 60 start -o \
    "-p $port -c listen_addresses=127.0.0.1 -k $PG_HOME/run $PG_SYNC -c max_connections=300 -c shared_buffers=256MB" \
    >/dev/null || { tail -20 "$PG_LOG" >&2; die "postgres did not start (the end of $PG_LOG is above): \
fix what it says (a port in use: run again, another is picked; set PGPORT_LOCAL for a fixed one), or set \
DATABASE_URL to a PostgreSQL you have"; }
  head -1 "$DATA/postmaster.pid" >"$PID_FILE"
  echo "$PG_MODE" >"$STATE/mode"
  as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 >/dev/null <<'SQL' \
    || die "postgres runs on port $port but the role and database smshub could not be created (see above)"
SELECT 'CREATE ROLE smshub LOGIN CREATEDB' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'smshub')\gexec
SELECT 'CREATE DATABASE smshub OWNER smshub' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'smshub')\gexec
SQL
  echo "postgres://smshub@127.0.0.1:$port/smshub" >"$URL_FILE"
  log "postgres $("$bin/postgres" --version | awk '{print $3}') ($PG_MODE) up on 127.0.0.1:$port in $((SECONDS - started)) s (data in $DATA)"
  cat "$URL_FILE"
}

stop() {
  pid_alive "$PID_FILE" || { rm -f "$PID_FILE"; return 0; }
  local bin; bin=$(pg_bin)
  log "stopping postgres"
  as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || stop_pid "$PID_FILE" postgres
  rm -f "$PID_FILE"
}

# purge: delete the cluster's files (it must be stopped).
purge() {
  pid_alive "$PID_FILE" && die "postgres is running: stop it first"
  [ "$PG_HOME" != "$STATE" ] && rm -rf "$PG_HOME"
  rm -rf "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if pid_alive "$PID_FILE"; then echo "running: $(cat "$URL_FILE")"; else echo stopped; exit 3; fi ;;
  url) pid_alive "$PID_FILE" || die "postgres is not running"; cat "$URL_FILE" ;;
  purge) purge ;;
  *) echo "usage: postgres.sh start|stop|status|url|purge" >&2; exit 2 ;;
esac
