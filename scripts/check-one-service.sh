#!/usr/bin/env bash
# Proof that the test suite does not depend on the shipped catalog: clone this repository (HEAD) into a
# temporary directory, replace alerts/ by a one-service catalog (and drop the shipped hand-written dashboards
# and runbooks, which name the shipped services, as a fork would), then run the whole suite there.
#   bash scripts/check-one-service.sh          both tiers;  ... fast   the fast tier only
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/bootstrap.sh --all
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q --no-hardlinks . "$tmp/repo"
cd "$tmp/repo"
# the engines' virtualenvs are the checkout's (CI installed them there; a skip is a failure under CI=true)
for venv in .venv .venv-localstack .venv-awscli .venv-checkov; do
  if [ -e "$OLDPWD/$venv" ]; then ln -s "$OLDPWD/$venv" "$venv"; fi
done
rm -rf alerts dashboards/*.dashboard.py docs/runbooks/*.md
mkdir alerts
cat > alerts/shop.yaml <<'YAML'
# A fork's catalog: one service.
service: shop
title: Shop
team: commerce
namespace: shop
workload: {kind: Deployment, name: shop-api}
metrics:
  shop_quality_score: {type: gauge, range: [0, 1]}
  shop_requests_total: {type: counter, labels: [code]}
monitors:
  - {name: ShopQualityLow, kind: threshold, metric: shop_quality_score, op: below, threshold: 0.7, for: 10m,
     severity: warning, remediations: [restart-shop-api]}
  - {name: ShopAvailability, kind: ratio, bad: {metric: shop_requests_total, matchers: {code: "=~5.."}},
     total: shop_requests_total, threshold: 0.99}
remediations:
  - {name: restart-shop-api, action: rollout-restart, description: Restart shop-api.}
YAML
# the clone's generators/ must be the code under test (python -m puts the current directory first)
.venv/bin/python -c "import generators, pathlib; p = pathlib.Path(generators.__file__).resolve(); assert str(p).startswith('$tmp'), p"
.venv/bin/python -m generators check --catalog alerts >/dev/null
echo "== the suite with alerts/ replaced by a one-service catalog (in $tmp/repo)"
bash scripts/test.sh "$@"
