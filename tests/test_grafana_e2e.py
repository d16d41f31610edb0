"""End to end: every query of every dashboard returns data from a real Prometheus.

A synthetic exporter serves every declared metric of every Prometheus-sourced service (values inside their
declared ranges, counters increasing, histograms with buckets); Prometheus (Debian package) scrapes it every
second and loads the rendered rule files. Then every target of every generated and hand-written Prometheus
dashboard (all environments), with Grafana's variables substituted, must run without error and return
series; every template variable must resolve to values; every recording rule must produce series.
"""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest

from generators import yamlio
from generators.grafana.checks import GLOBALS, _LABEL_VALUES, iter_panels
from generators.loader import load_catalog
from generators.render import render, serialize_all, write_atomic
from generators.resolve import resolve

from conftest_grafana import SEEDS, Exporter, Prometheus, series_plan

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    shutil.which("prometheus") is None, reason="the `prometheus` binary (Debian package prometheus) is not installed")]

# Grafana's interval variables, as real durations that cover a few 1s scrapes
DURATIONS = {"__rate_interval": "10s", "__interval": "2s", "__range": "30s"}
_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)")


def grafana_expr(expr: str) -> str:
    """Grafana's substitution: label variables set to All (``.*``), interval variables to durations."""
    def repl(m):
        name = m.group(1) or m.group(2)
        return DURATIONS.get(name) or GLOBALS.get(name) if name.startswith("__") else ".*"
    return _VAR.sub(repl, expr)


def _fast_rules(src, dst):
    """The rendered rule file with every group evaluated each second (the test cannot wait a minute)."""
    data, _ = yamlio.load_with_lines(src.read_text())
    for g in data["groups"]:
        g["interval"] = "1s"
    dst.write_text(yamlio.dump(data))
    return [r["record"] for g in data["groups"] for r in g["rules"] if "record" in r]


def test_every_dashboard_query_returns_data_from_a_real_prometheus(tmp_path):
    catalog = load_catalog(SEEDS / "alerts")
    envs = list(catalog.defaults.environments)
    dashboards = {}
    for env in envs:
        out = tmp_path / "render" / env
        write_atomic(serialize_all(render(catalog, env)), out)
        for f in sorted((out / "grafana").glob("*.json")):
            dashboards[(env, f.name)] = json.loads(f.read_text())
    # Prometheus loads the rules of the last environment (prod): its SLO recordings are what dashboards read
    prod = tmp_path / "render" / envs[-1] / "prometheus"
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    records = []
    rule_files = []
    for f in sorted(prod.glob("*.rules.yaml")):
        rule_files.append(rules_dir / f.name)
        records += _fast_rules(f, rule_files[-1])
    assert records, "the reference catalog has SLO recording rules"

    queries = {}  # expr after substitution -> where it comes from
    variables = {}
    for (env, name), d in dashboards.items():
        for v in d["templating"]["list"]:
            if v["type"] == "query":
                variables.setdefault(grafana_expr(v["query"]), f"{env} {name} ${v['name']}")
        for p in iter_panels(d["panels"]):
            for t in p.get("targets", []):
                if t.get("datasource", {}).get("type") == "prometheus":
                    queries.setdefault((grafana_expr(t["expr"]), bool(t.get("instant"))),
                                       f"{env} {name} panel {p['id']} {p['title']!r} {t['refId']}")
    assert len(queries) > 50 and variables

    plan = series_plan(resolve(catalog, envs[-1]))
    started = time.monotonic()
    with Exporter(plan) as exporter, Prometheus(tmp_path, exporter.port, rule_files) as prom:
        prom.wait_ready()
        prom.wait_for('count_over_time(up{job="mlmon-exporter"}[1m]) >= 4')
        for rec in sorted(set(records)):
            prom.wait_for(rec)  # every recording rule produces series
        prom.wait_for("ALERTS")
        now = time.time()
        failures = []
        for (expr, instant), where in sorted(queries.items()):
            if instant:
                r = prom.api("query", query=expr, time=now)
            else:
                r = prom.api("query_range", query=expr, start=now - 3, end=now, step=1)
            if r.get("status") != "success":
                failures.append(f"{where}: error {r.get('error')}: {expr}")
            elif not r["data"]["result"]:
                failures.append(f"{where}: no data: {expr}")
        for expr, where in sorted(variables.items()):
            m = _LABEL_VALUES.match(expr)
            assert m, f"{where}: variable query is not label_values(selector, label): {expr}"
            r = prom.api("series", **{"match[]": m.group(1), "start": now - 30, "end": now})
            values = {s.get(m.group(2)) for s in r.get("data", [])} - {None}
            if r.get("status") != "success" or not values:
                failures.append(f"{where}: no values of {m.group(2)}: {r.get('error', '')} {expr}")
        assert not failures, "\n".join(failures)
    assert time.monotonic() - started < 60
