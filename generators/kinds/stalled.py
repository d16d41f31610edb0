"""``kind: stalled``: a backlog gauge above ``threshold`` (default 0), watched for a whole window, while a
progress counter has not increased within it."""

from __future__ import annotations

import math

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (KindSpec, MetricUse, alerts_of, grafana_unit, legend, levels, no_checks, no_recording_rules,
                        no_warnings, series_labels)
from ..model import StalledMonitor
from ..prometheus import series as ps
from ..promql import dur, num, sel
from ..resolve import Alert, ResolvedService
from ..signals import Panel, Query, Signal, series_and_now

WARMUP = 5
"""Samples of the generated test during which the progress counter still moves."""


def progress(rs: ResolvedService, m: StalledMonitor) -> str:
    return f"increase({sel(rs.service, m.progress)}[{dur(m.window)}])"


def expr(a: Alert, rs: ResolvedService) -> str:
    """Backlog above the threshold, watched for a whole window, and no progress within it.

    "Nothing processed in 30m" can only be judged after 30m of observation: ``increase()`` of a counter
    with a single sample (the first scrape after a deployment or a Prometheus restart) is empty, so
    without the ``offset`` guard the alert paged at the first evaluation of every new series.
    (Found by ``bench/alert_quality.py``.)"""
    m = a.monitor
    on = f"on ({', '.join(rs.service.labels)}) " if rs.service.labels else "on () "
    backlog = sel(rs.service, m.backlog)
    return (f"(\n  {backlog} > {num(a.threshold)}\n  and {on}\n  {backlog} offset {dur(m.window)}\n)\n"
            f"unless {on}(\n  {progress(rs, m)} > 0\n)")


def signals(m: StalledMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    """The backlog (against the thresholds), then the progress (stalled while it stays at 0)."""
    if not rs.is_prometheus:
        plans = [(a, cloudwatch(a, rs)) for a in alerts_of(rs, m)]
        return (cw.signal(f"{m.backlog.metric} waiting, no {m.progress.metric}", "short", plans),)
    backlog = Signal(f"{m.backlog.metric} (backlog)",
                     (Query(sel(rs.service, m.backlog), legend(series_labels(rs, m.backlog.metric)) or m.name),),
                     grafana_unit(rs, m.backlog.metric), "above", levels(rs, m))
    moving = Signal(f"{m.progress.metric}: increase over {d(m.window)} (progress)",
                    (Query(progress(rs, m), legend(series_labels(rs, m.progress.metric)) or m.name),),
                    "short", "above", (), note="Stalled while the backlog is above its threshold and this stays at 0.")
    return backlog, moving


def panels(m, rs):
    s = signals(m, rs)
    if not rs.is_prometheus:
        return series_and_now(s)
    return tuple(Panel(x) for x in s)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    b_labels = ps.base_labels(rs, m.backlog.metric, m.backlog.matchers)
    p_labels = ps.base_labels(rs, m.progress.metric, m.progress.matchers)
    backlog = ps.series_name(m.backlog.metric, b_labels)
    moving = ps.series_name(m.progress.metric, p_labels)
    bad = math.floor(a.threshold) + 1
    w = WARMUP

    def fires(r, total):
        prog = ps.Values().ramp(1, w, start=ps.COUNTER_BASE).ramp(0, r - w).ramp(1, total - r)
        return [(backlog, ps.Values().const(bad, total)), (moving, prog)]

    return ps.Scenario(
        fires=fires,
        inside=lambda total: [(backlog, ps.Values().const(a.threshold, total)), (moving, ps.Values().const(0, total))],
        t_true=(w - 1) * interval + m.window, clear=interval, labels=b_labels, value=lambda t: bad)


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.Plan:
    m = a.monitor
    p = cw.period(rs, m, m.window, m.backlog.metric, ("window",), "the window")
    cw.period(rs, m, m.window, m.progress.metric, ("window",), "the window")
    backlog = cw.metric_ref(rs, m, m.backlog.metric, m.backlog.matchers, ("backlog",))
    moving = cw.metric_ref(rs, m, m.progress.metric, m.progress.matchers, ("progress",))
    queries = [cw.stat_query("m1", backlog, p, "Minimum", {}), cw.stat_query("m2", moving, p, "Sum", {})]
    expression = f"IF(m1 > {num(a.threshold)} AND FILL(m2, 0) == 0, 1, 0)"
    return cw.math(queries, expression, f"{m.backlog.metric} waiting, no {m.progress.metric}", period=p,
                   operator="GreaterThanOrEqualToThreshold", threshold=1.0, treat_missing=cw.TREAT_MISSING["stalled"],
                   facts=f"Minimum backlog and Sum of progress, {d(p)} periods")


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    return f"{m.backlog.metric} > {num(a.threshold)} and no increase of {m.progress.metric} in {d(m.window)}"


def metrics(m: StalledMonitor):
    yield MetricUse(("backlog",), m.backlog.metric, ("gauge",))
    yield MetricUse(("progress",), m.progress.metric, ("counter",))


KIND = KindSpec(
    name="stalled", model=StalledMonitor, requires_threshold=False, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels, scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    metrics=metrics, check=no_checks, warnings=no_warnings)
