#!/usr/bin/env bash
# Create .venv with mlmon and everything its tests need; checkov gets its own .venv-checkov (it pins an
# old `packaging` that breaks pulumi).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -m pip install -q -e '.[test,deploy,backtest]' 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c "import generators, pydantic, promql_parser, yaml, pytest, hypothesis, matplotlib"
if [ ! -x .venv-checkov/bin/checkov ]; then
  "$PY" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install -q 'checkov==3.3.30' 2>&1 | grep -v '^WARNING: Location' || true
fi
# The AWS CLI (v1, from PyPI) in its own virtualenv: it pins its botocore. tests/test_ssm.py runs the exact
# `aws ssm send-command` that `mlmon remediations` prints against a moto server with it.
if [ ! -x .venv-awscli/bin/aws ]; then
  "$PY" -m venv .venv-awscli
  .venv-awscli/bin/python -m pip install -q 'awscli==1.46.2' 2>&1 | grep -v '^WARNING: Location' || true
fi
