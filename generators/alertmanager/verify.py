"""``mlmon check``'s Alertmanager step on one rendered environment, with Alertmanager's own tool:

1. ``amtool check-config alertmanager/alertmanager.yaml`` (Alertmanager's parser and validation);
2. the routing tests cover every alert of the rendered rule files with the labels the rules give it, and name
   the receiver the catalog's ``routing`` gives its service and severity (else the default receiver);
3. each test runs as ``amtool config routes test --verify.receivers=<receivers> <labels>`` (in parallel: one
   short process per alert);
4. every leaf route is reached by at least one alert (a route no alert can reach is an error; Alertmanager's
   first-match walk over the matchers, read here independently of the generator).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import Skipped
from .config import CONFIG_FILE, TESTS_FILE
from .routes import NULL_RECEIVER


def _amtool() -> str:
    amtool = shutil.which("amtool")
    if amtool is None:
        raise Skipped("amtool not found on PATH (install Debian's `prometheus-alertmanager` package): the "
                      "Alertmanager configuration and its routing tests were not checked")
    return amtool


def _rule_alerts(out: Path) -> dict[str, dict]:
    """alert name -> labels (with alertname), from every rendered Prometheus rule file."""
    import yaml

    alerts = {}
    for f in sorted((out / "prometheus").glob("*.rules.yaml")) if (out / "prometheus").is_dir() else []:
        for g in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("groups", []):
            for r in g.get("rules", []):
                if "alert" in r:
                    alerts[r["alert"]] = {"alertname": r["alert"], **(r.get("labels") or {})}
    return alerts


def _catalog_receiver(catalog, labels: dict) -> str:
    am = catalog.defaults.alertmanager
    for svc in catalog.services:
        if svc.service == labels.get("service"):
            return svc.routing.get(labels.get("severity")) or am.default_receiver or NULL_RECEIVER
    return am.default_receiver or NULL_RECEIVER


def _route_test(amtool: str, config: Path, case: dict) -> str | None:
    expected = ",".join(case["receivers"])
    args = [amtool, "config", "routes", "test", f"--config.file={config}", f"--verify.receivers={expected}"]
    args += [f"{k}={v}" for k, v in sorted(case["labels"].items())]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode == 0:
        return None
    got = r.stdout.strip().splitlines()[0] if r.stdout.strip() else (r.stderr.strip() or "nothing")
    return f"{case['alert']}: routed to {got}, the catalog names {expected}"


_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')


def _matches(matchers: list[str], labels: dict) -> bool:
    for m in matchers:
        g = _MATCHER.match(m)
        if g is None:
            return False
        name, op, value = g.group(1), g.group(2), re.sub(r"\\(.)", r"\1", g.group(3))
        have = labels.get(name, "")
        ok = {"=": have == value, "!=": have != value,
              "=~": re.fullmatch(value, have) is not None, "!~": re.fullmatch(value, have) is None}[op]
        if not ok:
            return False
    return True


def leaf_of(route: dict, labels: dict, path: tuple = ()) -> tuple | None:
    """The path (child indexes) of the first leaf route whose matchers the labels satisfy (Alertmanager's
    depth-first, first-match walk without ``continue``); ``()`` is the root itself."""
    for i, child in enumerate(route.get("routes") or []):
        if _matches(child.get("matchers") or [], labels):
            return leaf_of(child, labels, path + (i,))
    return path


def leaves(route: dict, path: tuple = ()) -> list[tuple[tuple, str]]:
    children = route.get("routes") or []
    if not children:
        return [(path, route.get("receiver", ""))] if path else []
    return [leaf for i, c in enumerate(children) for leaf in leaves(c, path + (i,))]


def alertmanager_step(out: Path, catalog, env: str) -> list[str]:
    if catalog is None or catalog.defaults.alertmanager is None:
        return []
    import yaml

    amtool = _amtool()
    config = out / CONFIG_FILE
    if not config.is_file():
        return [f"{CONFIG_FILE} ({env}): not rendered"]
    r = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    if r.returncode != 0:
        return [f"amtool check-config {CONFIG_FILE} ({env}):\n{(r.stdout + r.stderr).strip()}"]
    failures = []
    tests = yaml.safe_load((out / TESTS_FILE).read_text(encoding="utf-8")) if (out / TESTS_FILE).is_file() else {}
    cases = list((tests or {}).get("tests") or [])
    by_alert = {c["alert"]: c for c in cases}
    for name, labels in _rule_alerts(out).items():
        case = by_alert.get(name)
        if case is None:
            failures.append(f"{TESTS_FILE} ({env}): no routing test for alert {name}")
            continue
        if case["labels"] != labels:
            failures.append(f"{TESTS_FILE} ({env}): {name}: the test's labels {case['labels']} are not the rule's "
                            f"{labels}")
        expected = [_catalog_receiver(catalog, labels)]
        if case["receivers"] != expected:
            failures.append(f"{TESTS_FILE} ({env}): {name}: expects {case['receivers']}, the catalog routes it to "
                            f"{expected}")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(pool.map(lambda c: _route_test(amtool, config, c), cases))
    failures.extend(f"amtool config routes test ({env}): {msg}" for msg in results if msg)
    root = yaml.safe_load(config.read_text(encoding="utf-8"))["route"]
    reached = {leaf_of(root, c["labels"]) for c in cases}
    for path, recv in leaves(root):
        if path not in reached:
            where = "route" + "".join(f".routes[{i}]" for i in path)
            failures.append(f"{CONFIG_FILE} ({env}): {where} (to {recv}) is reached by no alert")
    return failures
