#!/usr/bin/env bash
# The whole test suite (what .ci/run and the README run): the fast tier, then the slow tier.
#   bash scripts/test.sh          both tiers
#   bash scripts/test.sh fast     the fast tier only: no servers, no full `mlmon check` (under 2 minutes)
#   bash scripts/test.sh slow     the slow tier only: promtool, Prometheus, moto, `mlmon check`, benchmarks
# Extra arguments go to pytest (e.g. `bash scripts/test.sh fast -k golden`). pytest's exit 5 ("no tests
# collected") fails.
set -uo pipefail
cd "$(dirname "$0")/.."
# README step 1 installs only the runtime; the suite needs the test, deploy and backtest extras and the engines'
# virtualenvs too (bootstrap.sh --all installs only what is missing)
if ! { [ -x .venv/bin/python ] && [ -x .venv-checkov/bin/checkov ] && [ -x .venv-awscli/bin/aws ] &&
       .venv/bin/python -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in
         ('pytest', 'hypothesis', 'moto', 'boto3', 'pulumi', 'pulumi_aws', 'pulumi_policy', 'matplotlib')))" 2>/dev/null; }; then
  bash scripts/bootstrap.sh --all
fi
# LocalStack evaluates the rendered CloudWatch alarms (slow tier). Where no Python >= 3.13 exists the install
# fails; the suite still runs and those tests skip with the reason (under CI=true a skip fails the run).
if [ "${1:-}" != fast ] && [ ! -x .venv-localstack/bin/python ]; then
  bash scripts/install-localstack.sh || echo "test.sh: LocalStack could not be installed; its tests will skip" >&2
fi
tier=all
case "${1:-}" in fast|slow|all) tier=$1; shift ;; esac

run() {
  .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
  local rc=$?
  if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: failing" >&2; return 1; fi
  return "$rc"
}

rc=0
if [ "$tier" != slow ]; then
  echo "== fast tier (-m 'not slow')"
  run -m "not slow" "$@" || rc=1
fi
if [ "$tier" != fast ]; then
  echo "== slow tier (-m slow)"
  run -m slow "$@" || rc=1
fi
exit "$rc"
