#!/usr/bin/env bash
# The whole test suite (what .ci/run and the README run): the fast tier, then the slow tier.
#   bash scripts/test.sh          both tiers
#   bash scripts/test.sh fast     the fast tier only: no servers, no full `mlmon check` (under 2 minutes)
#   bash scripts/test.sh slow     the slow tier only: promtool, Prometheus, moto, `mlmon check`, benchmarks
# Extra arguments go to pytest (e.g. `bash scripts/test.sh fast -k golden`). pytest's exit 5 ("no tests
# collected") fails.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/bootstrap.sh
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
