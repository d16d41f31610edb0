"""promtool unit tests generated from each alert's own threshold and duration.

For every alert, two test groups:

* **fires / resolves** — synthetic series that break the threshold from t=0: no alert one evaluation before
  ``for`` has elapsed, firing (with its exact labels) once it has, and nothing again after the series
  recovers and the alert's window has passed;
* **inside** — series that sit just inside the threshold for longer than ``for``: never fires;
* **exactly at the threshold** (kinds whose arithmetic is exact there, e.g. a gauge): fires for
  ``above_or_equal``/``below_or_equal``, stays quiet for ``above``/``below``.

Ratio SLOs get a third group: the low-traffic guard keeps a 100 % error ratio on a trickle of requests quiet.
Raw monitors bring their own cases from the catalog, and the samples each of their recording rules must hold.

The series are designed per kind (the ``scenario`` facet of ``generators/kinds/<kind>.py``, built from
:mod:`.series`) so that the condition is already true at the second sample; the timing arithmetic below is
therefore exact, and a test failing means the rule is wrong.
"""

from __future__ import annotations

from functools import lru_cache

from .. import alertmeta
from ..durations import format_duration
from ..kinds import scenario
from ..model import RawTests
from .series import CatalogCases, series_name
from ..resolve import Alert, ResolvedService
from ..templating import render as render_template

# ---------------------------------------------------------------------------------------------
# assembly


def _input(series) -> list[dict]:
    return [{"series": name, "values": str(values)} for name, values in series]


def _ceil_to(x: int, step: int) -> int:
    return -(-x // step) * step


def alert_tests(a: Alert, rs: ResolvedService) -> list[dict]:
    interval = rs.defaults.evaluation_interval
    iv = format_duration(interval)
    rule_labels = alertmeta.labels(a, rs)
    sc = scenario(a, rs)
    if isinstance(sc, CatalogCases):
        return _catalog_tests(a, rs, sc.tests, rule_labels, iv) + _recording_tests(sc, iv)
    if isinstance(sc, RawTests):
        return _catalog_tests(a, rs, sc, rule_labels, iv)
    expected = {**sc.labels, **rule_labels}
    fire_at = _ceil_to(sc.t_true + a.for_, interval)
    annotations = expected_annotations(a, rs, sc.value(fire_at), expected)
    recover_at = fire_at + 2 * interval
    resolved_at = _ceil_to(recover_at + sc.clear, interval) + interval
    total = resolved_at // interval + 2
    r = recover_at // interval
    checks = []
    if fire_at >= interval:
        checks.append({"eval_time": format_duration(fire_at - interval), "alertname": a.name, "exp_alerts": []})
    checks.append({"eval_time": format_duration(fire_at), "alertname": a.name,
                   "exp_alerts": [{"exp_labels": dict(sorted(expected.items())), "exp_annotations": annotations}]})
    checks.append({"eval_time": format_duration(resolved_at), "alertname": a.name, "exp_alerts": []})
    quiet_at = fire_at + 2 * interval
    quiet_total = quiet_at // interval + 2
    groups = [
        {"name": f"{a.name}: fires after {format_duration(a.for_)} beyond the threshold, resolves on recovery",
         "interval": iv, "input_series": _input(sc.fires(r, total)), "alert_rule_test": checks},
        {"name": f"{a.name}: stays quiet just inside the threshold",
         "interval": iv, "input_series": _input(sc.inside(quiet_total)),
         "alert_rule_test": [{"eval_time": format_duration(quiet_at), "alertname": a.name, "exp_alerts": []}]},
    ]
    b = sc.boundary
    if b is not None:  # exactly at the threshold: an inclusive op fires, a strict one stays quiet
        exp = [{"exp_labels": dict(sorted(expected.items())),
                "exp_annotations": expected_annotations(a, rs, b.value, expected)}] if b.fires else []
        groups.append({"name": f"{a.name}: {'fires' if b.fires else 'stays quiet'} exactly at the threshold",
                       "interval": iv, "input_series": _input(b.build(quiet_total)),
                       "alert_rule_test": [{"eval_time": format_duration(quiet_at), "alertname": a.name,
                                            "exp_alerts": exp}]})
    for title, build in sc.extra_groups:
        groups.append({"name": f"{a.name}: {title}", "interval": iv, "input_series": _input(build(quiet_total)),
                       "alert_rule_test": [{"eval_time": format_duration(quiet_at), "alertname": a.name,
                                            "exp_alerts": []}]})
    return groups


def expected_annotations(a: Alert, rs: ResolvedService, value: float, labels: dict[str, str]) -> dict[str, str]:
    return {k: render_template(v, value, labels) for k, v in alertmeta.annotations(a, rs).items()}


def _catalog_tests(a: Alert, rs: ResolvedService, cases: RawTests, rule_labels: dict, iv: str) -> list[dict]:
    fires = cases.fires
    expected = {**fires.labels, **rule_labels}
    annotations = expected_annotations(a, rs, fires.value, expected)
    return [
        {"name": f"{a.name}: fires (catalog case)", "interval": iv,
         "input_series": [{"series": s.series, "values": s.values} for s in fires.input],
         "alert_rule_test": [{"eval_time": format_duration(fires.at), "alertname": a.name,
                              "exp_alerts": [{"exp_labels": dict(sorted(expected.items())),
                                              "exp_annotations": annotations}]}]},
        {"name": f"{a.name}: stays quiet (catalog case)", "interval": iv,
         "input_series": [{"series": s.series, "values": s.values} for s in cases.silent.input],
         "alert_rule_test": [{"eval_time": format_duration(cases.silent.at), "alertname": a.name,
                              "exp_alerts": []}]},
    ]


def _recording_tests(cases: CatalogCases, iv: str) -> list[dict]:
    """One group per catalog case of each recording rule: the samples it must hold (``promql_expr_test``)."""
    out = []
    for record, labels, j, case in cases.recordings:
        samples = [{"labels": series_name(record, {**s.labels, **labels}), "value": s.value} for s in case.samples]
        out.append({"name": f"{record}: catalog case {j + 1}", "interval": iv,
                    "input_series": [{"series": s.series, "values": s.values} for s in case.input],
                    "promql_expr_test": [{"expr": record, "eval_time": format_duration(case.at),
                                          "exp_samples": samples}]})
    return out


def test_file(rs: ResolvedService) -> dict:
    deps = reads(rs)
    tests = pack([(a.name, alert_tests(a, rs)) for a in rs.alerts], deps, observed_rules(rs, deps))
    return {
        "rule_files": [f"{rs.name}.rules.yaml"],
        "evaluation_interval": format_duration(rs.defaults.evaluation_interval),
        "tests": tests,
    }


# ---------------------------------------------------------------------------------------------
# cost: promtool evaluates every rule of its rule files at every evaluation step of every test group, and sets
# up a fresh storage per group. ``mlmon check`` hands it each group with only the rules the group's alerts can
# observe (generators/prometheus/subsets.py), so a group costs its steps x the rules its alerts observe, plus
# a storage. Groups of different alerts that cannot see each other's series share one promtool group where
# that is cheaper: its steps are its longest member's, the shorter ones ride along.

STORAGE_COST = 100
"""A test group's fresh storage, in rule evaluations (measured with bench/promtool_cost.py)."""


def observed_rules(rs: ResolvedService, deps: dict[str, frozenset[str] | None]) -> dict[str, frozenset[str]]:
    """Alert name -> the rules of its file it can observe: its own and the recording rules writing a metric it
    reads (every rule, when it may read any series)."""
    from ..kinds import recording_rules

    writers: dict[str, list[str]] = {}
    every = {f"alert {a.name}" for a in rs.alerts}
    for mon in rs.monitors():
        for i, r in enumerate(recording_rules(mon, rs)):
            writers.setdefault(r["record"], []).append(f"{mon.name} {i} {r['record']}")
            every.add(writers[r["record"]][-1])
    every_rule = frozenset(every)
    return {a.name: every_rule if deps.get(a.name) is None else
            frozenset({f"alert {a.name}", *(w for n in deps[a.name] for w in writers.get(n, ()))})
            for a in rs.alerts}


def reads(rs: ResolvedService) -> dict[str, frozenset[str] | None]:
    """Alert name -> the metrics its expression reads, through the recording rules of its file (``None``:
    it may read any series, e.g. ``ALERTS`` or a selector without a literal metric name)."""
    from ..kinds import alert_expr, recording_rules

    # one recorded name may be written by several rules (every ratio SLO records mlmon_slo:error_ratio:rate5m,
    # told apart by its `slo` label): a reader of the name may read what any of them reads
    recorded: dict[str, frozenset[str] | None] = {}
    for mon in rs.monitors():
        for r in recording_rules(mon, rs):
            names, prev = _selected(r["expr"]), recorded.get(r["record"], frozenset())
            recorded[r["record"]] = None if names is None or prev is None else prev | names
    direct = {a.name: _selected(alert_expr(a, rs)) for a in rs.alerts}

    def closure(names, seen=()):
        if names is None:
            return None
        out = set()
        for n in names:
            if n in ("ALERTS", "ALERTS_FOR_STATE"):
                return None
            if n in recorded and n not in seen:
                inner = closure(recorded[n], (*seen, n))
                if inner is None:
                    return None
                out |= inner
            out.add(n)
        return out

    return {name: (None if (c := closure(names)) is None else frozenset(c)) for name, names in direct.items()}


@lru_cache(maxsize=65536)
def _selected(expr: str) -> frozenset[str] | None:
    from ..promql import selected_metrics

    names = selected_metrics(expr)
    return None if names is None else frozenset(names)


def _steps(group: dict) -> int:
    from ..durations import parse_duration

    return max(parse_duration(t["eval_time"])
               for t in [*group.get("alert_rule_test", ()), *group.get("promql_expr_test", ())])


def _series_metrics(group: dict) -> set[str]:
    return {s["series"].split("{", 1)[0] for s in group["input_series"]}


def pack(per_alert: list[tuple[str, list[dict]]], deps: dict[str, set[str] | None],
         rules: dict[str, frozenset[str]] | None = None) -> list[dict]:
    """The alerts' test groups packed into promtool groups where isolation allows and it is cheaper (best fit,
    longest first). Two groups may share one only when they test different alerts, have the same sample
    interval, and neither alert reads a metric of the other's series (nor do their series share a metric); an
    alert that may read any series (``None`` in ``deps``) keeps its groups to itself. A group joins the shared
    group it adds least cost to (``rules``: the rules each alert observes; every alert observes the same ones
    when not given), and stays alone when that is cheaper. Every member keeps its series and checks
    unchanged, so each proves exactly what it proved alone."""
    every: frozenset[str] = frozenset({"*"})
    items = []
    for order, (alert, groups) in enumerate(per_alert):
        for g in groups:
            # a recording rule's own test (promql_expr_test) compares every sample of its expression: alone
            alone = "promql_expr_test" in g or "alert_rule_test" not in g
            items.append({"order": (order, len(items)), "alert": alert, "group": g, "steps": _steps(g),
                          "metrics": _series_metrics(g), "reads": None if alone else deps.get(alert),
                          "rules": every if rules is None else rules.get(alert, every)})
    bins: list[list[dict]] = []

    def fits(item, b):
        for m in b:
            if (m["alert"] == item["alert"] or m["group"]["interval"] != item["group"]["interval"]
                    or item["reads"] is None or m["reads"] is None or m["metrics"] & item["metrics"]
                    or m["metrics"] & item["reads"] or item["metrics"] & m["reads"]):
                return False
        return True

    def cost(members):
        return max(m["steps"] for m in members) * len(frozenset().union(*(m["rules"] for m in members)))

    for item in sorted(items, key=lambda i: (-i["steps"], i["order"])):
        best, best_delta = None, item["steps"] * len(item["rules"]) + STORAGE_COST  # alone
        for b in bins:
            if fits(item, b):
                delta = cost([*b, item]) - cost(b)
                if delta < best_delta:
                    best, best_delta = b, delta
        if best is None:
            bins.append([item])
        else:
            best.append(item)
    out = []
    for b in sorted(bins, key=lambda b: min(m["order"] for m in b)):
        b = sorted(b, key=lambda m: m["order"])
        if len(b) == 1:
            out.append(b[0]["group"])
            continue
        out.append({"name": " | ".join(m["group"]["name"] for m in b), "interval": b[0]["group"]["interval"],
                    "input_series": [s for m in b for s in m["group"]["input_series"]],
                    "alert_rule_test": [t for m in b for t in m["group"]["alert_rule_test"]]})
    return out
