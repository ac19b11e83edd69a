#!/usr/bin/env bash
# buf breaking against main (rules in buf.yaml). Skips, with a message, when main has no proto yet.
# BUF_BREAKING_AGAINST overrides the input to compare with (e.g. '.git#ref=v1.2.0').
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"

against="${BUF_BREAKING_AGAINST:-}"
if [ -z "$against" ]; then
  if git rev-parse --verify -q refs/heads/main >/dev/null; then
    ref=main
    against='.git#branch=main'
  elif git rev-parse --verify -q refs/remotes/origin/main >/dev/null; then
    ref=origin/main
    against='.git#ref=refs/remotes/origin/main'
  else
    echo "buf breaking: skipped, no main branch (local or origin) to compare with"
    exit 0
  fi
  if [ -z "$(git ls-tree -r --name-only "$ref" -- proto | grep '\.proto$' || true)" ]; then
    echo "buf breaking: skipped, $ref has no .proto files yet"
    exit 0
  fi
fi
npx --no-install buf breaking --against "$against"
echo "buf breaking against $against: ok"
