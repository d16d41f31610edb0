"""Every monitor kind (and variant) renders PromQL that parses, and its generated promtool tests pass."""

from __future__ import annotations

import subprocess

import pytest

from conftest import requires_promtool
from generators.loader import load_catalog
from generators.render import render, serialize_all, write_atomic
from generators.resolve import resolve
from generators.prometheus.rules import rule_file

ALL_KINDS = """\
service: kinds
team: ml
namespace: ml
labels: [model]
source: {type: prometheus, selector: {job: kinds}}
metrics:
  score: {type: gauge, range: [0, 1], labels: [model]}
  depth: {type: gauge, range: [0, 1000], labels: [model]}
  requests_total: {type: counter, labels: [model, code]}
  errors_total: {type: counter, labels: [model]}
  done_total: {type: counter, labels: [model]}
  latency_seconds: {type: histogram, unit: seconds, labels: [model]}
  drift: {type: gauge, range: [0, 1], labels: [model]}
monitors:
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.6, for: 5m, severity: warning}
  - {name: ScoreAvgLow, kind: threshold, metric: score, op: below, smoothing: {function: avg, window: 10m},
     threshold: 0.6, for: 2m, severity: warning}
  - {name: ScoreMinLow, kind: threshold, metric: score, op: below, smoothing: {function: min, window: 10m},
     threshold: 0.2, for: 0s, severity: critical}
  - {name: DepthP90High, kind: threshold, metric: depth, smoothing: {function: quantile, quantile: 0.9, window: 30m},
     threshold: 50, for: 5m, severity: ticket}
  - {name: RequestRateLow, kind: threshold, metric: requests_total, op: below, smoothing: {function: rate, window: 5m},
     threshold: 2, for: 5m, severity: warning}
  - {name: ErrorBurst, kind: threshold, metric: errors_total, smoothing: {function: increase, window: 10m},
     threshold: 5, for: 1m, severity: warning}
  - {name: ServerErrorRatio, kind: threshold, metric: requests_total, matchers: {code: "=~5.."},
     denominator: requests_total, smoothing: {function: rate, window: 5m}, threshold: 0.02, for: 5m, severity: critical}
  - {name: DriftDetected, kind: flag, metric: drift, for: 10m, severity: warning}
  - {name: ScoreRising, kind: trend, metric: score, window: 1h, per: hour, op: above, threshold: 0.05, for: 10m,
     severity: info}
  - {name: ErrorsSeen, kind: failures, metric: errors_total, window: 10m, severity: page}
  - {name: QueueStalled, kind: stalled, backlog: depth, progress: done_total, window: 20m, threshold: 5, severity: page}
  - {name: Availability, kind: ratio, good: {metric: requests_total, matchers: {code: "!~5.."}},
     total: requests_total, threshold: 0.995, severity: page}
  - {name: SlowRequests, kind: latency, histogram: latency_seconds, quantile: 0.99, window: 5m, threshold: 0.25,
     for: 5m, severity: warning}
  - {name: ScoreMissing, kind: absent, metric: score, matchers: {model: main}, for: 5m, severity: warning}
  - {name: DepthFullSoon, kind: forecast, metric: depth, window: 1h, horizon: 2h, op: above, threshold: 1000,
     for: 10m, severity: warning}
  - {name: DoneResets, kind: changes, function: resets, metric: done_total, window: 30m, threshold: 1,
     severity: ticket}
  - name: CustomRule
    kind: raw
    expr: sum(rate(errors_total[5m])) > 1
    for: 1m
    severity: warning
    tests:
      fires: {input: [{series: 'errors_total{model="a"}', values: "0+120x20"}], at: 5m, value: 2}
      silent: {input: [{series: 'errors_total{model="a"}', values: "0+10x20"}], at: 5m}
"""


@pytest.fixture(scope="module")
def kinds_catalog(tmp_path_factory):
    root = tmp_path_factory.mktemp("kinds") / "alerts"
    root.mkdir()
    (root / "kinds.yaml").write_text(ALL_KINDS)
    return load_catalog(root)


def exprs(catalog, env="prod"):
    rs = resolve(catalog, env)[0]
    return {r["alert"]: " ".join(r["expr"].split()) for g in rule_file(rs)["groups"] for r in g["rules"] if "alert" in r}


def test_every_kind_is_covered(kinds_catalog):
    from generators.model import KINDS

    assert {m.kind for m in kinds_catalog.services[0].monitors} == set(KINDS)


def test_expressions(kinds_catalog):
    e = exprs(kinds_catalog)
    sel = 'job="kinds"'
    assert e["ScoreLow"] == f"score{{{sel}}} < 0.6"
    assert e["ScoreAvgLow"] == f"avg_over_time(score{{{sel}}}[10m]) < 0.6"
    assert e["ScoreMinLow"] == f"min_over_time(score{{{sel}}}[10m]) < 0.2"
    assert e["DepthP90High"] == f"quantile_over_time(0.9, depth{{{sel}}}[30m]) > 50"
    assert e["RequestRateLow"] == f"rate(requests_total{{{sel}}}[5m]) < 2"
    assert e["ErrorBurst"] == f"increase(errors_total{{{sel}}}[10m]) > 5"
    assert e["ServerErrorRatio"] == (f'( sum by (model) (rate(requests_total{{code=~"5..",{sel}}}[5m])) / '
                                     f"sum by (model) (rate(requests_total{{{sel}}}[5m])) ) > 0.02 "
                                     f"and sum by (model) (rate(requests_total{{{sel}}}[5m])) * 60 >= 1")
    assert e["DriftDetected"] == f"drift{{{sel}}} == 1"
    assert e["ScoreRising"] == f"deriv(score{{{sel}}}[1h]) * 3600 > 0.05"
    errors = f"errors_total{{{sel}}}"
    assert e["ErrorsSeen"] == (f"((({errors} unless {errors} offset 10m) and on (job, instance) up offset 10m) "
                               f"or increase({errors}[10m])) > 0")
    done = f"done_total{{{sel}}}"
    assert e["QueueStalled"] == (f"( depth{{{sel}}} > 5 and min_over_time(depth{{{sel}}}[5m]) > 5 "
                                 f"and on (model, instance) depth{{{sel}}} offset 20m ) unless on (model, instance) "
                                 f"( ((({done} unless {done} offset 20m) and on (job, instance) up offset 20m) "
                                 f"or increase({done}[20m])) > 0 )")
    assert e["SlowRequests"] == (f"histogram_quantile(0.99, sum by (le, model) "
                                 f"(rate(latency_seconds_bucket{{{sel}}}[5m]))) > 0.25")
    assert e["ScoreMissing"] == f'absent(score{{{sel},model="main"}})'
    assert e["CustomRule"] == "sum(rate(errors_total[5m])) > 1"
    assert "AvailabilityFastBurn" in e and "AvailabilitySlowBurn" in e
    assert "> (14.4 * 0.005)" in e["AvailabilityFastBurn"]


def test_ratio_good_form_records_one_minus_good_ratio(kinds_catalog):
    rs = resolve(kinds_catalog, "prod")[0]
    group = next(g for g in rule_file(rs)["groups"] if g["name"] == "kinds.slo.Availability")
    rec = next(r for r in group["rules"] if r.get("record") == "mlmon_slo:error_ratio:rate1h")
    assert " ".join(rec["expr"].split()) == (
        'sum by (model) (rate(requests_total{code!~"5..",job="kinds"}[1h])) / '
        'sum by (model) (rate(requests_total{job="kinds"}[1h])) )'.join(["1 - ( ", ""]))


@requires_promtool
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_promtool_passes_for_every_kind(kinds_catalog, tmp_path, env):
    out = tmp_path / "out"
    write_atomic(serialize_all(render(kinds_catalog, env)), out)
    prom = out / "prometheus"
    r = subprocess.run(["promtool", "check", "rules", "kinds.rules.yaml"], capture_output=True, text=True, cwd=prom)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["promtool", "test", "rules", "kinds.tests.yaml"], capture_output=True, text=True, cwd=prom)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]


AWKWARD = """\
service: awkward
team: ml
metrics:
  req_total: {type: counter, labels: [code]}
  err_total: {type: counter}
  ok_total: {type: counter}
monitors:
  - {name: ErrRatio, kind: threshold, metric: req_total, matchers: {code: "=~5.."}, denominator: req_total,
     smoothing: {function: rate, window: 7m}, threshold: 0.0371, for: 3m, severity: warning, min_events: 2.7}
  - {name: ErrRatioUnguarded, kind: threshold, metric: err_total, denominator: req_total, min_events: 0,
     smoothing: {function: rate, window: 7m}, threshold: 0.0371, for: 3m, severity: warning}
  - {name: ErrIncrease, kind: threshold, metric: err_total, smoothing: {function: increase, window: 13m},
     threshold: 7.3, for: 2m, severity: warning}
  - {name: ReqRateLow, kind: threshold, metric: req_total, op: below, smoothing: {function: rate, window: 9m},
     threshold: 0.013, for: 4m, severity: warning}
  - {name: ErrSeen, kind: failures, metric: err_total, window: 11m, threshold: 0.3, severity: page}
  - {name: Success, kind: ratio, good: ok_total, total: [ok_total, err_total], threshold: 0.9973,
     min_events: 0.7, severity: page}
"""


@requires_promtool
def test_promtool_passes_with_thresholds_that_are_not_binary_fractions(tmp_path):
    """Counter steps derived from such thresholds are rounded to 1/1024 in the generated series; otherwise
    promtool's repeated addition and the next segment's start disagree in the last bit and Prometheus sees
    a counter reset at the boundary."""
    root = tmp_path / "alerts"
    root.mkdir()
    (root / "awkward.yaml").write_text(AWKWARD)
    out = tmp_path / "out"
    write_atomic(serialize_all(render(load_catalog(root), "prod")), out)
    prom = out / "prometheus"
    r = subprocess.run(["promtool", "test", "rules", "awkward.tests.yaml"], capture_output=True, text=True, cwd=prom)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]


def _expand_like_promtool(values: str) -> list[float]:
    """promtool's expanding notation, with its repeated float addition (`a+bxn`: a, a+b, a+b+b, ...)."""
    import re as _re

    out: list[float] = []
    for tok in values.split():
        if tok == "stale" or tok.startswith("_"):
            continue
        m = _re.fullmatch(r"(-?[0-9.]+)([+-])([0-9.]+)x([0-9]+)", tok)
        if not m:
            out.append(float(tok))
            continue
        cur, step = float(m.group(1)), float(m.group(3)) * (1 if m.group(2) == "+" else -1)
        out.append(cur)
        for _ in range(int(m.group(4))):
            cur += step
            out.append(cur)
    return out


@pytest.mark.parametrize("catalog_text", [AWKWARD, ALL_KINDS], ids=["awkward", "all-kinds"])
def test_generated_counter_series_never_decrease(tmp_path, catalog_text):
    """A counter that dips by one rounding error at a segment boundary is a reset to Prometheus."""
    root = tmp_path / "alerts"
    root.mkdir()
    name = "awkward" if catalog_text is AWKWARD else "kinds"
    (root / f"{name}.yaml").write_text(catalog_text)
    cat = load_catalog(root)
    counters = {m for m, d in cat.services[0].metrics.items() if d.type in ("counter", "histogram")}
    tests = next(a for a in render(cat, "prod") if a.path.endswith(".tests.yaml")).content
    checked = 0
    resets = tuple(f"{m.name}:" for m in cat.services[0].monitors if getattr(m, "function", None) == "resets")
    reset_metrics = {m.metric for m in cat.services[0].monitors if getattr(m, "function", None) == "resets"}
    for group in tests["tests"]:
        # a resets() monitor's series drop on purpose: each drop is a reset (packed groups list their members;
        # members never share a metric, so such a series is the resets monitor's)
        resetting = any(n.startswith(resets) for n in group["name"].split(" | "))
        for s in group["input_series"]:
            metric = s["series"].split("{")[0].removesuffix("_bucket")
            if resetting and s["series"].split("{")[0] in reset_metrics:
                continue
            if metric in counters:
                vals = _expand_like_promtool(s["values"])
                assert all(b >= a for a, b in zip(vals, vals[1:])), (group["name"], s["series"])
                checked += 1
    assert checked > 10


def test_ratio_guard_can_be_set_or_turned_off(tmp_path):
    root = tmp_path / "alerts"
    root.mkdir()
    (root / "awkward.yaml").write_text(AWKWARD)
    e = exprs(load_catalog(root))
    assert e["ErrRatio"].endswith("* 60 >= 2.7")
    assert " and " not in e["ErrRatioUnguarded"]
    tests = next(a for a in render(load_catalog(root), "prod") if a.path.endswith(".tests.yaml")).content
    names = {m for g in tests["tests"] for m in g["name"].split(" | ")}  # packed groups list their members
    assert "ErrRatio: stays quiet on low traffic (guard)" in names
    assert "ErrRatioUnguarded: stays quiet on low traffic (guard)" not in names
