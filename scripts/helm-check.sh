#!/usr/bin/env bash
# Checks the Helm chart (deploy/helm/jitflow) without a cluster:
#   1. builds helm from its Go module (pinned) into a cache directory, once;
#   2. helm lint, with the chart's ci/ values files;
#   3. the deploy package's Helm tests: helm template with no values (it
#      must refuse, naming what is missing), with the least a real install
#      sets, with every option, and with the outbox; each object decoded
#      strictly into the Kubernetes API types of k8s.io/api and held to the
#      chart's rules (non-root, read-only root, requests, probes, selectors,
#      budgets, one key-list secret for every pod, topology.txt's commands).
# The schema step is offline: kubeconform would download Kubernetes' JSON
# schemas, which this network does not reach, so the check decodes into the
# Go types those schemas are generated from.
#
#   scripts/helm-check.sh
#
# Environment: JITFLOW_CI_CACHE (default $HOME/.cache/jitflow-ci) keeps the
# helm binary between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

helm_version=v3.22.0
bindir="${JITFLOW_CI_CACHE:-$HOME/.cache/jitflow-ci}/bin"
helm="$bindir/helm-$helm_version"
if [ ! -x "$helm" ]; then
  echo "helm-check: building helm $helm_version (a few minutes, once)"
  start=$SECONDS
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # Outside jitflow's module, so its go.mod is not involved.
  (cd "$tmp" && GOBIN="$tmp" go install "helm.sh/helm/v3/cmd/helm@$helm_version")
  mkdir -p "$bindir"
  mv "$tmp/helm" "$helm"
  echo "helm-check: built helm in $((SECONDS - start))s"
fi
"$helm" version --short

chart=deploy/helm/jitflow
for values in "$chart"/ci/*.yaml; do
  "$helm" lint --strict "$chart" --values "$values"
done

out=$(JITFLOW_HELM="$helm" go test -count=1 -run 'Helm' -v ./deploy 2>&1) || {
  echo "$out"
  exit 1
}
echo "$out" | grep -E '^(--- |ok|FAIL)'
# Every Helm test ran (none skipped for want of helm).
if echo "$out" | grep -q -- '--- SKIP'; then
  echo "helm-check: a Helm test was skipped" >&2
  exit 1
fi
