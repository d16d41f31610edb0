"""Helpers for the diff/runbook tests: a throw-away git repository holding a small catalog."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "mlmon test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "mlmon test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}

DEFAULTS = """\
environments: [dev, staging, prod]
runbook_base: https://runbooks.test
grafana_url: https://grafana.test
"""

SHOP_V1 = """\
service: shop-model
title: Shop Model
team: ml
namespace: shop
workload: {kind: Deployment, name: shop-api}
routing:
  warning: shop-slack
  critical: shop-pager
metrics:
  shop_quality_score: {type: gauge, range: [0, 1]}
  shop_errors_total: {type: counter}
  shop_queue_depth: {type: gauge}
monitors:
  - name: ShopQualityLow
    kind: threshold
    metric: shop_quality_score
    op: below
    smoothing: {function: avg, window: 5m}
    threshold: 0.7
    for: 5m
    severity: warning
    overrides:
      dev: {for: 15m}
  - name: ShopErrors
    kind: failures
    metric: shop_errors_total
    window: 15m
    severity: warning
  - name: ShopQueueDeep
    kind: threshold
    metric: shop_queue_depth
    threshold: 100
    for: 10m
    severity: warning
"""

# threshold change (all envs), env override change (dev), severity change, removed alert, new alert
SHOP_V2 = (SHOP_V1
           .replace("    threshold: 0.7\n", "    threshold: 0.65\n")
           .replace("      dev: {for: 15m}", "      dev: {for: 30m}")
           .replace("    window: 15m\n    severity: warning", "    window: 15m\n    severity: critical")
           .replace("""  - name: ShopQueueDeep
    kind: threshold
    metric: shop_queue_depth
    threshold: 100
    for: 10m
    severity: warning
""", """  - name: ShopQueueVeryDeep
    kind: threshold
    metric: shop_queue_depth
    threshold: 500
    for: 5m
    severity: critical
"""))

PILOT_V1 = """\
service: pilot
team: ml
source: {type: cloudwatch, namespace: Test/Pilot, region: us-east-1}
routing:
  warning: pilot-warning
metrics:
  accuracy: {type: gauge, range: [0, 1]}
monitors:
  - name: PilotAccuracyLow
    kind: threshold
    metric: accuracy
    op: below
    threshold: 0.9
    for: 15m
    severity: warning
"""


def git(repo: Path, *args: str) -> str:
    r = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=repo, capture_output=True, text=True,
                       env={**os.environ, **GIT_ENV})
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def write(repo: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        p = repo / rel
        if text is None:
            p.unlink()
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def commit(repo: Path, files: dict[str, str | None], message: str = "change") -> str:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def init_repo(path: Path, files: dict[str, str | None]) -> tuple[Path, str]:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path, commit(path, files, "first")
