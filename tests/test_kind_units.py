"""A monitor kind is one unit (generators/kinds/<kind>.py): every kind states every facet (or why not), and its
facets agree with each other on the rendered artifacts: for every kind and both sources, each dashboard panel
queries the series, statistic and period its alert or alarm evaluates, against the alert's own numbers.

The agreement is checked on the rendered files of the purpose-built fixture tests/fixtures/kinds (every kind on
Prometheus and every kind CloudWatch can express), read back as a user would: PromQL parsed with
promql-parser, CloudWatch alarm bodies and Grafana targets as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from pathlib import Path

import promql_parser
import pytest
import yaml

from generators import kinds, model
from generators.cloudwatch.plans import BurnPlan, Plan, Unsupported
from generators.kindspec import FACETS, KindSpec, MetricUse, NotSupported
from generators.loader import load_catalog
from generators.prometheus.series import CatalogCases, Scenario
from generators.render import render
from generators.resolve import alert_names, resolve
from generators.signals import Panel, Signal

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kinds"
ENVS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(FIXTURE / "alerts")


@pytest.fixture(scope="module")
def rendered(catalog):
    return {env: {a.path: json.loads(a.serialize()) if a.path.endswith(".json") else a.content
                  for a in render(catalog, env)} for env in ENVS}


# --- every kind, every facet ----------------------------------------------------------------------------------


def test_the_kinds_are_the_catalogs_kinds_listed_once():
    union = typing.get_args(typing.get_args(model.Monitor)[0])
    assert [k.model for k in kinds.KINDS.values()] == list(union)
    assert tuple(kinds.KINDS) == model.KINDS
    for name, k in kinds.KINDS.items():
        assert k.name == name
        assert typing.get_args(k.model.model_fields["kind"].annotation) == (name,)


@pytest.mark.parametrize("kind", list(kinds.KINDS))
def test_every_kind_states_every_facet_or_why_not(kind):
    spec = kinds.KINDS[kind]
    fields = {f.name for f in dataclasses.fields(KindSpec)}
    assert set(FACETS) <= fields
    for facet in FACETS:
        value = getattr(spec, facet)
        if isinstance(value, NotSupported):
            assert len(value.reason) > 40, f"{kind}.{facet}: say why it is not supported"
        else:
            assert callable(value), f"{kind}.{facet} is neither a function nor NotSupported"


def _monitors_of(catalog, kind):
    return [(svc, m) for svc in catalog.services for m in svc.monitors if m.kind == kind]


@pytest.mark.parametrize("kind", list(kinds.KINDS))
def test_every_facet_answers_on_the_fixture(catalog, kind):
    """Call each facet of the kind on every fixture monitor of that kind, on each source it has."""
    found = _monitors_of(catalog, kind)
    assert found, f"tests/fixtures/kinds has no {kind} monitor"
    spec = kinds.KINDS[kind]
    for env in ENVS:
        for rs in resolve(catalog, env):
            for m in rs.monitors():
                if m.kind != kind:
                    continue
                svc = rs.service
                for use in spec.metrics(m):
                    assert isinstance(use, MetricUse) and use.metric in svc.metrics
                assert list(spec.check(m, svc)) == []
                sigs = spec.signals(m, rs)
                assert sigs and all(isinstance(s, Signal) and s.queries for s in sigs)
                panels = spec.panels(m, rs)
                assert panels and all(isinstance(p, Panel) for p in panels)
                assert {p.signal for p in panels} <= set(sigs)
                if rs.is_prometheus:
                    assert spec.recording_rules(m, rs) == spec.recording_rules(m, rs)
                for a in (x for x in rs.alerts if x.monitor is m):
                    assert isinstance(spec.condition(a, rs), str) and spec.condition(a, rs)
                    if rs.is_prometheus:
                        promql_parser.parse(spec.expr(a, rs))
                        sc = spec.scenario(a, rs)
                        assert isinstance(sc, (Scenario, model.RawTests, CatalogCases))
                    else:
                        assert isinstance(spec.cloudwatch(a, rs), (Plan, BurnPlan))


def test_what_cloudwatch_cannot_express_is_refused_with_the_reason(catalog):
    rs = resolve(catalog, "prod", ["kinds"])[0]
    raw = next(a for a in rs.alerts if a.kind == "raw")
    with pytest.raises(Unsupported, match="raw PromQL expression cannot be evaluated by CloudWatch") as exc:
        kinds.cloudwatch_plan(raw, rs)
    assert exc.value.path == ("kind",) and exc.value.monitor is raw.monitor


# --- Prometheus: panels plot what the alerts evaluate -----------------------------------------------------


def _series(expr: str) -> set[tuple]:
    """(metric, matchers, range, range function and its number arguments) of every selector in ``expr``;
    dashboard variables (``label=~"$label"``) are dropped: they only narrow what the panel shows."""
    out: set[tuple] = set()

    def key(vs):
        matchers = tuple(sorted((m.name, str(m.op), m.value) for m in vs.matchers.matchers if "$" not in m.value))
        return vs.name, matchers

    def walk(node, fn=None):
        name = type(node).__name__
        if name == "VectorSelector":
            out.add((*key(node), None, None))
        elif name == "MatrixSelector":
            out.add((*key(node.vector_selector), node.range.total_seconds(), fn))
        elif name == "Call":
            nums = tuple(a.val for a in node.args if type(a).__name__ == "NumberLiteral")
            for arg in node.args:
                walk(arg, (node.func.name, nums))
        else:
            for attr in ("expr", "lhs", "rhs"):
                child = getattr(node, attr, None)
                if child is not None and not isinstance(child, (str, int, float)):
                    walk(child)

    walk(promql_parser.parse(expr.replace("$__rate_interval", "1m")))
    return out


def _numbers(expr: str) -> set[float]:
    out = set()

    def walk(node):
        if type(node).__name__ == "NumberLiteral":
            out.add(node.val)
        for attr in ("expr", "lhs", "rhs", "param"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)
        for arg in getattr(node, "args", None) or []:
            walk(arg)

    walk(promql_parser.parse(expr))
    return out


def _rows(dashboard: dict) -> dict[str, list[dict]]:
    """Generated dashboard: monitor name (its row's title) -> the panels of its row."""
    rows: dict[str, list[dict]] = {}
    current = None
    for p in dashboard["panels"]:
        if p["type"] == "row":
            current = rows.setdefault(p["title"], [])
        elif current is not None:
            current.append(p)
    return rows


def _steps(panel: dict) -> set[float]:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return {s["value"] for s in steps if s["value"] is not None}


@pytest.mark.parametrize("env", ENVS)
def test_prometheus_panels_query_the_series_their_alerts_evaluate(catalog, rendered, env):
    svc = catalog.service("kinds")
    rules = [r for g in rendered[env]["prometheus/kinds.rules.yaml"]["groups"] for r in g["rules"]]
    rows = _rows(rendered[env]["grafana/mlmon-kinds.json"])
    checked = set()
    for m in svc.monitors:
        names = set(alert_names(m))
        alerts = [r for r in rules if r.get("alert") in names]
        if not alerts:
            assert m.name not in rows  # disabled here: no row either
            continue
        # the recording rules of the monitor's own group are what its alerts read
        group = next(g for g in rendered[env]["prometheus/kinds.rules.yaml"]["groups"]
                     if any(r.get("alert") in names for r in g["rules"]))
        evaluated = set().union(*(_series(r["expr"]) for r in group["rules"] if r.get("alert") in names or "record" in r))
        # a recording of the monitor's own group (an SLO's error budget remaining), selected by the labels the
        # rule gives it, is computed from those series
        evaluated |= {(r["record"], tuple(sorted((k, "MatchOp.Equal", v) for k, v in r.get("labels", {}).items())),
                       None, None) for r in group["rules"] if "record" in r}
        numbers = set().union(*(_numbers(r["expr"]) for r in alerts))
        numbers |= {round(1 - x, 12) for x in numbers}  # a success ratio's objective is 1 - the error budget
        if any(" <= " in r["expr"] for r in alerts):  # a Grafana band starts at its step: `<= t` colours from t+
            numbers = {math.nextafter(x, math.inf) for x in numbers}
        assert m.name in rows, f"{m.name} has no dashboard row"
        for panel in rows[m.name]:
            for t in panel["targets"]:
                plotted = _series(t["expr"])
                assert plotted, t["expr"]
                missing = plotted - evaluated
                assert not missing, f"{m.name} panel {panel['title']!r} plots {missing}, which its alerts do not read"
            if m.kind != "absent":  # absent compares the number of series with 1 (implicit in absent())
                assert _steps(panel) <= numbers, f"{m.name} panel {panel['title']!r}: steps {_steps(panel)}"
        checked.add(m.kind)
    assert checked == set(kinds.KINDS)


# --- CloudWatch: panels (generated and hand-written) and widgets query each alarm's own series ----------------


def _alarm_series(body: dict) -> set[tuple]:
    """(id, namespace, metric, dimensions, statistic, period, expression) of everything the alarm evaluates."""
    if "Metrics" not in body:
        dims = tuple(sorted((d["Name"], d["Value"]) for d in body["Dimensions"]))
        stat = body.get("Statistic") or body.get("ExtendedStatistic")
        return {("m1", body["Namespace"], body["MetricName"], dims, stat, body["Period"], None)}
    out = set()
    for q in body["Metrics"]:
        if "MetricStat" in q:
            ms = q["MetricStat"]
            dims = tuple(sorted((d["Name"], d["Value"]) for d in ms["Metric"]["Dimensions"]))
            out.add((q["Id"], ms["Metric"]["Namespace"], ms["Metric"]["MetricName"], dims, ms["Stat"], ms["Period"],
                     None))
        else:
            out.add((q["Id"], None, None, (), None, None, q["Expression"]))
    return out


def _panel_series(panel: dict) -> set[tuple]:
    out = set()
    for t in panel["targets"]:
        if t.get("expression"):
            out.add((t["id"], None, None, (), None, None, t["expression"]))
        else:
            out.add((t["id"], t["namespace"], t["metricName"], tuple(sorted(t["dimensions"].items())), t["statistic"],
                     int(t["period"]), None))
    return out


def _alarms_of(rendered_env: dict, service: str, env: str, m) -> list[dict]:
    """The alarms of monitor ``m``'s alerts (a burn-rate alert: the window alarms of its shortest window)."""
    suffix = f"-{env}"
    bodies = rendered_env[f"cloudwatch/{service}.json"]
    mine = [b for b in bodies for a in alert_names(m)
            if b["AlarmName"] == f"{service}-{a}{suffix}" or b["AlarmName"].startswith(f"{service}-{a}-")
            and b["AlarmName"].endswith(("-long" + suffix, "-short" + suffix))]
    if any("-long" in b["AlarmName"] or "-short" in b["AlarmName"] for b in mine):
        shortest = min(b["Metrics"][0]["MetricStat"]["Period"] for b in mine)
        mine = [b for b in mine if b["Metrics"][0]["MetricStat"]["Period"] == shortest]
    return mine


@pytest.mark.parametrize("env", ENVS)
def test_cloudwatch_panels_query_the_series_their_alarms_evaluate(catalog, rendered, env):
    svc = catalog.service("cw-kinds")
    art = rendered[env]
    rows = _rows(art["grafana/mlmon-cw-kinds.json"])
    handwritten = {p["title"]: p for p in art["grafana/cw-kinds-handwritten.json"]["panels"] if p["type"] != "row"}
    widgets = {w["properties"]["title"].rsplit(" (", 1)[0]: w
               for w in json.loads(art["cloudwatch/cw-kinds.dashboard.json"]["DashboardBody"])["widgets"]
               if w["type"] == "metric"}
    checked, drawn = set(), set()
    for m in svc.monitors:
        alarms = _alarms_of(art, "cw-kinds", env, m)
        if not alarms:
            continue
        series = {frozenset(_alarm_series(b)) for b in alarms}
        assert len(series) == 1, f"{m.name}: its alarms evaluate different series {series}"
        (evaluated,) = series
        thresholds = {b["Threshold"] for b in alarms}
        if any(b["ComparisonOperator"] == "LessThanOrEqualToThreshold" for b in alarms):  # Grafana bands start at a step
            thresholds = {math.nextafter(x, math.inf) for x in thresholds}
        for panel in rows[m.name]:
            assert _panel_series(panel) == evaluated, f"{m.name} panel {panel['title']!r}"
            assert _steps(panel) == thresholds, f"{m.name} panel {panel['title']!r}"
        # cloudwatch_monitor_panel() in the hand-written dashboard: the generated panel's title, series and steps
        for p in (p for p in handwritten.values() if p["title"] == rows[m.name][0]["title"]):
            assert _panel_series(p) == evaluated and _steps(p) == thresholds, f"hand-written panel of {m.name}"
            drawn.add(m.name)
        widget = widgets[m.summary or m.name]
        shown = set()
        for row in widget["properties"]["metrics"]:
            opts = row[-1]
            if "expression" in opts:
                shown.add((opts["id"], None, None, (), None, None, opts["expression"]))
            else:
                dims = tuple(sorted(zip(row[2:-1:2], row[3:-1:2])))
                shown.add((opts["id"], row[0], row[1], dims, opts["stat"], widget["properties"]["period"], None))
        assert {s for s in shown if s[0] != "ad1"} == evaluated, f"{m.name} CloudWatch widget"
        checked.add(m.kind)
    assert checked == {k for k, spec in kinds.KINDS.items() if not isinstance(spec.cloudwatch, NotSupported)}
    assert drawn == {"CwScore", "CwScoreLow", "CwErrorRatio", "CwLatencyHigh", "CwHeartbeatMissing"}


def test_the_measured_divergences_are_gone(rendered):
    """The issue's measurements: a threshold alarm on Average over 60 s with [Model, Stage] was drawn as Average
    over 300 s with [Stage] only; absent as Maximum/300 s instead of SampleCount/60 s."""
    rows = _rows(rendered["prod"]["grafana/mlmon-cw-kinds.json"])
    (score,) = {json.dumps(t, sort_keys=True) for t in rows["CwScore"][0]["targets"]}
    t = json.loads(score)
    assert (t["metricName"], t["statistic"], t["period"], t["dimensions"]) == \
        ("ModelScore", "Average", "60", {"Model": "v2", "Stage": "live"})
    (beat,) = rows["CwHeartbeatMissing"][0]["targets"]
    assert (beat["metricName"], beat["statistic"], beat["period"]) == ("heartbeat", "SampleCount", "60")


def test_the_hand_written_slo_panel_reads_the_environments_objective(rendered):
    def objective(env):
        panel = next(p for p in rendered[env]["grafana/kinds-handwritten.json"]["panels"]
                     if p["title"] == "Availability: success ratio")
        return _steps(panel), panel["description"]

    assert objective("dev") == ({0.99}, "Objective 0.99 over 30d.")  # alerts/kinds.yaml overrides dev
    assert objective("prod") == ({0.995}, "Objective 0.995 over 30d.")
    dev_rules = yaml.safe_load(yaml.safe_dump(rendered["dev"]["prometheus/kinds.rules.yaml"]))
    fast = next(r for g in dev_rules["groups"] for r in g["rules"] if r.get("alert") == "AvailabilityFastBurn")
    assert "0.01" in fast["expr"]  # the dev alert's budget: 1 - 0.99
