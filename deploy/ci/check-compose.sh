#!/usr/bin/env bash
# Checks docker-compose.yml, the files it mounts (deploy/compose/) and the Dockerfile, without a Docker
# engine:
#   1. docker-compose 1.29 (Debian bookworm's package; installed with apt-get when missing) must accept the
#      file: `config -q`, without and with the observability profile;
#   2. the Compose v2 loader (compose-go, what `docker compose` uses; built once from
#      deploy/ci/compose-validate into .cache/bin) must accept it too, with the same two profile sets,
#      and BuildKit's Dockerfile parser (deploy/ci/dockerfile-check) must accept the Dockerfile without
#      a warning;
#   3. deploy/ci/compose_test.py asserts on the resolved configuration (pins, memory limits, healthchecks,
#      start order, dev-only secrets, every process scraped and dashboarded) and on the Dockerfile.
# The `docker compose` plugin is not used: it is not packaged for Debian and `docker compose config` also
# works without an engine, but needs the plugin from Docker's own repository.
# Exit status: 0 when every check passed, non-zero with a sentence saying what failed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin="$repo/.cache/bin"
start=$(date +%s)
fail() { echo "check-compose: FAILED: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. "$repo/deploy/ci/lib.sh"
# The committed defaults are what is checked: no .env, no variables from the caller's shell.
clean_env=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}" "GOPATH=$(go env GOPATH 2>/dev/null || true)")

# 1. docker-compose v1 from Debian.
if ! command -v docker-compose >/dev/null; then
  echo "check-compose: installing docker-compose from Debian (apt-get)"
  as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo -n)
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq docker-compose >/dev/null 2>&1 \
    || { "${as_root[@]}" apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq docker-compose >/dev/null; } \
    || fail "docker-compose is not installed and apt-get could not install it (needs root or passwordless sudo)."
fi
v1="$(docker-compose version --short 2>/dev/null || echo unknown)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/empty.env"
cd "$repo"
for profile in "" observability; do
  label=${profile:-default}
  args=(--env-file "$tmp/empty.env" -f docker-compose.yml)
  [ -n "$profile" ] && args+=(--profile "$profile")
  "${clean_env[@]}" docker-compose "${args[@]}" config -q \
    || fail "docker-compose $v1 rejects docker-compose.yml ($label profile); its message is above."
  "${clean_env[@]}" docker-compose "${args[@]}" config > "$tmp/$label.yaml" 2>/dev/null
  echo "  ok   docker-compose $v1 config -q ($label)"
done

# 2. Compose v2's loader, and BuildKit's Dockerfile parser: small Go programs in deploy/ci, built once
#    into .cache/bin and rebuilt when their sources change.
go_tool() { # go_tool <name>: path of the built deploy/ci/<name>
  local name=$1 src="$repo/deploy/ci/$1" out="$bin/$1" stamp
  stamp=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-16)
  if [ ! -x "$out" ] || [ "$(cat "$out.stamp" 2>/dev/null)" != "$stamp" ]; then
    command -v go >/dev/null || fail "go is not installed; it builds deploy/ci/$name."
    echo "check-compose: building deploy/ci/$name (first run only)" >&2
    mkdir -p "$bin"
    (cd "$src" && GOFLAGS=-trimpath CGO_ENABLED=0 go build -o "$out" .) >&2 || fail "could not build deploy/ci/$name."
    echo "$stamp" > "$out.stamp"
  fi
  echo "$out"
}
validator=$(go_tool compose-validate)
dockerfile_check=$(go_tool dockerfile-check)
for profile in "" observability; do
  label=${profile:-default}
  out=$("${clean_env[@]}" "$validator" -f "$repo/docker-compose.yml" -profile "$profile") \
    || fail "the Compose v2 loader rejects docker-compose.yml ($label profile); its message is above."
  echo "  ok   compose v2 loader ($label): $out"
done

out=$("$dockerfile_check" "$repo/Dockerfile") || fail "BuildKit's parser rejects or warns about the Dockerfile (above)."
echo "  ok   Dockerfile (BuildKit parser and checks): $out"

# 3. Assertions.
python=$(python_with_yaml)
"$python" "$repo/deploy/ci/compose_test.py" "$repo" "$tmp/default.yaml" "$tmp/observability.yaml" \
  || fail "the compose checks above failed."
echo "check-compose: all checks passed in $(( $(date +%s) - start )) s"
