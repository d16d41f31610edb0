"""``kind: threshold``: a gauge or score, optionally smoothed over a window, or a ratio (``denominator``: one
selector or the sum of several) of two counters' rates or of two gauges' values, above or below a bound."""

from __future__ import annotations

import math

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (COUNT, PERCENT, RATIO_WINDOW, KindSpec, MetricUse, aggregation, as_written, grafana_unit, kept,
                        legend, levels, metric_range, metric_value, no_recording_rules, no_warnings, panels_of, ratio_by,
                        series_labels, unit_range, unreachable)
from ..model import ThresholdMonitor
from ..prometheus import series as ps
from ..promql import CMP, by_clause, dur, num, opposite, sel, selector, side
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal

SMOOTHING_STAT = {"avg": "Average", "min": "Minimum", "max": "Maximum", "increase": "Sum"}


def window(m: ThresholdMonitor) -> int:
    """The window of a ratio (``denominator``): the smoothing window, else the default."""
    return m.smoothing.window if m.smoothing else RATIO_WINDOW


def gauge_ratio(svc, m: ThresholdMonitor) -> bool:
    """A ratio of gauges (values divided), not of counters (rates divided): the numerator is declared a gauge."""
    decl = svc.metrics.get(m.metric)
    return m.denominator is not None and decl is not None and decl.type == "gauge"


def guard(svc, m: ThresholdMonitor) -> float:
    """Events per minute the denominator needs before a ratio of counters is judged (0 = no guard)."""
    return 0.0 if gauge_ratio(svc, m) else m.guard


# --- Prometheus -------------------------------------------------------------------------------------------


def _smoothed(m: ThresholdMonitor, s: str) -> str:
    """One selector, smoothed as the monitor says (``rate``/``increase`` for counters, ``*_over_time`` for gauges)."""
    sm = m.smoothing
    if sm is None:
        return s
    if sm.function in ("rate", "increase"):
        return f"{sm.function}({s}[{dur(sm.window)}])"
    if sm.function == "quantile":
        return f"quantile_over_time({num(sm.quantile)}, {s}[{dur(sm.window)}])"
    return f"{sm.function}_over_time({s}[{dur(sm.window)}])"


def _part(rs: ResolvedService, m: ThresholdMonitor, s: str) -> str:
    """One side of a ratio, aggregated: the rate of a counter over the window, or the (smoothed) gauge."""
    inner = _smoothed(m, s) if gauge_ratio(rs.service, m) else f"rate({s}[{dur(window(m))}])"
    return f"sum {aggregation(rs, m)}({inner})"


def denominator(rs: ResolvedService, m: ThresholdMonitor) -> str:
    """The denominator: one aggregated selector, or the sum of several."""
    parts = [_part(rs, m, sel(rs.service, d)) for d in m.denominator]
    return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"


def lhs(rs: ResolvedService, m: ThresholdMonitor) -> str:
    """What the alert compares against its threshold (dashboards plot it)."""
    s = selector(rs.service, m.metric, m.matchers)
    if m.denominator is not None:
        return f"{_part(rs, m, s)}\n/\n{denominator(rs, m)}"
    out = _smoothed(m, s)
    if m.by or m.without:
        agg = "max" if side(m.op) == "above" else "min"
        grouping = by_clause(m.by) if m.by else f"without ({', '.join(m.without)}) "
        out = f"{agg} {grouping}({out})"
    return out


def events(rs: ResolvedService, m: ThresholdMonitor) -> str:
    """Events per second in a ratio's denominator over its window (what the low-traffic guard reads)."""
    return denominator(rs, m)


def expr(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    if m.denominator is None:
        return f"{lhs(rs, m)} {CMP[m.op]} {num(a.threshold)}"
    cond = f"(\n{lhs(rs, m)}\n) {CMP[m.op]} {num(a.threshold)}"
    g = guard(rs.service, m)
    if g > 0:  # low-traffic guard: a handful of requests must not decide the ratio
        cond += f"\nand\n{events(rs, m)} * 60 >= {num(g)}"
    return cond


def _title_unit(rs: ResolvedService, m: ThresholdMonitor) -> tuple[str, str]:
    if m.denominator is not None:
        return f"{m.metric} / {' + '.join(x.metric for x in m.denominator)}", "percentunit"
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
        labels = ratio_by(rs, m) if m.without is None else [x for x in series_labels(rs, m.metric) if x not in m.without]
    else:
        labels = (list(m.by) if m.by else
                  [x for x in series_labels(rs, m.metric) if x not in (m.without or ())])
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
    sc = ps.gauge_scenario(rs, a, m.metric, m.matchers, m.op, sm.window if sm else 0, rng, by=m.by)
    if m.without is not None:
        sc.labels = kept(rs, m, ps.base_labels(rs, m.metric, m.matchers))
    return sc


def _ratio_scenario(a: Alert, rs: ResolvedService, interval: int) -> ps.Scenario:
    m = a.monitor
    g = guard(rs.service, m)
    # large, so rounding the steps to 1/1024 moves the ratio by < 1e-7 (and far above the low-traffic guard)
    per_step = max(6000.0, g * interval / 60 * 10)
    bad_ratio = ps.margin(a.threshold, m.op, (0.0, 1.0), 1.0)
    good_ratio = ps.margin(a.threshold, opposite(m.op), (0.0, 1.0), 1.0)
    inside_ratio = ps.margin(a.threshold, opposite(m.op), (0.0, 1.0), 0.05)
    num_labels = ps.base_labels(rs, m.metric, m.matchers)
    series = ps.split_counters(rs, [(m.metric, m.matchers)], [(x.metric, x.matchers) for x in m.denominator])
    gauges = gauge_ratio(rs.service, m)

    def build(phases):  # gauges hold each phase's values; counters grow by them per sample
        return (ps.gauge_phases if gauges else ps.counter_phases)(series, phases, per_step)

    labels = kept(rs, m, num_labels)
    trickle = ps.dyadic(g * interval / 60 * 0.5, math.floor)  # half the guard's events per interval

    def low_traffic(total):
        return ps.counter_phases(series, [(bad_ratio, total)], trickle)

    smoothed = m.smoothing.window if m.smoothing else 0
    # gauges hold values that are multiples of 1/1024: sums are exact, so when the quotient of the rounded values
    # is the threshold itself (as float division computes it), a test can sit exactly at the threshold
    at = gauges and ps.realized_ratio(series, a.threshold, per_step) == a.threshold
    return ps.Scenario(
        fires=lambda r, total: build([(bad_ratio, r), (good_ratio, total - r)]),
        inside=lambda total: build([(inside_ratio, total)]),
        t_true=0 if gauges else interval, clear=smoothed if gauges else window(m), labels=labels,
        value=lambda t: ps.realized_ratio(series, bad_ratio, per_step),
        extra_groups=[("stays quiet on low traffic (guard)", low_traffic)] if trickle > 0 else [],
        boundary=ps.boundary(lambda total: build([(a.threshold, total)]), m.op, a.threshold) if at else None)


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
        return _cloudwatch_ratio(a, rs, m, ref, op)
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


def _cloudwatch_ratio(a: Alert, rs: ResolvedService, m: ThresholdMonitor, ref: dict, op: str) -> cw.Plan:
    """``m1 / m2`` (or ``m1 / (m2 + m3)``): Sums of counters with the low-traffic guard, or a statistic of gauges."""
    gauges = gauge_ratio(rs.service, m)
    sm = m.smoothing
    if gauges and sm is None:
        p, stat = cw.metric_resolution(rs, m.metric), cw.statistic(rs, m.metric, "Average")
    else:
        p = cw.period(rs, m, window(m), m.metric, ("smoothing", "window"), "the smoothing window")
        stat = "Sum" if not gauges else cw.percentile(sm.quantile) if sm.function == "quantile" else \
            SMOOTHING_STAT[sm.function]
    queries = [cw.stat_query("m1", ref, p, stat, {})]
    many = len(m.denominator) > 1
    for j, x in enumerate(m.denominator):
        path = ("denominator", j) if many else ("denominator",)
        queries.append(cw.stat_query(f"m{j + 2}", cw.metric_ref(rs, m, x.metric, x.matchers, path), p, stat, {}))
    den = " + ".join(f"m{j + 2}" for j in range(len(m.denominator)))
    den_g = f"({den})" if many else den
    label = f"{m.metric} / {' + '.join(x.metric for x in m.denominator)}"
    expression, facts = f"m1 / {den_g}", f"{stat}(m1) / {stat}({den}), {d(p)} periods"
    g = guard(rs.service, m)
    if g > 0:  # low-traffic guard: no datapoint (not breaching) while too few events arrive
        least = num(round(g * p / 60, 9))
        expression, facts = f"IF({den_g} >= {least}, m1 / {den_g})", f"{facts}, judged while {stat}({den}) >= {least}"
    return cw.math(queries, expression, label, period=p, operator=op, threshold=a.threshold,
                   treat_missing=cw.TREAT_MISSING["threshold" if gauges else "threshold_ratio"], facts=facts)


# --- words and checks -------------------------------------------------------------------------------------


def _words(m: ThresholdMonitor, metric: str, matchers: dict) -> str:
    """One selector as the condition reads it: smoothed as the monitor smooths it."""
    subject = as_written(metric, matchers)
    fn = m.smoothing.function if m.smoothing else None
    if fn is None:
        return subject
    w = d(m.smoothing.window)
    if fn == "quantile":
        return f"quantile_over_time({num(m.smoothing.quantile)}, {subject}[{w}])"
    if fn in ("rate", "increase"):
        return f"{fn}({subject}[{w}])"
    return f"{fn}_over_time({subject}[{w}])"


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    g = guard(rs.service, m)
    if m.denominator is None:
        subject = _words(m, m.metric, m.matchers)
    elif gauge_ratio(rs.service, m):
        dens = [_words(m, x.metric, x.matchers) for x in m.denominator]
        subject = f"{_words(m, m.metric, m.matchers)} / " + (dens[0] if len(dens) == 1 else f"({' + '.join(dens)})")
    else:
        w = d(window(m))
        dens = [f"rate({as_written(x.metric, x.matchers)}[{w}])" for x in m.denominator]
        subject = (f"rate({as_written(m.metric, m.matchers)}[{w}]) / "
                   + (dens[0] if len(dens) == 1 else f"({' + '.join(dens)})"))
    names = " + ".join(x.metric for x in m.denominator) if m.denominator else ""
    guard_words = f" (with at least {num(g)} {names} per minute)" if g > 0 else ""
    percent = f" ({num(round(a.threshold * 100, 6))}%)" if value(a, rs) == PERCENT else ""
    return f"{subject} {CMP[m.op]} {num(a.threshold)}{percent}{guard_words}"


def value(a: Alert, rs: ResolvedService) -> str:
    """A ratio as a percentage, a rate per second, an increase as a count, else the metric's own unit."""
    m = a.monitor
    if m.denominator:
        return PERCENT
    fn = m.smoothing.function if m.smoothing else None
    if fn == "rate":
        return COUNT + "/s"
    if fn == "increase":
        return COUNT
    return metric_value(rs, m.metric)


def metrics(m: ThresholdMonitor):
    if m.denominator is not None:  # counters (rates divided) or gauges (values divided); `check` wants one type
        yield MetricUse(("metric",), m.metric, ("counter", "gauge"))
        many = len(m.denominator) > 1
        for j, x in enumerate(m.denominator):
            yield MetricUse(("denominator", j) if many else ("denominator",), x.metric, ("counter", "gauge"))
        return
    counter = m.smoothing and m.smoothing.function in ("rate", "increase")
    yield MetricUse(("metric",), m.metric, ("counter",) if counter else ("gauge",))


def _ratio_problems(m: ThresholdMonitor, svc):
    """A ratio divides like by like: counters' rates or gauges' values; with `without`, both sides must keep the
    same labels, or the division matches no series."""
    types = {x.metric: svc.metrics[x.metric].type for x in (m, *m.denominator) if x.metric in svc.metrics}
    if len(set(types.values())) > 1:
        yield ("denominator",), ("a ratio divides like by like: " + ", ".join(f"{k} is a {v}" for k, v in types.items())
                                 + " (counters divide their rates, gauges their values)")
        return
    if gauge_ratio(svc, m):
        if m.smoothing is not None and m.smoothing.function in ("rate", "increase"):
            yield ("smoothing", "function"), (f"{m.metric} is a gauge: a ratio of gauges divides their values "
                                              "(smooth them with avg, min, max or quantile, not rate/increase)")
        if m.min_events is not None:
            yield ("min_events",), "`min_events` guards a ratio of counters (events per minute); these are gauges"
    if m.without is not None:
        def keeps(metric, matchers):
            decl = svc.metrics.get(metric)
            return set(svc.labels) | set(decl.labels if decl else ()) | set(matchers)
        num_keeps = keeps(m.metric, m.matchers) - set(m.without)
        for j, x in enumerate(m.denominator):
            differ = (num_keeps ^ (keeps(x.metric, x.matchers) - set(m.without)))
            differ |= {k for k, v in m.matchers.items() if x.matchers.get(k) != v and k not in m.without}
            differ |= {k for k, v in x.matchers.items() if m.matchers.get(k) != v and k not in m.without}
            if differ:
                path = ("denominator", j) if len(m.denominator) > 1 else ("denominator",)
                yield path, (f"with `without`, numerator and denominator keep different labels "
                             f"({', '.join(sorted(differ))}), so the division matches no series: add them to "
                             "`without`, or aggregate `by` the labels to keep")


def check(m: ThresholdMonitor, svc):
    if m.denominator is not None:
        yield from _ratio_problems(m, svc)
        rng = None if gauge_ratio(svc, m) else (0.0, 1.0)
        if not ps.total_has_rest([(m.metric, m.matchers)], [(x.metric, x.matchers) for x in m.denominator]):
            yield (("denominator",), "the denominator selects no series beyond the metric's selector, so the ratio "
                                     "is always 1: narrow `matchers` with one some series fail")
    elif m.smoothing and m.smoothing.function in ("rate", "increase"):
        rng = None
    else:
        rng = metric_range(svc, m.metric)
    yield from unreachable(m, rng, m.op)


KIND = KindSpec(
    name="threshold", model=ThresholdMonitor, requires_threshold=True, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    value=value, metrics=metrics, check=check, warnings=no_warnings)
