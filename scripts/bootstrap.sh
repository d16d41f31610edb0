#!/usr/bin/env bash
# Create .venv with mlmon.
#   bash scripts/bootstrap.sh           runtime only (pyproject `dependencies`): what `mlmon render`, `mlmon check`
#                                       and every command but `plan` need (README step 1)
#   bash scripts/bootstrap.sh --deploy  ... plus the `deploy` extra: Pulumi and its providers (`mlmon plan`,
#                                       `pulumi up`; Pulumi.yaml points at .venv)
#   bash scripts/bootstrap.sh --all     everything the test suite and CI need (scripts/test.sh, .ci/run): the
#                                       `test`, `deploy` and `backtest` extras, and the engines' own virtualenvs
#                                       (.venv-checkov: checkov pins an old `packaging` that breaks pulumi;
#                                       .venv-awscli: the AWS CLI pins its botocore)
# Idempotent: re-running installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
what=runtime
case "${1:-}" in
  "") ;;
  --deploy) what=deploy ;;
  --all) what=all ;;
  *) echo "usage: bash scripts/bootstrap.sh [--deploy|--all]" >&2; exit 2 ;;
esac
pip_q() { "$@" 2>&1 | grep -v '^WARNING: Location' || true; }
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
case "$what" in
  runtime) spec='.' ;;
  deploy) spec='.[deploy]' ;;
  all) spec='.[test,deploy,backtest]' ;;
esac
pip_q .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
.venv/bin/python -c "import generators, pydantic, promql_parser, yaml"
case "$what" in
  deploy) .venv/bin/python -c "import pulumi, pulumi_aws, pulumi_kubernetes" ;;
  all) .venv/bin/python -c "import pulumi, pulumi_aws, pulumi_kubernetes, pytest, hypothesis, moto, matplotlib" ;;
esac
[ "$what" = all ] || exit 0
if [ ! -x .venv-checkov/bin/checkov ]; then
  "$PY" -m venv .venv-checkov
  pip_q .venv-checkov/bin/python -m pip install -q --disable-pip-version-check 'checkov==3.3.30'
fi
# The AWS CLI (v1, from PyPI) in its own virtualenv: it pins its botocore. tests/test_ssm.py runs the exact
# `aws ssm send-command` that `mlmon remediations` prints against a moto server with it.
if [ ! -x .venv-awscli/bin/aws ]; then
  "$PY" -m venv .venv-awscli
  pip_q .venv-awscli/bin/python -m pip install -q --disable-pip-version-check 'awscli==1.46.2'
fi
