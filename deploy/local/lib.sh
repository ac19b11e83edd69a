# Shared helpers for the deploy/local scripts. Sourced, never run.
# State lives in $SMSHUB_LOCAL_DIR (default: <repo>/.local); downloads are cached in
# $SMSHUB_CACHE_DIR (default: ~/.cache/smshub) so a fresh clone on the same machine starts fast.
set -euo pipefail
LOCAL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LOCAL_LIB_DIR/../.." && pwd)
SMSHUB_LOCAL_DIR=${SMSHUB_LOCAL_DIR:-$REPO_ROOT/.local}
SMSHUB_CACHE_DIR=${SMSHUB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smshub}
mkdir -p "$SMSHUB_LOCAL_DIR" "$SMSHUB_CACHE_DIR"

log() { printf '[local] %s\n' "$*" >&2; }
die() { printf '[local] error: %s\n' "$*" >&2; exit 1; }

# free_port: print a TCP port nobody listens on right now (loopback).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# pid_alive FILE: true when FILE holds the pid of a running process.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid FILE NAME: TERM, wait up to 30 s, then KILL; removes FILE.
stop_pid() {
  local file=$1 name=$2 pid
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "$name did not stop in 30 s: killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$file"
}
