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
    tests = []
    for a in rs.alerts:
        tests.extend(alert_tests(a, rs))
    return {
        "rule_files": [f"{rs.name}.rules.yaml"],
        "evaluation_interval": format_duration(rs.defaults.evaluation_interval),
        "tests": tests,
    }
