"""``kind: latency``: ``histogram_quantile(quantile, ...)`` of a histogram over ``window`` above (or below)
``threshold``. The threshold is in seconds when the histogram's unit is seconds or milliseconds: a histogram in
milliseconds is compared (and plotted, and its ``$value`` printed) in seconds, ``histogram_quantile(...) / 1000``;
otherwise in the histogram's own unit."""

from __future__ import annotations

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (COUNT, DURATION, UNIT_SCALE, KindSpec, MetricUse, aggregation, grafana_unit, kept, legend,
                        levels, no_checks, no_recording_rules, no_warnings, panels_of, ratio_by, series_labels,
                        threshold_in_metric_units)
from ..model import LatencyMonitor
from ..prometheus import series as ps
from ..promql import CMP, by_clause, dur, num, selector, side
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal


def _scale(rs: ResolvedService, m: LatencyMonitor) -> float:
    """How many histogram units make one threshold unit (1000 for a histogram in milliseconds)."""
    return threshold_in_metric_units(rs, m.histogram, 1.0)


def in_seconds(rs: ResolvedService, m: LatencyMonitor) -> bool:
    decl = rs.service.metrics.get(m.histogram)
    return bool(decl) and decl.unit in UNIT_SCALE


def lhs(rs: ResolvedService, m: LatencyMonitor) -> str:
    """``histogram_quantile`` in the threshold's unit (seconds for a histogram in milliseconds)."""
    s = selector(rs.service, m.histogram, m.matchers, suffix="_bucket")
    grouping = aggregation(rs, m) if m.without is not None else by_clause(("le",) + ratio_by(rs, m))
    q = f"histogram_quantile({num(m.quantile)}, sum {grouping}(rate({s}[{dur(m.window)}])))"
    scale = _scale(rs, m)
    return q if scale == 1 else f"{q} / {num(scale)}"


def bound(rs: ResolvedService, a: Alert) -> float:
    """The alert's threshold in the histogram's unit."""
    return threshold_in_metric_units(rs, a.monitor.histogram, a.threshold)


def expr(a: Alert, rs: ResolvedService) -> str:
    return f"{lhs(rs, a.monitor)} {CMP[a.monitor.op]} {num(a.threshold)}"


def signals(m: LatencyMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    unit = grafana_unit(rs, m.histogram)
    if not rs.is_prometheus:
        return (cw.alarm_signal(m.histogram, unit, m, rs, cloudwatch),)
    shown = ratio_by(rs, m) if m.without is None else [x for x in series_labels(rs, m.histogram) if x not in m.without]
    q = Query(lhs(rs, m), legend(shown) or m.name)
    return (Signal(f"p{num(m.quantile * 100)} of {m.histogram} over {d(m.window)}", (q,),
                   "s" if in_seconds(rs, m) else unit, m.op, levels(rs, m)),)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    labels = ps.base_labels(rs, m.histogram, m.matchers)
    thr = bound(rs, a)
    bounds = [thr * 0.9, thr, thr * 1.1]
    les = [ps.fmt(b) for b in bounds] + ["+Inf"]
    names = [ps.series_name(f"{m.histogram}_bucket", {**labels, "le": le}) for le in les]
    per_step = 10
    # observations in (0.9 thr, thr] put every quantile just under thr; in (thr, 1.1 thr] just over it
    under = [0, per_step, per_step, per_step]
    over = [0, 0, per_step, per_step]
    bad, good = (over, under) if side(m.op) == "above" else (under, over)
    base = ps.counter_base(per_step)

    def fires(r, total):
        return [(n, ps.Values().ramp(bad[i], r, start=base).ramp(good[i], total - r)) for i, n in enumerate(names)]

    # linear interpolation inside the bucket holding every observation
    lower = bounds[1] if side(m.op) == "above" else bounds[0]
    upper = bounds[2] if side(m.op) == "above" else bounds[1]
    return ps.Scenario(
        fires=fires,
        inside=lambda total: [(n, ps.Values().ramp(good[i], total, start=base)) for i, n in enumerate(names)],
        t_true=interval, clear=m.window, labels=kept(rs, m, labels),
        value=lambda t: (lower + (upper - lower) * m.quantile) / _scale(rs, m))


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.Plan:
    m = a.monitor
    cw.no_by(m)
    p = cw.period(rs, m, m.window, m.histogram, ("window",), "the window")
    ref = cw.metric_ref(rs, m, m.histogram, m.matchers, ())
    decl = rs.service.metrics.get(m.histogram)
    limit = a.threshold * (UNIT_SCALE.get(decl.unit, 1.0) if decl else 1.0)
    return cw.single(ref, p, cw.percentile(m.quantile), cw.unit(rs, m.histogram), operator=cw.OPERATOR[m.op],
                     threshold=limit, treat_missing=cw.TREAT_MISSING["latency"], label=m.histogram)


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    decl = rs.service.metrics.get(m.histogram)
    limit = f"{num(a.threshold)}s" if decl and decl.unit in ("seconds", "milliseconds") else num(a.threshold)
    return f"p{num(m.quantile * 100)} of {m.histogram} over {d(m.window)} {CMP[m.op]} {limit}"


def value(a: Alert, rs: ResolvedService) -> str:
    """Seconds as a duration (``5.475s``) for histograms in seconds or milliseconds."""
    return DURATION if in_seconds(rs, a.monitor) else COUNT


def metrics(m: LatencyMonitor):
    yield MetricUse(("histogram",), m.histogram, ("histogram",))


KIND = KindSpec(
    name="latency", model=LatencyMonitor, requires_threshold=True, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    value=value, metrics=metrics, check=no_checks, warnings=no_warnings)
