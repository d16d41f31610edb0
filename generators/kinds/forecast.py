"""``kind: forecast``: where a gauge is heading. ``predict_linear(metric[window], horizon)`` fits a
least-squares line to the last ``window`` of samples and extends it ``horizon`` ahead; the alert compares that
value with ``threshold`` (default 0): free disk below 0 within 4h, a queue above its capacity within 2h."""

from __future__ import annotations

import math

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (KindSpec, MetricUse, grafana_unit, legend, levels, metric_value, no_recording_rules, no_warnings,
                        panels_of, series_labels)
from ..model import ForecastMonitor
from ..prometheus import series as ps
from ..promql import CMP, dur, num, selector, side
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal


def lhs(rs: ResolvedService, m: ForecastMonitor) -> str:
    """The metric's value ``horizon`` from now on the line fitted over ``window`` (``predict_linear`` takes
    seconds)."""
    return f"predict_linear({selector(rs.service, m.metric, m.matchers)}[{dur(m.window)}], {num(m.horizon)})"


def expr(a: Alert, rs: ResolvedService) -> str:
    return f"{lhs(rs, a.monitor)} {CMP[a.monitor.op]} {num(a.threshold)}"


def signals(m: ForecastMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    title = f"{m.metric} in {d(m.horizon)} (linear forecast over {d(m.window)})"
    unit = grafana_unit(rs, m.metric)
    if not rs.is_prometheus:
        return (cw.alarm_signal(title, unit, m, rs, cloudwatch),)
    q = Query(lhs(rs, m), legend(series_labels(rs, m.metric)) or m.name)
    return (Signal(title, (q,), unit, m.op, levels(rs, m),
                   note=f"The line fitted to the last {d(m.window)} of {m.metric}, {d(m.horizon)} ahead."),)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    """Linear series, so the fitted line is the series itself: the forecast at second t is v(t) + slope * horizon.

    ``fires``: from ``start`` (``margin`` on the good side of the threshold) the metric moves towards it at
    2 * margin per horizon, so the forecast is already ``margin`` past the threshold at the second sample;
    on recovery it jumps back to ``start`` and stays (the line is flat once the window holds only those).
    ``inside``: it moves towards the threshold slowly enough that the forecast stays half a margin short of
    it until the end of the series."""
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    labels = ps.base_labels(rs, m.metric, m.matchers)
    name = ps.series_name(m.metric, labels)
    sign = -1 if side(m.op) == "below" else 1  # the direction that is bad
    margin = ps.dyadic(max(abs(a.threshold) * 0.5, 1.0), math.ceil)
    start = a.threshold - sign * margin
    step_bad = sign * ps.dyadic(2 * margin * interval / m.horizon, math.ceil)  # per sample

    def fires(r, total):
        return [(name, ps.Values().ramp(step_bad, r, start=start).const(start, total - r))]

    def inside(total):
        step = ps.dyadic(0.5 * margin * interval / (total * interval + m.horizon), math.floor)
        return [(name, ps.Values().ramp(sign * step, total, start=start))]

    return ps.Scenario(
        fires=fires, inside=inside, t_true=interval, clear=m.window, labels=labels,
        value=lambda t: start + step_bad * (t // interval) + step_bad / interval * m.horizon)


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.Plan:
    """CloudWatch has no regression: the average of the window's second half, plus the slope between the two
    halves' averages (``RATE``, per second) times the horizon and the quarter window back to the half's centre."""
    m = a.monitor
    p = m.window // 2
    if m.window % 2 or not cw.valid_period(p) or p < cw.metric_resolution(rs, m.metric):
        raise cw.Unsupported(m, ("window",), (
            f"a forecast over {d(m.window)} extends the slope between the averages of its two halves, so half the "
            f"window ({d(m.window // 2) if m.window % 2 == 0 else str(m.window / 2) + 's'}) must be a CloudWatch "
            "period (10s, 20s, 30s or a multiple of 1m) no shorter than the metric's resolution"))
    cw.period(rs, m, p, m.metric, ("window",), "half the forecast window")
    ref = cw.metric_ref(rs, m, m.metric, m.matchers, ())
    queries = [cw.stat_query("m1", ref, p, "Average", cw.unit(rs, m.metric))]
    ahead = m.horizon + p // 2  # from the centre of the last period to `horizon` from now
    return cw.math(queries, f"m1 + RATE(m1) * {num(ahead)}", f"{m.metric} in {d(m.horizon)}", period=p,
                   operator=cw.OPERATOR[m.op], threshold=a.threshold, treat_missing=cw.TREAT_MISSING["trend"],
                   facts=f"{d(p)} average + RATE of {d(p)} averages x {d(ahead)}", extra_periods=1)


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    return (f"{m.metric} forecast {d(m.horizon)} ahead (linear fit over {d(m.window)}) "
            f"{CMP[m.op]} {num(a.threshold)}")


def value(a: Alert, rs: ResolvedService) -> str:
    """The forecast value, in the metric's own unit (the threshold's)."""
    return metric_value(rs, a.monitor.metric)


def metrics(m: ForecastMonitor):
    yield MetricUse(("metric",), m.metric, ("gauge",))


def check(m: ForecastMonitor, svc):
    if m.window < 120:
        yield ("window",), f"a line needs at least two samples: a window of {d(m.window)} is too short (use >= 2m)"


KIND = KindSpec(
    name="forecast", model=ForecastMonitor, requires_threshold=False, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    value=value, metrics=metrics, check=check, warnings=no_warnings)
