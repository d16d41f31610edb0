"""promtool unit tests generated from each alert's own threshold and duration.

For every alert, two test groups:

* **fires / resolves** — synthetic series that break the threshold from t=0: no alert one evaluation before
  ``for`` has elapsed, firing (with its exact labels) once it has, and nothing again after the series
  recovers and the alert's window has passed;
* **inside** — series that sit just inside the threshold for longer than ``for``: never fires.

Ratio SLOs get a third group: the low-traffic guard keeps a 100 % error ratio on a trickle of requests quiet.
Raw monitors bring their own cases from the catalog.

The series are designed per kind (:class:`Scenario`) so that the condition is already true at the second
sample; the timing arithmetic below is therefore exact, and a test failing means the rule is wrong.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .. import alertmeta
from ..durations import format_duration
from ..model import RawMonitor
from ..promql import escape, matcher_op
from ..templating import render as render_template
from ..resolve import Alert, ResolvedService
from .expressions import burn_windows, ratio_by, slo_labels, threshold_in_metric_units

# ---------------------------------------------------------------------------------------------
# series notation


def fmt(x: float) -> str:
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.12f}".rstrip("0").rstrip(".")


class Values:
    """Builds promtool's expanding notation one segment at a time (each segment = ``n`` samples)."""

    def __init__(self):
        self.parts: list[str] = []
        self.last: float | None = None

    def const(self, v: float, n: int) -> "Values":
        if n > 0:
            self.parts.append(f"{fmt(v)}+0x{n - 1}" if n > 1 else fmt(v))
            self.last = v
        return self

    def ramp(self, step: float, n: int, start: float | None = None) -> "Values":
        """``n`` samples, each ``step`` above the previous (continuing from the last value)."""
        if n <= 0:
            return self
        first = start if start is not None else (self.last or 0) + step
        sign = "+" if step >= 0 else "-"
        self.parts.append(f"{fmt(first)}{sign}{fmt(abs(step))}x{n - 1}" if n > 1 else fmt(first))
        self.last = first + step * (n - 1)
        return self

    def stale(self) -> "Values":
        self.parts.append("stale")
        return self

    def gap(self, n: int) -> "Values":
        if n > 0:
            self.parts.append(f"_x{n}")
        return self

    def __str__(self) -> str:
        return " ".join(self.parts)


def series_name(metric: str, labels: dict[str, str]) -> str:
    if not labels:
        return metric
    inner = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


# ---------------------------------------------------------------------------------------------
# label values that satisfy (or avoid) matchers


def example_value(op: str, pattern: str, want_match: bool) -> str:
    if op == "=":
        return pattern if want_match else f"{pattern}-other"
    if op == "!=":
        return f"{pattern}-other" if want_match else pattern
    rx = re.compile(pattern)
    if op == "=~" and want_match or op == "!~" and not want_match:
        for cand in (pattern.split("|")[0].replace(".", "0").replace("^", "").replace("$", ""), pattern, "a", "0"):
            if rx.fullmatch(cand):
                return cand
        raise ValueError(f"cannot build a label value matching /{pattern}/ for a generated test")
    for cand in ("mlmon-other", "200", "x"):
        if not rx.fullmatch(cand):
            return cand
    raise ValueError(f"cannot build a label value outside /{pattern}/")


def base_labels(rs: ResolvedService, metric: str, matchers: dict[str, str]) -> dict[str, str]:
    """Labels of one synthetic series of ``metric`` that the monitor's selector matches."""
    labels: dict[str, str] = {}
    decl = rs.service.metrics.get(metric)
    for label in (decl.labels if decl else ()) + tuple(rs.service.labels):
        labels[label] = "a"
    merged = dict(rs.service.source.selector)
    merged.update(matchers)
    for label, value in merged.items():
        labels[label] = example_value(*matcher_op(value), want_match=True)
    return labels


def complement_labels(rs: ResolvedService, metric: str, matchers: dict[str, str]) -> dict[str, str] | None:
    """Labels of a series of ``metric`` that the plain metric selector matches but ``matchers`` do not."""
    if not matchers:
        return None
    labels = base_labels(rs, metric, {})
    label, value = sorted(matchers.items())[0]
    labels[label] = example_value(*matcher_op(value), want_match=False)
    return labels


# ---------------------------------------------------------------------------------------------
# scenarios


@dataclass
class Scenario:
    """Series for one alert: ``fires(r, total)`` breaks the threshold for ``r`` samples then recovers;
    ``inside(total)`` stays just inside it. ``t_true``: first second the condition holds under ``fires``;
    ``clear``: seconds after recovery by which it no longer holds; ``value(t)``: what Prometheus computes
    for the alert at second ``t`` of ``fires`` (the ``$value`` of its annotations)."""

    fires: object
    inside: object
    t_true: int
    clear: int
    labels: dict[str, str]
    value: object = None  # value(t): the alert's $value at second t of the `fires` series (before recovery)
    extra_groups: list = field(default_factory=list)


def _margin(threshold: float, op: str, rng, frac: float) -> float:
    """A value on the bad side of the threshold, ``frac`` of the way to the metric's range limit."""
    sign = 1 if op == "above" else -1
    step = abs(threshold) * 0.2 or 1.0
    v = threshold + sign * step * frac
    if rng is not None:
        lo, hi = rng
        limit = hi if op == "above" else lo
        if (v - limit) * sign > 0:
            v = threshold + (limit - threshold) * min(frac, 0.5)
    return v


def _gauge_scenario(rs, a, metric, matchers, op, window, rng, by=None) -> Scenario:
    labels = base_labels(rs, metric, matchers)
    name = series_name(metric, labels)
    bad = _margin(a.threshold, op, rng, 1.0)
    good = _margin(a.threshold, "below" if op == "above" else "above", rng, 1.0)
    inside = _margin(a.threshold, "below" if op == "above" else "above", rng, 0.05)
    out = {k: v for k, v in labels.items() if by is None or k in by}
    return Scenario(
        fires=lambda r, total: [(name, Values().const(bad, r).const(good, total - r))],
        inside=lambda total: [(name, Values().const(inside, total))],
        t_true=0, clear=window, labels=out, value=lambda t: bad)


COUNTER_BASE = 1000.0
DYADIC = 1024


def dyadic(x: float, rounding=round) -> float:
    """``x`` as a multiple of 1/1024. promtool expands ``a+bxn`` by repeated addition while the next segment
    starts from a value computed here; with steps and starts that are multiples of 1/1024 both are exact, so a
    counter never dips by a rounding error at a segment boundary (Prometheus would read that as a reset)."""
    return rounding(x * DYADIC) / DYADIC


def counter_base(*steps: float) -> float:
    """A starting value for synthetic counters. Prometheus' rate() stops extrapolating at the point where a
    counter would have been zero; starting well above zero keeps that rule out of play, so every counter
    extrapolates alike and the values below are exact."""
    return float(max([int(COUNTER_BASE)] + [math.ceil(10 * abs(k)) for k in steps]))


def increase_at(k: float, t: int, window: int, interval: int) -> float:
    """``increase(c[window])`` at second ``t`` for a counter growing by ``k`` per sample from t=0.

    While the window reaches before the first sample, Prometheus extrapolates half a sample interval
    beyond it; once the window is (nearly) covered, the result is exact."""
    if window - t >= 1.1 * interval:
        return k * (t / interval + 0.5)
    return k * window / interval


def _counter_rate_scenario(rs, a, metric, matchers, op, fn, window, interval) -> Scenario:
    """``rate``/``increase`` of a counter against the threshold."""
    labels = base_labels(rs, metric, matchers)
    name = series_name(metric, labels)
    t = a.threshold
    scale = 1.0 if fn == "increase" else 1.0 / window  # rate = increase / window
    early = 1.5 * scale  # value at t=interval per unit of per-sample increment
    full = window / interval * scale
    # per-sample increments, rounded away from the threshold (see dyadic())
    if op == "above":
        k_bad = dyadic(1.2 * t / early, math.ceil) if t > 0 else 1.0  # 1.2x the threshold at the second sample
        k_good = 0.0
        k_inside = dyadic(0.95 * t / full, math.floor) if t > 0 else 0.0
    else:
        k_bad = 0.0
        k_good = dyadic(2 * t / early, math.ceil)
        k_inside = dyadic(1.05 * t / early, math.ceil)
    base = counter_base(k_bad, k_good, k_inside)
    return Scenario(
        fires=lambda r, total: [(name, Values().ramp(k_bad, r, start=base).ramp(k_good, total - r))],
        inside=lambda total: [(name, Values().ramp(k_inside, total, start=base))],
        t_true=interval, clear=window, labels=labels,
        value=lambda at: increase_at(k_bad, at, window, interval) * scale)


def _threshold(rs, a, m, interval) -> Scenario:
    rng = rs.service.metrics[m.metric].range if m.metric in rs.service.metrics else None
    sm = m.smoothing
    if m.denominator is not None:
        return _ratio_threshold(rs, a, m, interval)
    if sm is not None and sm.function in ("rate", "increase"):
        return _counter_rate_scenario(rs, a, m.metric, m.matchers, m.op, sm.function, sm.window, interval)
    window = sm.window if sm else 0
    return _gauge_scenario(rs, a, m.metric, m.matchers, m.op, window, rng, by=m.by)


def _ratio_threshold(rs, a, m, interval) -> Scenario:
    window = m.smoothing.window if m.smoothing else 300
    by = ratio_by(rs, m)
    # large, so rounding the steps to 1/1024 moves the ratio by < 1e-7 (and far above the low-traffic guard)
    per_step = max(6000.0, m.guard * interval / 60 * 10)
    bad_ratio = _margin(a.threshold, m.op, (0.0, 1.0), 1.0)
    good_ratio = _margin(a.threshold, "below" if m.op == "above" else "above", (0.0, 1.0), 1.0)
    inside_ratio = _margin(a.threshold, "below" if m.op == "above" else "above", (0.0, 1.0), 0.05)
    num_labels = base_labels(rs, m.metric, m.matchers)
    den = m.denominator
    series = _split_counters(rs, [(m.metric, m.matchers)], [(den.metric, den.matchers)])

    def build(phases):
        return _counter_phases(series, phases, per_step)

    labels = {k: v for k, v in num_labels.items() if k in by}
    trickle = dyadic(m.guard * interval / 60 * 0.5, math.floor)  # half the guard's events per interval

    def low_traffic(total):
        return _counter_phases(series, [(bad_ratio, total)], trickle)

    return Scenario(
        fires=lambda r, total: build([(bad_ratio, r), (good_ratio, total - r)]),
        inside=lambda total: build([(inside_ratio, total)]),
        t_true=interval, clear=window, labels=labels, value=lambda t: _realized_ratio(series, bad_ratio, per_step),
        extra_groups=[("stays quiet on low traffic (guard)", low_traffic)] if trickle > 0 else [])


def _split_counters(rs, part_sels, total_sels):
    """Series for a part/total pair of counter selectors (errors/requests, failed/processed+failed).

    Returns ``(series, part_in_total)``: ``series`` is ``[(name, role)]`` with role "part" for the
    numerator's series and "rest" for series that only the total counts; ``part_in_total`` says whether
    the total's selectors already count the part's series (so the rest carries ``1 - ratio`` of the
    traffic) or not (a separate total counter carries all of it)."""
    out = []
    part_keys = []
    for metric, matchers in part_sels:
        out.append((series_name(metric, base_labels(rs, metric, matchers)), "part"))
        part_keys.append((metric, matchers))
    part_in_total = False
    for metric, matchers in total_sels:
        if (metric, matchers) in part_keys:
            part_in_total = True
            continue
        covering = [pm for pm in part_keys if pm[0] == metric and all(pm[1].get(k) == v for k, v in matchers.items())]
        if covering:
            part_in_total = True
            for pm, pmatch in covering:
                comp = complement_labels(rs, metric, {k: v for k, v in pmatch.items() if k not in matchers})
                if comp is not None:
                    out.append((series_name(metric, comp), "rest"))
        else:
            out.append((series_name(metric, base_labels(rs, metric, matchers)), "rest"))
    return out, part_in_total


def _phase_steps(split, ratio: float, per_step: float) -> tuple[float, float]:
    """Per-sample increments of each part series and each rest series for a part/total ``ratio``."""
    series, part_in_total = split
    n_parts = sum(1 for _, role in series if role == "part")
    n_rests = sum(1 for _, role in series if role == "rest")
    rest_share = 1 - ratio if part_in_total else 1.0
    return dyadic(per_step * ratio / n_parts), dyadic(per_step * rest_share / n_rests) if n_rests else 0.0


def _realized_ratio(split, ratio: float, per_step: float) -> float:
    """The part/total ratio the rounded increments of :func:`_phase_steps` really produce."""
    series, part_in_total = split
    part, rest = _phase_steps(split, ratio, per_step)
    part_total = part * sum(1 for _, role in series if role == "part")
    rest_total = rest * sum(1 for _, role in series if role == "rest")
    total = part_total + rest_total if part_in_total else rest_total
    return part_total / total


def _counter_phases(split, phases, per_step):
    """Counters whose part/total ratio follows ``phases`` = [(ratio, samples), ...]."""
    series, _ = split
    base = counter_base(per_step)
    out = []
    for name, role in series:
        v = Values()
        for ratio, n in phases:
            step = _phase_steps(split, ratio, per_step)[0 if role == "part" else 1]
            v.ramp(step, n, start=base if not v.parts else None)
        out.append((name, v))
    return out


def _flag(rs, a, m, interval) -> Scenario:
    labels = base_labels(rs, m.metric, m.matchers)
    name = series_name(m.metric, labels)
    other = 0.0 if a.threshold != 0 else 1.0
    return Scenario(
        fires=lambda r, total: [(name, Values().const(a.threshold, r).const(other, total - r))],
        inside=lambda total: [(name, Values().const(other, total))],
        t_true=0, clear=0, labels=labels, value=lambda t: a.threshold)


def _trend(rs, a, m, interval) -> Scenario:
    from .expressions import PER_SECONDS

    labels = base_labels(rs, m.metric, m.matchers)
    name = series_name(m.metric, labels)
    per = PER_SECONDS[m.per]
    t = a.threshold
    sign = -1 if m.op == "below" else 1
    bad_slope = 2 * t if t * sign > 0 else sign * 1.0  # per `per`
    inside_slope = 0.5 * t if t * sign > 0 else 0.0
    rng = rs.service.metrics[m.metric].range if m.metric in rs.service.metrics else None
    start = (rng[0] + rng[1]) / 2 if rng else 100.0
    step_bad = bad_slope / per * interval
    step_inside = inside_slope / per * interval
    return Scenario(
        fires=lambda r, total: [(name, Values().ramp(step_bad, r, start=start).const(start + step_bad * (r - 1), total - r))],
        inside=lambda total: [(name, Values().ramp(step_inside, total, start=start))],
        t_true=interval, clear=m.window, labels=labels, value=lambda t: bad_slope)


def _failures(rs, a, m, interval) -> Scenario:
    labels = base_labels(rs, m.metric, m.matchers)
    name = series_name(m.metric, labels)
    t = a.threshold
    k_bad = dyadic(t + 1, math.ceil)
    k_inside = dyadic(t * interval / m.window * 0.9, math.floor)
    base = counter_base(k_bad)
    return Scenario(
        fires=lambda r, total: [(name, Values().ramp(k_bad, r, start=base).ramp(0, total - r))],
        inside=lambda total: [(name, Values().ramp(k_inside, total, start=base))],
        t_true=interval, clear=m.window, labels=labels,
        value=lambda at: increase_at(k_bad, at, m.window, interval))


STALL_WARMUP = 5  # samples during which the progress counter still moves


def _stalled(rs, a, m, interval) -> Scenario:
    b_labels = base_labels(rs, m.backlog.metric, m.backlog.matchers)
    p_labels = base_labels(rs, m.progress.metric, m.progress.matchers)
    backlog = series_name(m.backlog.metric, b_labels)
    progress = series_name(m.progress.metric, p_labels)
    bad = math.floor(a.threshold) + 1
    w = STALL_WARMUP

    def fires(r, total):
        prog = Values().ramp(1, w, start=COUNTER_BASE).ramp(0, r - w).ramp(1, total - r)
        return [(backlog, Values().const(bad, total)), (progress, prog)]

    return Scenario(
        fires=fires,
        inside=lambda total: [(backlog, Values().const(a.threshold, total)), (progress, Values().const(0, total))],
        t_true=(w - 1) * interval + m.window, clear=interval, labels=b_labels, value=lambda t: bad)


def _latency(rs, a, m, interval) -> Scenario:
    labels = base_labels(rs, m.histogram, m.matchers)
    thr = threshold_in_metric_units(rs, m.histogram, a.threshold)
    bounds = [thr * 0.9, thr, thr * 1.1]
    les = [fmt(b) for b in bounds] + ["+Inf"]
    names = [series_name(f"{m.histogram}_bucket", {**labels, "le": le}) for le in les]
    per_step = 10
    # observations in (0.9 thr, thr] put every quantile just under thr; in (thr, 1.1 thr] just over it
    under = [0, per_step, per_step, per_step]
    over = [0, 0, per_step, per_step]
    bad, good = (over, under) if m.op == "above" else (under, over)

    base = counter_base(per_step)

    def fires(r, total):
        return [(n, Values().ramp(bad[i], r, start=base).ramp(good[i], total - r)) for i, n in enumerate(names)]

    by = ratio_by(rs, m)
    # linear interpolation inside the bucket holding every observation
    lower = bounds[1] if m.op == "above" else bounds[0]
    upper = bounds[2] if m.op == "above" else bounds[1]
    return Scenario(
        fires=fires,
        inside=lambda total: [(n, Values().ramp(good[i], total, start=base)) for i, n in enumerate(names)],
        t_true=interval, clear=m.window, labels={k: v for k, v in labels.items() if k in by},
        value=lambda t: lower + (upper - lower) * m.quantile)


ABSENT_PRESENT = 3  # samples before the series disappears


def _absent(rs, a, m, interval) -> Scenario:
    labels = base_labels(rs, m.metric, m.matchers)
    name = series_name(m.metric, labels)
    merged = dict(rs.service.source.selector)
    merged.update(m.matchers)
    eq = {k: v for k, v in merged.items() if matcher_op(v)[0] == "="}
    p = ABSENT_PRESENT

    def fires(r, total):
        return [(name, Values().const(1, p).stale().gap(r - p - 1).const(1, total - r))]

    return Scenario(
        fires=fires,
        inside=lambda total: [(name, Values().const(1, total))],
        t_true=p * interval, clear=0, labels=eq, value=lambda t: 1.0)


def _ratio(rs, a, m, interval) -> Scenario:
    budget = 1 - a.threshold
    factors = [b.factor(m.period) for rows in burn_windows().values() for b in rows]
    bad_ratio = min(1.0, max(factors) * budget * 1.5)
    if bad_ratio <= max(factors) * budget:
        bad_ratio = 1.0
    inside_ratio = min(factors) * budget * 0.9
    part = m.bad if m.bad is not None else m.good
    part_sels = [(s.metric, s.matchers) for s in part]
    total_sels = [(s.metric, s.matchers) for s in m.total]
    series = _split_counters(rs, part_sels, total_sels)
    per_step = 600.0
    as_part = (lambda r: r) if m.bad is not None else (lambda r: 1 - r)
    _error_ratio = as_part  # the recorded error ratio from the part's realized share (1 - good share)
    shorts = [b.short for b in burn_windows()[a.burn]]
    labels = dict(slo_labels(rs, m))
    first = base_labels(rs, part[0].metric, part[0].matchers)
    labels.update({k: v for k, v in first.items() if k in ratio_by(rs, m)})
    trickle = dyadic(m.min_events * interval / 60 * 0.5, math.floor)  # half the guard's events per interval

    def low_traffic(total):
        return _counter_phases(series, [(as_part(1.0), total)], trickle)

    return Scenario(
        fires=lambda r, total: _counter_phases(series, [(as_part(bad_ratio), r), (as_part(0.0), total - r)], per_step),
        inside=lambda total: _counter_phases(series, [(as_part(inside_ratio), total)], per_step),
        t_true=interval, clear=max(shorts), labels=labels,
        value=lambda t: _error_ratio(_realized_ratio(series, as_part(bad_ratio), per_step)),
        extra_groups=[("stays quiet on low traffic (guard)", low_traffic)] if m.min_events > 0 else [])


SCENARIOS = {
    "threshold": _threshold, "flag": _flag, "trend": _trend, "failures": _failures, "stalled": _stalled,
    "latency": _latency, "absent": _absent, "ratio": _ratio,
}


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
    if isinstance(a.monitor, RawMonitor):
        return _raw_tests(a, rs, rule_labels, iv)
    sc = SCENARIOS[a.kind](rs, a, a.monitor, interval)
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
    for title, build in sc.extra_groups:
        groups.append({"name": f"{a.name}: {title}", "interval": iv, "input_series": _input(build(quiet_total)),
                       "alert_rule_test": [{"eval_time": format_duration(quiet_at), "alertname": a.name,
                                            "exp_alerts": []}]})
    return groups


def expected_annotations(a: Alert, rs: ResolvedService, value: float, labels: dict[str, str]) -> dict[str, str]:
    return {k: render_template(v, value, labels) for k, v in alertmeta.annotations(a, rs).items()}


def _raw_tests(a: Alert, rs: ResolvedService, rule_labels: dict, iv: str) -> list[dict]:
    cases = a.monitor.tests
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


def test_file(rs: ResolvedService) -> dict:
    tests = []
    for a in rs.alerts:
        tests.extend(alert_tests(a, rs))
    return {
        "rule_files": [f"{rs.name}.rules.yaml"],
        "evaluation_interval": format_duration(rs.defaults.evaluation_interval),
        "tests": tests,
    }
