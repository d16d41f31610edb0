#!/usr/bin/env bash
# checkov over the Kubernetes manifests of every environment (its own virtualenv: checkov pins an old
# `packaging` that breaks pulumi). Skipped checks and their reasons: .checkov.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-checkov/bin/checkov ] || bash scripts/bootstrap.sh --all
PY=${MLMON_PYTHON:-.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for env in $("$PY" -c "from generators.loader import load_catalog; print(' '.join(load_catalog('alerts').defaults.environments))"); do
  "$PY" -m generators render --env "$env" --out "$tmp/$env" >/dev/null
  mkdir -p "$tmp/all"
  for f in "$tmp/$env"/kubernetes/*.yaml; do cp "$f" "$tmp/all/$env-$(basename "$f")"; done
done
echo "checkov: $(ls "$tmp/all" | wc -l) manifest files"
.venv-checkov/bin/checkov --config-file .checkov.yaml --framework kubernetes --skip-download --quiet -d "$tmp/all"
