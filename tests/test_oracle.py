"""An independent oracle for the rendered expressions: hand-made scenario series (new series, counter resets,
staleness, idle periods, several replicas, numerator and denominator with different label sets) are evaluated
by promtool against each rendered alert (expression and `for`, from `generators.render`), and the firing label
sets at every evaluation must be exactly what a reference model predicts (tests/oracle/: PromQL semantics and the
kinds' meaning in plain Python, written separately from the generators).

The fast tier checks the reference model on its own (hand-computed values); the comparison with promtool is slow.
"""

from __future__ import annotations

import math
import subprocess

import pytest
import yaml

from conftest import requires_promtool
from generators.loader import load_catalog
from generators.render import render
from generators.resolve import resolve
from oracle.promsem import STALE, Series, World, alert_timeline, histogram_quantile, quantile
from oracle.reference import condition

IV = 60

CATALOG = """\
service: oracle
team: sre
labels: [tenant]
metrics:
  failed_total: {type: counter, labels: [tenant]}
  backlog: {type: gauge, labels: [tenant]}
  processed_total: {type: counter, labels: [tenant]}
  requests_total: {type: counter, labels: [tenant, code]}
  score: {type: gauge, range: [0, 1], labels: [tenant]}
  depth: {type: gauge, labels: [tenant]}
  batch_ms: {type: histogram, unit: milliseconds, labels: [tenant]}
  heartbeat: {type: gauge, labels: [tenant]}
monitors:
  - {name: OFailures, kind: failures, metric: failed_total, window: 10m, severity: page}
  - {name: OFailuresBurst, kind: failures, metric: failed_total, window: 10m, threshold: 2, for: 2m, severity: ticket}
  - {name: OStalled, kind: stalled, backlog: backlog, progress: processed_total, window: 20m, tolerance: 5m,
     severity: page}
  - {name: OErrorRatio, kind: threshold, metric: requests_total, matchers: {code: "=~5.."},
     denominator: requests_total, threshold: 0.1, for: 2m, severity: page}
  - {name: OScoreLow, kind: threshold, metric: score, op: below, smoothing: {function: avg, window: 5m},
     threshold: 0.7, for: 3m, severity: warning}
  - {name: ODepthHigh, kind: threshold, metric: depth, threshold: 10, for: 2m, severity: ticket}
  - {name: ODepthP90, kind: threshold, metric: depth, smoothing: {function: quantile, quantile: 0.9, window: 10m},
     threshold: 10, for: 0s, severity: ticket}
  - {name: OThroughputLow, kind: threshold, metric: processed_total, op: below,
     smoothing: {function: rate, window: 5m}, threshold: 0.5, for: 2m, severity: warning}
  - {name: OBatchSlow, kind: latency, histogram: batch_ms, quantile: 0.9, window: 5m, threshold: 2, for: 2m,
     severity: ticket}
  - {name: OHeartbeatMissing, kind: absent, metric: heartbeat, for: 5m, severity: critical}
"""


def S(name, values, **labels) -> Series:
    return Series({"__name__": name, **labels}, list(values))


def counter(*segments, start=0.0):
    """Counter samples from ``(increment per sample, samples)`` segments; ``("reset", v)`` restarts at v;
    ``("gap", n)`` n missing samples (the counter goes on); ``("stale",)`` a staleness marker."""
    out, v = [], start
    first = True
    for seg in segments:
        if seg[0] == "reset":
            v = seg[1]
            out.append(v)
            continue
        if seg[0] == "gap":
            out += [None] * seg[1]
            continue
        if seg[0] == "stale":
            out.append(STALE)
            continue
        inc, n = seg
        for _ in range(n):
            if not first:
                v += inc
            first = False
            out.append(v)
    return out


def born(at: int, values: list) -> list:
    return [None] * at + list(values)


# scenario name -> (alert, series, samples)
SCENARIOS = {
    # failures ------------------------------------------------------------------------------------------
    "failures: a new tenant's counter born at 1": ("OFailures", [
        S("up", [1.0] * 56, job="api", instance="a"),
        S("failed_total", born(15, [1.0] * 40), tenant="t2", job="api", instance="a"),
        S("failed_total", counter((0, 55)), tenant="t1", job="api", instance="a")], 55),
    "failures: a counter new only to Prometheus (its target not scraped before) does not page": ("OFailures", [
        S("up", [None] * 20 + [1.0] * 30, job="api", instance="b"),
        S("failed_total", [None] * 20 + [6.0] * 30, tenant="t1", job="api", instance="b")], 49),
    "failures: counter reset by a restart, one failure after it": ("OFailures", [
        S("failed_total", counter((0, 20), ("reset", 1.0), (0, 30), start=7.0), tenant="t1")], 51),
    "failures: stale then back (a pod replaced, same labels)": ("OFailures", [
        S("up", [1.0] * 57, job="api", instance="a"),
        S("failed_total", counter((0, 10), start=3.0) + [STALE] + [None] * 15 + [2.0] * 30, tenant="t1", job="api",
          instance="a")], 56),
    "failures: idle counters never page": ("OFailures", [
        S("failed_total", counter((0, 60), start=5.0), tenant="t1"),
        S("failed_total", counter((0, 60)), tenant="t3")], 60),
    "failures: burst above 2 on one replica, born at 3": ("OFailuresBurst", [
        S("up", [1.0] * 46, job="api", instance="a"),
        S("failed_total", born(12, [3.0, 3.0, 4.0] + [4.0] * 30), tenant="t1", job="api", instance="a"),
        S("failed_total", counter((0, 45), start=1.0), tenant="t1", instance="b")], 45),
    # stalled -------------------------------------------------------------------------------------------
    "stalled: idle queue receives one item, not taken": ("OStalled", [
        S("backlog", [0.0] * 40 + [1.0] * 20, tenant="t1", instance="a"),
        S("processed_total", [9.0] * 60, tenant="t1", instance="a")], 60),
    "stalled: idle queue receives one item, taken at once": ("OStalled", [
        S("backlog", [0.0] * 40 + [1.0] + [0.0] * 19, tenant="t1", instance="a"),
        S("processed_total", [9.0] * 41 + [10.0] * 19, tenant="t1", instance="a")], 60),
    "stalled: two replicas, one keeps processing": ("OStalled", [
        S("backlog", [4.0] * 60, tenant="t1", instance="a"),
        S("processed_total", counter((2, 60)), tenant="t1", instance="a"),
        S("backlog", [4.0] * 60, tenant="t1", instance="b"),
        S("processed_total", counter((1, 10), (0, 50)), tenant="t1", instance="b")], 60),
    "stalled: a new replica (deployment) with a backlog and no counter yet": ("OStalled", [
        S("backlog", born(10, [2.0] * 45), tenant="t1", instance="c")], 55),
    "stalled: progress counter born at 1 by the first processed item": ("OStalled", [
        S("up", [1.0] * 71, job="api", instance="a"),
        S("backlog", [3.0] * 70, tenant="t1", job="api", instance="a"),
        S("processed_total", born(25, [1.0] * 45), tenant="t1", job="api", instance="a")], 70),
    "stalled: progress counter resets (restart) while processing": ("OStalled", [
        S("backlog", [3.0] * 60, tenant="t1", instance="a"),
        S("processed_total", counter((3, 30), ("reset", 0.0), (3, 29), start=100.0), tenant="t1", instance="a")], 60),
    "stalled: backlog goes stale (pod gone)": ("OStalled", [
        S("backlog", [3.0] * 35 + [STALE] + [None] * 24, tenant="t1", instance="a"),
        S("processed_total", [5.0] * 35 + [STALE] + [None] * 24, tenant="t1", instance="a")], 60),
    # threshold ratio -----------------------------------------------------------------------------------
    "ratio: errors appear as a new series (code 500 born mid-way)": ("OErrorRatio", [
        S("requests_total", counter((60, 40)), tenant="t1", code="200"),
        S("requests_total", born(10, counter((12, 30))), tenant="t1", code="500")], 40),
    "ratio: several replicas and codes, numerator and denominator label sets differ": ("OErrorRatio", [
        S("requests_total", counter((30, 40)), tenant="t1", code="200", instance="a"),
        S("requests_total", counter((30, 40)), tenant="t1", code="200", instance="b"),
        S("requests_total", counter((2, 20), (9, 20)), tenant="t1", code="503", instance="a"),
        S("requests_total", counter((1, 40)), tenant="t2", code="200", instance="a"),
        S("requests_total", counter((0, 20), (1, 20)), tenant="t2", code="500", instance="a")], 40),
    "ratio: counter reset of the errors": ("OErrorRatio", [
        S("requests_total", counter((60, 40)), tenant="t1", code="200"),
        S("requests_total", counter((20, 15), ("reset", 0.0), (20, 24), start=5000.0), tenant="t1", code="500")], 40),
    "ratio: idle (no traffic at all) and a trickle below the guard": ("OErrorRatio", [
        S("requests_total", counter((0, 40), start=10.0), tenant="t1", code="200"),
        S("requests_total", counter((0, 20), (0.5, 20), start=3.0), tenant="t2", code="500"),
        S("requests_total", counter((0, 40), start=1.0), tenant="t2", code="200")], 40),
    # gauges --------------------------------------------------------------------------------------------
    "avg score: dip with a scrape gap and staleness": ("OScoreLow", [
        S("score", [0.9] * 10 + [0.5] * 5 + [None] * 3 + [0.5] * 6 + [STALE] + [None] * 8 + [0.6] * 10, tenant="t1")],
      43),
    "plain depth: two tenants, one above, a gap shorter than the lookback": ("ODepthHigh", [
        S("depth", [5.0] * 5 + [20.0] * 5 + [None] * 3 + [20.0] * 10 + [5.0] * 5, tenant="t1"),
        S("depth", [12.0] * 2 + [9.0] * 26, tenant="t2")], 28),
    "p90 depth over 10m: spikes": ("ODepthP90", [
        S("depth", [1.0, 1.0, 30.0] * 10, tenant="t1")], 30),
    "rate: throughput drops, counter resets, series stale": ("OThroughputLow", [
        S("processed_total", counter((60, 10), (10, 10), ("reset", 0.0), (60, 10), start=500.0) + [STALE]
          + [None] * 5, tenant="t1")], 37),
    # latency -------------------------------------------------------------------------------------------
    "latency (ms, compared in s): two replicas, a reset": ("OBatchSlow", None, 40),
    # absent --------------------------------------------------------------------------------------------
    "absent: stale marker, then back": ("OHeartbeatMissing", [
        S("heartbeat", [1.0] * 5 + [STALE] + [None] * 12 + [1.0] * 10, tenant="t1")], 28),
    "absent: scrape gap shorter than the lookback": ("OHeartbeatMissing", [
        S("heartbeat", [1.0] * 5 + [None] * 4 + [1.0] * 10, tenant="t1")], 19),
}


# The label of each scenario, written by hand from what happens in it (not from the model or the generators): the
# minute the degradation starts (the alert must fire from then on, and not before), or None (it must stay quiet).
# bench/alert_quality.py scores the rendered alerts on these labels (recall, false alerts, delay over the floor).
LABELS = {
    "failures: a new tenant's counter born at 1": 15,
    "failures: counter reset by a restart, one failure after it": 20,
    "failures: stale then back (a pod replaced, same labels)": 26,
    "failures: a counter new only to Prometheus (its target not scraped before) does not page": None,
    "failures: idle counters never page": None,
    "failures: burst above 2 on one replica, born at 3": 12,
    "stalled: idle queue receives one item, not taken": 40,
    "stalled: idle queue receives one item, taken at once": None,
    "stalled: two replicas, one keeps processing": 10,
    "stalled: a new replica (deployment) with a backlog and no counter yet": 10,
    "stalled: progress counter born at 1 by the first processed item": 0,
    "stalled: progress counter resets (restart) while processing": None,
    "stalled: backlog goes stale (pod gone)": 0,
    "ratio: errors appear as a new series (code 500 born mid-way)": 10,
    "ratio: several replicas and codes, numerator and denominator label sets differ": 20,
    "ratio: counter reset of the errors": 0,
    "ratio: idle (no traffic at all) and a trickle below the guard": None,
    "avg score: dip with a scrape gap and staleness": 10,
    "plain depth: two tenants, one above, a gap shorter than the lookback": 5,
    "p90 depth over 10m: spikes": 2,
    "rate: throughput drops, counter resets, series stale": 10,
    "latency (ms, compared in s): two replicas, a reset": 15,
    "absent: stale marker, then back": 5,
    "absent: scrape gap shorter than the lookback": None,
}


def scenario_series(name: str) -> list[Series]:
    series = SCENARIOS[name][1]
    return series if series is not None else _latency_series()


def _latency_series() -> list[Series]:
    """Per replica cumulative buckets (le in ms: 1000, 2000, 4000, +Inf): replica a turns slow at minute 15
    (observations in (2000, 4000]); replica b is fast and restarts at minute 25 (every bucket resets)."""
    out = []
    for inst, slow_from, reset_at in (("a", 15, None), ("b", None, 25)):
        cum = {"1000": 0.0, "2000": 0.0, "4000": 0.0, "+Inf": 0.0}
        vals = {le: [] for le in cum}
        for i in range(41):
            if reset_at is not None and i == reset_at:
                cum = {le: 0.0 for le in cum}
            elif i > 0:
                slow = slow_from is not None and i >= slow_from
                fast_n, slow_n = (2.0, 10.0) if slow else (10.0, 0.0)
                cum["1000"] += fast_n
                cum["2000"] += fast_n
                cum["4000"] += fast_n + slow_n
                cum["+Inf"] += fast_n + slow_n
            for le in cum:
                vals[le].append(cum[le])
        for le, v in vals.items():
            out.append(S("batch_ms_bucket", v, tenant="t1", instance=inst, le=le))
    return out


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    root = tmp_path_factory.mktemp("oracle") / "alerts"
    root.mkdir()
    (root / "oracle.yaml").write_text(CATALOG)
    (root / "_defaults.yaml").write_text("evaluation_interval: 1m\n")
    cat = load_catalog(root)
    rs = resolve(cat, "prod")[0]
    rules = yaml.safe_load(next(a for a in render(cat, "prod") if a.path == "prometheus/oracle.rules.yaml").serialize())
    by_name = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
    return rs, by_name


def _expected(rs, alert_name, series, end):
    a = next(x for x in rs.alerts if x.name == alert_name)
    w = World(series, IV)
    active = []
    for i in range(end + 1):
        got = condition(w, rs.service, a.monitor, a.threshold, i * IV)
        assert got is not None, f"no reference model for {a.kind}"
        active.append(got)
    return alert_timeline(active, IV, a.for_), active


def _group(name, alert, series, timeline):
    checks = [{"eval_time": f"{i}m", "alertname": alert,
               "exp_alerts": [{"exp_labels": dict(k)} for k in sorted(firing)]}
              for i, firing in enumerate(timeline)]
    return {"name": name, "interval": "1m", "input_series": [{"series": s.name(), "values": s.notation()}
                                                             for s in series],
            "alert_rule_test": checks}


@requires_promtool
def test_rendered_expressions_agree_with_the_reference_model(oracle, tmp_path):
    rs, rules = oracle
    groups = []
    fired = {}
    for name, (alert, series, end) in SCENARIOS.items():
        series = series if series is not None else _latency_series()
        timeline, _ = _expected(rs, alert, series, end)
        fired[name] = sum(1 for f in timeline if f)
        groups.append(_group(name, alert, series, timeline))
    minimal = [{"alert": r["alert"], "expr": r["expr"], **({"for": r["for"]} if "for" in r else {})}
               for r in rules.values()]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "oracle", "interval": "1m",
                                                                     "rules": minimal}]}))
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m",
                                                         "tests": groups}, sort_keys=False, width=10 ** 6))
    r = subprocess.run(["promtool", "test", "rules", "tests.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    # the scenarios are not vacuous: most of them fire at some point
    assert sum(1 for v in fired.values() if v) >= 15, fired


def test_the_reference_model_agrees_with_the_hand_written_labels(oracle):
    """The model fires from the labelled start on (never before), and never in a scenario labelled quiet."""
    rs, _ = oracle
    assert set(LABELS) == set(SCENARIOS)
    for name, (alert, _, end) in SCENARIOS.items():
        timeline, _ = _expected(rs, alert, scenario_series(name), end)
        firing = [i for i, f in enumerate(timeline) if f]
        if LABELS[name] is None:
            assert not firing, name
        else:
            assert firing and firing[0] >= LABELS[name], (name, firing[:3])


# --- the reference model on its own (fast): hand-computed values ------------------------------------------------


def test_reference_rate_extrapolates_like_prometheus():
    w = World([S("c", [0.0, 60.0, 120.0, 180.0, 240.0, 300.0])], IV)
    s = w.series[0]
    assert w.increase(s, 300, 300) == pytest.approx(300.0)  # samples on both ends: exact
    assert w.increase(s, 120, 300) == pytest.approx(120.0 * (120 + 0) / 120)  # zero point: no extrapolation before 0
    w2 = World([S("c", [100.0, 160.0, 220.0])], IV)
    # window [−180, 120]: 2 intervals sampled, start extrapolated by half an interval
    assert w2.increase(w2.series[0], 120, 300) == pytest.approx(120.0 * (150 / 120))
    reset = World([S("c", [10.0, 20.0, 5.0, 15.0])], IV)
    assert reset.increase(reset.series[0], 180, 180) == pytest.approx(10 + 5 + 10)  # 20 -> 5: restarted from 0


def test_reference_selectors_lookback_and_staleness():
    w = World([S("g", [1.0, None, None, None, None, None, 2.0, STALE, None])], IV)
    s = w.series[0]
    assert w.instant(s, 300) == 1.0 and w.instant(s, 360) == 2.0  # a 5m gap is bridged
    w3 = World([S("g", [1.0] + [None] * 6)], IV)
    assert w3.instant(w3.series[0], 300) == 1.0 and w3.instant(w3.series[0], 360) is None
    assert w.instant(s, 420) is None  # a staleness marker ends the series at once


def test_reference_quantiles():
    assert quantile(0.9, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]) == pytest.approx(9.1)
    # 10 observations: 8 in (0, 1], 2 in (1, 2]: p90 = 1 + (9 - 8) / 2
    assert histogram_quantile(0.9, [(1.0, 8.0), (2.0, 10.0), (math.inf, 10.0)]) == pytest.approx(1.5)
    assert histogram_quantile(0.99, [(1.0, 0.0), (math.inf, 5.0)]) == 1.0  # in the +Inf bucket: the highest bound
    assert math.isnan(histogram_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]))


def test_reference_for_keeps_pending_then_fires():
    timeline = alert_timeline([{}, {("a", "1"): 1}, {("a", "1"): 1}, {("a", "1"): 1}, {}], 60, 120)
    assert timeline == [set(), set(), set(), {("a", "1")}, set()]


def test_reference_edge_cases_of_the_kinds(oracle):
    rs, _ = oracle
    tl, _ = _expected(rs, *SCENARIOS["failures: a new tenant's counter born at 1"][:2], 55)
    assert (("instance", "a"), ("job", "api"), ("tenant", "t2")) in tl[15] and not tl[14]  # the first failure pages
    tl, _ = _expected(rs, *SCENARIOS["stalled: idle queue receives one item, not taken"][:2], 60)
    assert not tl[44] and tl[45]  # 5m tolerance
    tl, _ = _expected(rs, *SCENARIOS["stalled: two replicas, one keeps processing"][:2], 60)
    assert all(k == (("instance", "b"), ("tenant", "t1")) for f in tl for k in f) and any(tl)
