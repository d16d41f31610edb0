"""``mlmon check``'s Alertmanager step on one rendered environment, with Alertmanager's own tool:

1. ``amtool check-config alertmanager/alertmanager.yaml`` (Alertmanager's parser and validation);
2. the routing tests cover every alert of the rendered rule files with the labels the rules give it, and name
   the receiver the catalog's ``routing`` gives its service and severity (else the default receiver);
3. each test runs as ``amtool config routes test --verify.receivers=<receivers> <labels>`` (in parallel; once per
   class of alerts equal on every label a matcher of the tree reads, since routing reads nothing else);
4. every leaf route is reached by at least one alert (a route no alert can reach is an error; Alertmanager's
   first-match walk over the matchers, read here independently of the generator).
"""

from __future__ import annotations

import functools
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


def _load(path: Path):
    import yaml

    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _rule_alerts(out: Path) -> dict[str, dict]:
    """alert name -> labels (with alertname), from every rendered Prometheus rule file."""
    alerts = {}
    for f in sorted((out / "prometheus").glob("*.rules.yaml")) if (out / "prometheus").is_dir() else []:
        for g in (_load(f) or {}).get("groups", []):
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


@functools.lru_cache(maxsize=None)
def _parse(matcher: str) -> tuple[str, str, str] | None:
    g = _MATCHER.match(matcher)
    return None if g is None else (g.group(1), g.group(2), re.sub(r"\\(.)", r"\1", g.group(3)))


def _matches(matchers: list[str], labels: dict) -> bool:
    for m in matchers:
        parsed = _parse(m)
        if parsed is None:
            return False
        name, op, value = parsed
        have = labels.get(name, "")
        ok = {"=": have == value, "!=": have != value,
              "=~": re.fullmatch(value, have) is not None, "!~": re.fullmatch(value, have) is None}[op]
        if not ok:
            return False
    return True


def _matched_labels(route: dict) -> tuple[str, ...]:
    """Every label name a matcher of the tree reads (sorted)."""
    names: set[str] = set()

    def walk(r):
        for m in r.get("matchers") or []:
            g = _MATCHER.match(m)
            names.add(g.group(1) if g else m)
        for key in ("match", "match_re"):
            names.update((r.get(key) or {}).keys())
        for c in r.get("routes") or []:
            walk(c)

    walk(route)
    return tuple(sorted(names))


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
    amtool = _amtool()
    config = out / CONFIG_FILE
    if not config.is_file():
        return [f"{CONFIG_FILE} ({env}): not rendered"]
    r = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    if r.returncode != 0:
        return [f"amtool check-config {CONFIG_FILE} ({env}):\n{(r.stdout + r.stderr).strip()}"]
    failures = []
    tests = _load(out / TESTS_FILE) if (out / TESTS_FILE).is_file() else {}
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
    root = _load(config)["route"]
    # Alertmanager's routing reads only the labels its matchers name: cases equal on those labels and expecting
    # the same receivers route alike, so amtool runs once per such class (a failure names every alert of it).
    read = _matched_labels(root)
    classes: dict[tuple, list[dict]] = {}
    for c in cases:
        key = (tuple((k, c["labels"].get(k)) for k in read), tuple(c["receivers"]))
        classes.setdefault(key, []).append(c)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(pool.map(lambda group: (_route_test(amtool, config, group[0]), group), classes.values()))
    for msg, group in results:
        if msg:
            others = [c["alert"] for c in group[1:]]
            failures.append(f"amtool config routes test ({env}): {msg}"
                            + (f" (and {', '.join(others)}, routed alike)" if others else ""))
    reached = {leaf_of(root, group[0]["labels"]) for group in classes.values()}  # a class routes alike
    for path, recv in leaves(root):
        if path not in reached:
            where = "route" + "".join(f".routes[{i}]" for i in path)
            failures.append(f"{CONFIG_FILE} ({env}): {where} (to {recv}) is reached by no alert")
    return failures
