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

# free_port: print a TCP port nobody listens on right now (loopback), below the kernel's ephemeral range:
# a port from listen(0) comes from that range, where any outgoing connection may take it as its local port
# before the broker or the cluster binds it.
free_port() {
  node -e '
    const net = require("net");
    let low = 32768;
    try { low = Number(require("fs").readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]) || low; } catch {}
    if (low <= 12000) low = 32768;
    const tryPort = (n) => {
      if (n === 0) { console.error("free_port: no free port below " + low); process.exit(1); }
      const port = 10000 + Math.floor(Math.random() * (low - 10000));
      const s = net.createServer();
      s.once("error", () => tryPort(n - 1));
      s.listen(port, "127.0.0.1", () => s.close(() => process.stdout.write(String(port))));
    };
    tryPort(200);
  '
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
