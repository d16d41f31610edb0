"""``kind: trend``: the least-squares slope over ``window``, in units of the metric per ``per``, against a bound.

``deriv()`` is per second; mlmon scales it, so ``threshold: -0.01, per: hour`` means "falls by more than 0.01
per hour"."""

from __future__ import annotations

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (NUMBER, PER_SECONDS, KindSpec, MetricUse, legend, levels, metric_range, no_recording_rules,
                        no_warnings, panels_of, series_labels, thresholds)
from ..model import TrendMonitor
from ..prometheus import series as ps
from ..promql import CMP, dur, num, selector, side
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal


def lhs(rs: ResolvedService, m: TrendMonitor) -> str:
    """The slope, scaled to units per ``m.per``."""
    s = selector(rs.service, m.metric, m.matchers)
    scale = PER_SECONDS[m.per]
    return f"deriv({s}[{dur(m.window)}])" + (f" * {scale}" if scale != 1 else "")


def expr(a: Alert, rs: ResolvedService) -> str:
    return f"{lhs(rs, a.monitor)} {CMP[a.monitor.op]} {num(a.threshold)}"


def signals(m: TrendMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    title = f"slope of {m.metric} per {m.per}"
    if not rs.is_prometheus:
        return (cw.alarm_signal(title, "short", m, rs, cloudwatch),)
    q = Query(lhs(rs, m), legend(series_labels(rs, m.metric)) or m.name)
    return (Signal(f"{title} over {d(m.window)}", (q,), "short", m.op, levels(rs, m)),)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    labels = ps.base_labels(rs, m.metric, m.matchers)
    name = ps.series_name(m.metric, labels)
    per = PER_SECONDS[m.per]
    t = a.threshold
    sign = -1 if side(m.op) == "below" else 1
    bad_slope = 2 * t if t * sign > 0 else sign * 1.0  # per `per`
    inside_slope = 0.5 * t if t * sign > 0 else 0.0
    rng = rs.service.metrics[m.metric].range if m.metric in rs.service.metrics else None
    start = (rng[0] + rng[1]) / 2 if rng else 100.0
    step_bad = bad_slope / per * interval
    step_inside = inside_slope / per * interval
    window = m.window // interval  # samples deriv() sees

    def fires(r, total):
        rise = recovery_step(start, step_bad, r, total, window, t, bad_slope, per / interval, rng)
        if rise is None:  # hold the last value: the slope clears once the window has passed the ramp
            return [(name, ps.Values().ramp(step_bad, r, start=start).const(start + step_bad * (r - 1), total - r))]
        return [(name, ps.Values().ramp(step_bad, r, start=start).ramp(rise, total - r))]

    fast = recovery_step(start, step_bad, for_samples(a, interval) + 3, for_samples(a, interval) + 8, window, t,
                         bad_slope, per / interval, rng) is not None
    return ps.Scenario(
        fires=fires,
        inside=lambda total: [(name, ps.Values().ramp(step_inside, total, start=start))],
        t_true=interval, clear=interval if fast else m.window, labels=labels, value=lambda t: bad_slope)


def for_samples(a: Alert, interval: int) -> int:
    return -(-a.for_ // interval)


def _slope(values: list[float]) -> float:
    """Least-squares slope per sample (what deriv() computes, per sample interval)."""
    n = len(values)
    if n < 2:
        return 0.0
    mt, mv = (n - 1) / 2, sum(values) / n
    return sum((i - mt) * (v - mv) for i, v in enumerate(values)) / sum((i - mt) ** 2 for i in range(n))


def recovery_step(start, step_bad, r, total, window, threshold, bad_slope, per_sample, rng):
    """The per-sample rise after the bad ramp that puts the slope deriv() sees on the good side of the threshold
    from the first recovered sample on, by half the bad slope's distance to it at every later sample too; so the
    alert resolves at the next evaluation instead of once the window has passed the ramp. ``None`` when no rise
    within the metric's range does (then the caller holds the value and waits for the window)."""
    bad = [start + step_bad * i for i in range(r)]
    mirror = threshold - 1.5 * (bad_slope - threshold)  # as far on the good side as 1.5x the bad slope's overshoot
    lo = max(0, r + 1 - window)
    base = bad[lo:] + [bad[-1]]
    coeff = (len(base) - 1 - (len(base) - 1) / 2) / sum((i - (len(base) - 1) / 2) ** 2 for i in range(len(base)))
    rise = (mirror / per_sample - _slope(base)) / coeff
    values = bad + [bad[-1] + rise * k for k in range(1, total - r + 1)]
    if rng is not None and not all(rng[0] <= v <= rng[1] for v in values):
        return None
    margin = 0.5 * abs(bad_slope - threshold)
    for j in range(r, len(values)):
        slope = _slope(values[max(0, j + 1 - window):j + 1]) * per_sample
        if (slope - threshold) * (1 if bad_slope < threshold else -1) < margin:
            return None
    return rise


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.Plan:
    """CloudWatch has no regression: the slope is the change between the averages of the window's two halves."""
    m = a.monitor
    p = m.window // 2
    if m.window % 2 or not cw.valid_period(p) or p < cw.metric_resolution(rs, m.metric):
        raise cw.Unsupported(m, ("window",), (
            f"a trend over {d(m.window)} compares the averages of its two halves, so half the window "
            f"({d(m.window // 2) if m.window % 2 == 0 else str(m.window / 2) + 's'}) must be a CloudWatch period "
            "(10s, 20s, 30s or a multiple of 1m) no shorter than the metric's resolution"))
    cw.period(rs, m, p, m.metric, ("window",), "half the trend window")
    ref = cw.metric_ref(rs, m, m.metric, m.matchers, ())
    queries = [cw.stat_query("m1", ref, p, "Average", cw.unit(rs, m.metric))]
    scale = PER_SECONDS[m.per]
    expression = "RATE(m1)" + (f" * {scale}" if scale != 1 else "")
    return cw.math(queries, expression, f"slope of {m.metric} per {m.per}", period=p, operator=cw.OPERATOR[m.op],
                   threshold=a.threshold, treat_missing=cw.TREAT_MISSING["trend"],
                   facts=f"RATE of {d(p)} averages", extra_periods=1)


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    return f"slope of {m.metric} over {d(m.window)} {CMP[m.op]} {num(a.threshold)} per {m.per}"


def value(a: Alert, rs: ResolvedService) -> str:
    """The slope in the threshold's unit: the metric per ``per``."""
    return f"{NUMBER} per {a.monitor.per}"


def metrics(m: TrendMonitor):
    yield MetricUse(("metric",), m.metric, ("gauge",))


def check(m: TrendMonitor, svc):
    rng = metric_range(svc, m.metric)
    if rng is None:
        return
    lo, hi = rng
    per = PER_SECONDS[m.per]
    possible = (hi - lo) / m.window * per  # steepest sustained slope, in units per `per`
    for path, t in thresholds(m):
        if abs(t) > possible or (side(m.op) == "below" and t <= -possible) or (side(m.op) == "above" and t >= possible):
            yield path, (
                f"a slope of {num(t)} per {m.per} over {m.window // 3600 or m.window}"
                f"{'h' if m.window >= 3600 else 's'} can never be reached: {m.metric} ranges over "
                f"[{num(lo)}, {num(hi)}], so it changes by at most {num(round(possible, 6))} per {m.per} "
                f"across that window (deriv() is per second; use `per:` to state the unit)")


KIND = KindSpec(
    name="trend", model=TrendMonitor, requires_threshold=True, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    value=value, metrics=metrics, check=check, warnings=no_warnings)
