#!/usr/bin/env bash
# Checks the Helm chart (helm/smshub) without a cluster:
#   1. helm at a pinned version, built from its Go module once and cached in .cache/bin (gitignored);
#   2. PyYAML for the render tests (the system's python3 if it has it, else a venv in .cache/venv);
#   3. deploy/ci/helm_render_test.py: helm lint + helm template with the default values and every
#      helm/smshub/ci/*-values.yaml, assertions on the rendered objects, and values that must be refused.
# Needs: go, python3 (3.9+), network to the Go module proxy and PyPI on the first run only.
# Exit status: 0 when every check passed, non-zero with a sentence saying what failed.
set -euo pipefail

HELM_VERSION=v3.22.0
# Helm's release builds set the Kubernetes version they default to from their client-go module
# (v0.37 -> 1.37); `go install` alone would leave 1.20, older than the chart's kubeVersion floor.
HELM_K8S_MINOR=37

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin="$repo/.cache/bin"
helm="$bin/helm"
start=$(date +%s)

fail() { echo "check-helm: FAILED: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. "$repo/deploy/ci/lib.sh"

have_helm() {
  [ -x "$helm" ] && [ "$("$helm" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]
}
if have_helm; then
  echo "check-helm: helm $HELM_VERSION from cache ($helm)"
else
  command -v go >/dev/null || fail "go is not installed, and helm $HELM_VERSION is needed (it is built from its Go module)."
  echo "check-helm: building helm $HELM_VERSION with $(go version | awk '{print $3}') (first run only; a few minutes)..."
  mkdir -p "$bin"
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
  done
  GOBIN="$bin" GOFLAGS=-trimpath CGO_ENABLED=0 go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
    || fail "could not build helm $HELM_VERSION from the Go module proxy."
  have_helm || fail "the helm just built does not report version $HELM_VERSION."
fi

python=$(python_with_yaml)

HELM="$helm" "$python" "$repo/deploy/ci/helm_render_test.py" "$repo/helm/smshub" || fail "the chart checks above failed."
echo "check-helm: all checks passed in $(( $(date +%s) - start )) s"
