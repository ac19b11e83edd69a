#!/usr/bin/env bash
# Regenerates libs/contracts/src/gen from proto/ with buf + ts-proto (buf.gen.yaml).
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
npx --no-install buf generate
echo "generated libs/contracts/src/gen from proto/"
