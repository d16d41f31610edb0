"""``kind: threshold``: a gauge or score, optionally smoothed over a window, or the ratio of two counters'
rates (``denominator``), above or below a bound."""

from __future__ import annotations

import math

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (RATIO_WINDOW, KindSpec, MetricUse, as_written, grafana_unit, legend, levels, metric_range,
                        no_recording_rules, panels_of, ratio_by, series_labels, unit_range, unreachable)
from ..model import ThresholdMonitor
from ..prometheus import series as ps
from ..promql import CMP, by_clause, dur, num, opposite, sel, selector, side
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal

SMOOTHING_STAT = {"avg": "Average", "min": "Minimum", "max": "Maximum", "increase": "Sum"}


def window(m: ThresholdMonitor) -> int:
    """The window of a ratio (``denominator``): the smoothing window, else the default."""
    return m.smoothing.window if m.smoothing else RATIO_WINDOW


# --- Prometheus -------------------------------------------------------------------------------------------


def lhs(rs: ResolvedService, m: ThresholdMonitor) -> str:
    """What the alert compares against its threshold (dashboards plot it)."""
    s = selector(rs.service, m.metric, m.matchers)
    sm = m.smoothing
    if m.denominator is not None:
        w = dur(window(m))
        by = by_clause(ratio_by(rs, m))
        return (f"sum {by}(rate({s}[{w}]))\n/\n"
                f"sum {by}(rate({sel(rs.service, m.denominator)}[{w}]))")
    if sm is None:
        out = s
    elif sm.function in ("rate", "increase"):
        out = f"{sm.function}({s}[{dur(sm.window)}])"
    elif sm.function == "quantile":
        out = f"quantile_over_time({num(sm.quantile)}, {s}[{dur(sm.window)}])"
    else:
        out = f"{sm.function}_over_time({s}[{dur(sm.window)}])"
    if m.by:
        out = f"max {by_clause(m.by)}({out})" if side(m.op) == "above" else f"min {by_clause(m.by)}({out})"
    return out


def events(rs: ResolvedService, m: ThresholdMonitor) -> str:
    """Events per second in a ratio's denominator over its window (what the low-traffic guard reads)."""
    return f"sum {by_clause(ratio_by(rs, m))}(rate({sel(rs.service, m.denominator)}[{dur(window(m))}]))"


def expr(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    if m.denominator is None:
        return f"{lhs(rs, m)} {CMP[m.op]} {num(a.threshold)}"
    cond = f"(\n{lhs(rs, m)}\n) {CMP[m.op]} {num(a.threshold)}"
    if m.guard > 0:  # low-traffic guard: a handful of requests must not decide the ratio
        cond += f"\nand\n{events(rs, m)} * 60 >= {num(m.guard)}"
    return cond


def _title_unit(rs: ResolvedService, m: ThresholdMonitor) -> tuple[str, str]:
    if m.denominator is not None:
        return f"{m.metric} / {m.denominator.metric}", "percentunit"
    fn = m.smoothing.function if m.smoothing else None
    unit = "ops" if fn == "rate" else "short" if fn == "increase" else grafana_unit(rs, m.metric)
    return m.metric, unit


def signals(m: ThresholdMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    title, unit = _title_unit(rs, m)
    if not rs.is_prometheus:
        return (cw.alarm_signal(title, unit, m, rs, cloudwatch),)
    fn = m.smoothing.function if m.smoothing else None
    lo = hi = None
    if m.denominator is not None:
        labels = ratio_by(rs, m)
    else:
        labels = list(m.by) if m.by else series_labels(rs, m.metric)
        if fn not in ("rate", "increase"):
            lo, hi = unit_range(rs, m.metric)
        if m.smoothing is not None:
            what = f"p{num(m.smoothing.quantile * 100)}" if fn == "quantile" else fn
            title = f"{m.metric} ({what} over {d(m.smoothing.window)})"
    return (Signal(title, (Query(lhs(rs, m), legend(labels) or m.name),), unit, m.op, levels(rs, m), lo, hi),)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    rng = rs.service.metrics[m.metric].range if m.metric in rs.service.metrics else None
    sm = m.smoothing
    if m.denominator is not None:
        return _ratio_scenario(a, rs, interval)
    if sm is not None and sm.function in ("rate", "increase"):
        return ps.counter_rate_scenario(rs, a, m.metric, m.matchers, m.op, sm.function, sm.window, interval)
    return ps.gauge_scenario(rs, a, m.metric, m.matchers, m.op, sm.window if sm else 0, rng, by=m.by)


def _ratio_scenario(a: Alert, rs: ResolvedService, interval: int) -> ps.Scenario:
    m = a.monitor
    by = ratio_by(rs, m)
    # large, so rounding the steps to 1/1024 moves the ratio by < 1e-7 (and far above the low-traffic guard)
    per_step = max(6000.0, m.guard * interval / 60 * 10)
    bad_ratio = ps.margin(a.threshold, m.op, (0.0, 1.0), 1.0)
    good_ratio = ps.margin(a.threshold, opposite(m.op), (0.0, 1.0), 1.0)
    inside_ratio = ps.margin(a.threshold, opposite(m.op), (0.0, 1.0), 0.05)
    num_labels = ps.base_labels(rs, m.metric, m.matchers)
    den = m.denominator
    series = ps.split_counters(rs, [(m.metric, m.matchers)], [(den.metric, den.matchers)])

    def build(phases):
        return ps.counter_phases(series, phases, per_step)

    labels = {k: v for k, v in num_labels.items() if k in by}
    trickle = ps.dyadic(m.guard * interval / 60 * 0.5, math.floor)  # half the guard's events per interval

    def low_traffic(total):
        return ps.counter_phases(series, [(bad_ratio, total)], trickle)

    return ps.Scenario(
        fires=lambda r, total: build([(bad_ratio, r), (good_ratio, total - r)]),
        inside=lambda total: build([(inside_ratio, total)]),
        t_true=interval, clear=window(m), labels=labels,
        value=lambda t: ps.realized_ratio(series, bad_ratio, per_step),
        extra_groups=[("stays quiet on low traffic (guard)", low_traffic)] if trickle > 0 else [])


# --- CloudWatch -------------------------------------------------------------------------------------------


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.Plan:
    m = a.monitor
    cw.no_by(m, ": an alarm watches one series; set the metric's dimensions "
                "(metrics.<name>.cloudwatch.dimensions) or exact matchers instead")
    sm = m.smoothing
    op = cw.OPERATOR[m.op]
    ref = cw.metric_ref(rs, m, m.metric, m.matchers, ())
    unit = cw.unit(rs, m.metric)
    if m.denominator is not None:
        p = cw.period(rs, m, window(m), m.metric, ("smoothing", "window"), "the smoothing window")
        den = cw.metric_ref(rs, m, m.denominator.metric, m.denominator.matchers, ("denominator",))
        queries = [cw.stat_query("m1", ref, p, "Sum", {}), cw.stat_query("m2", den, p, "Sum", {})]
        label = f"{m.metric} / {m.denominator.metric}"
        expression, facts = "m1 / m2", f"Sum(m1) / Sum(m2), {d(p)} periods"
        if m.guard > 0:  # low-traffic guard: no datapoint (not breaching) while too few events arrive
            least = num(round(m.guard * p / 60, 9))
            expression, facts = f"IF(m2 >= {least}, m1 / m2)", f"{facts}, judged while Sum(m2) >= {least}"
        return cw.math(queries, expression, label, period=p, operator=op, threshold=a.threshold,
                       treat_missing=cw.TREAT_MISSING["threshold_ratio"], facts=facts)
    if sm is None:
        res = cw.metric_resolution(rs, m.metric)
        return cw.single(ref, res, cw.statistic(rs, m.metric, "Average"), unit, operator=op, threshold=a.threshold,
                         treat_missing=cw.TREAT_MISSING["threshold"], label=m.metric)
    p = cw.period(rs, m, sm.window, m.metric, ("smoothing", "window"), "the smoothing window")
    if sm.function == "rate":
        return cw.math([cw.stat_query("m1", ref, p, "Sum", unit)], "m1 / PERIOD(m1)", f"{m.metric} per second",
                       period=p, operator=op, threshold=a.threshold, treat_missing=cw.TREAT_MISSING["threshold_ratio"],
                       facts=f"Sum / period, {d(p)} periods")
    stat = cw.percentile(sm.quantile) if sm.function == "quantile" else SMOOTHING_STAT[sm.function]
    return cw.single(ref, p, stat, unit, operator=op, threshold=a.threshold,
                     treat_missing=cw.TREAT_MISSING["threshold"], label=m.metric)


# --- words and checks -------------------------------------------------------------------------------------


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    subject = as_written(m.metric, m.matchers)
    if m.denominator is not None:
        w = d(window(m))
        subject = f"rate({subject}[{w}]) / rate({as_written(m.denominator.metric, m.denominator.matchers)}[{w}])"
    elif m.smoothing is not None:
        fn = m.smoothing.function
        if fn == "quantile":
            subject = f"quantile_over_time({num(m.smoothing.quantile)}, {subject}[{d(m.smoothing.window)}])"
        elif fn in ("rate", "increase"):
            subject = f"{fn}({subject}[{d(m.smoothing.window)}])"
        else:
            subject = f"{fn}_over_time({subject}[{d(m.smoothing.window)}])"
    guard = f" (with at least {num(m.guard)} {m.denominator.metric} per minute)" if m.guard > 0 else ""
    return f"{subject} {CMP[m.op]} {num(a.threshold)}{guard}"


def metrics(m: ThresholdMonitor):
    counter = m.denominator is not None or (m.smoothing and m.smoothing.function in ("rate", "increase"))
    yield MetricUse(("metric",), m.metric, ("counter",) if counter else ("gauge",))
    if m.denominator is not None:
        yield MetricUse(("denominator",), m.denominator.metric, ("counter",))


def check(m: ThresholdMonitor, svc):
    if m.denominator is not None:
        rng = (0.0, 1.0)
    elif m.smoothing and m.smoothing.function in ("rate", "increase"):
        rng = None
    else:
        rng = metric_range(svc, m.metric)
    yield from unreachable(m, rng, m.op)


KIND = KindSpec(
    name="threshold", model=ThresholdMonitor, requires_threshold=True, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    metrics=metrics, check=check)
