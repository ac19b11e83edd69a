#!/usr/bin/env bash
# Fails when libs/contracts/src/gen is not what `buf generate` produces from proto/ at this commit,
# or when src/index.ts does not re-export every generated file.
# Generation goes to a temporary directory, so the working tree is never modified.
set -euo pipefail
root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
cd "$root"
gen=libs/contracts/src/gen
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

npx --no-install buf generate -o "$tmp"
if ! diff -r -q "$tmp/$gen" "$gen" >"$tmp/diff.txt" 2>&1; then
  cat "$tmp/diff.txt" >&2
  echo "STALE: $gen differs from what proto/ generates. Run 'npx nx run contracts:generate' and commit the result." >&2
  exit 1
fi

# The generated tree on disk must also be what is committed (no uncommitted or untracked changes).
if ! git diff --exit-code --stat -- "$gen" || [ -n "$(git ls-files --others --exclude-standard -- "$gen")" ]; then
  git ls-files --others --exclude-standard -- "$gen" >&2
  echo "UNCOMMITTED: $gen has changes that are not committed. Commit them together with the .proto changes." >&2
  exit 1
fi

missing=0
while IFS= read -r f; do
  rel="./gen/${f#"$gen"/}"
  line="export * from '${rel%.ts}.js';"
  if ! grep -qxF "$line" libs/contracts/src/index.ts; then
    echo "libs/contracts/src/index.ts lacks: $line" >&2
    missing=1
  fi
done < <(find "$gen" -name '*.ts' | sort)
if [ "$missing" -ne 0 ]; then
  echo "INDEX: add the lines above to libs/contracts/src/index.ts." >&2
  exit 1
fi
echo "generated code is up to date"
