#!/usr/bin/env bash
# buf lint (rules in buf.yaml) plus a formatting check of the .proto files.
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
npx --no-install buf lint
if ! npx --no-install buf format --diff --exit-code proto; then
  echo "proto files are not formatted: run 'npx buf format -w proto'" >&2
  exit 1
fi
echo "buf lint: ok"
