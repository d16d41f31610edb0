"""``kind: stalled``: a backlog gauge above ``threshold`` (default 0) for at least ``tolerance`` (5m), watched for
a whole window, while the same process' progress counter has not increased within the window.

Judged per queue: the backlog and its progress counter are paired on ``match_on`` (default: the service's labels
and ``instance``, since a queue belongs to one process), so one replica that keeps processing does not hide
another replica's stall. An item that has waited less than ``tolerance`` is not a stall: an idle queue (nothing to
process, so nothing processed for a long time) that receives one item does not page before the loop had its
chance to take it."""

from __future__ import annotations

import math

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (COUNT, KindSpec, MetricUse, alerts_of, grafana_unit, legend, levels, no_checks,
                        no_recording_rules, no_warnings, series_labels, value_is)
from ..model import StalledMonitor
from ..prometheus import series as ps
from ..promql import dur, increase_since_birth, matcher_op, num, sel
from ..resolve import Alert, ResolvedService
from ..signals import Panel, Query, Signal, series_and_now

WARMUP = 5
"""Samples of the generated test during which the progress counter still moves."""
INSTANCE = "instance"


def match_on(rs: ResolvedService, m: StalledMonitor) -> tuple[str, ...]:
    """The labels pairing a backlog with its progress counter: ``match_on``, else the service's and instance."""
    if m.match_on is not None:
        return tuple(m.match_on)
    labels = tuple(rs.service.labels)
    return labels if INSTANCE in labels else labels + (INSTANCE,)


def progress(rs: ResolvedService, m: StalledMonitor) -> str:
    """Items processed within the window (a counter created within it counts from zero)."""
    return increase_since_birth(sel(rs.service, m.progress), dur(m.window))


def expr(a: Alert, rs: ResolvedService) -> str:
    """Backlog above the threshold for ``tolerance``, watched for a whole window, and no progress within it.

    "Nothing processed in 30m" can only be judged after 30m of observation: ``increase()`` of a counter
    with a single sample (the first scrape after a deployment or a Prometheus restart) is empty, so
    without the ``offset`` guard the alert paged at the first evaluation of every new series.
    (Found by ``bench/alert_quality.py``.)"""
    m = a.monitor
    on = f"on ({', '.join(match_on(rs, m))})"
    backlog = sel(rs.service, m.backlog)
    t = num(a.threshold)
    waited = f"\n  and\n  min_over_time({backlog}[{dur(m.tolerance)}]) > {t}" if m.tolerance else ""
    return (f"(\n  {backlog} > {t}{waited}\n  and {on}\n  {backlog} offset {dur(m.window)}\n)\n"
            f"unless {on}\n(\n  ({progress(rs, m)}) > 0\n)")


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


def _pairs(rs: ResolvedService, m: StalledMonitor):
    """Labels of one backlog series and of its progress counter (equal on ``match_on``), and the label the
    generated test varies to write a second replica (None when every pairing label is pinned by a matcher)."""
    on = match_on(rs, m)
    b = ps.base_labels(rs, m.backlog.metric, m.backlog.matchers)
    p = ps.base_labels(rs, m.progress.metric, m.progress.matchers)
    for label in on:
        b[label] = p[label] = b.get(label, p.get(label, "a"))
    pinned = set(m.backlog.matchers) | set(m.progress.matchers) | set(rs.service.source.selector)
    free = [lbl for lbl in on if lbl not in pinned]
    replica = INSTANCE if INSTANCE in free else (free[-1] if free else None)
    return b, p, replica


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    """The stalled replica fires while a second replica (same tenant, other ``instance``) with the same backlog
    keeps processing and stays quiet; an idle queue that received an item less than ``tolerance`` ago stays
    quiet."""
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    b_labels, p_labels, replica = _pairs(rs, m)
    backlog = ps.series_name(m.backlog.metric, b_labels)
    moving = ps.series_name(m.progress.metric, p_labels)
    other = None
    if replica is not None:
        other = (ps.series_name(m.backlog.metric, {**b_labels, replica: "b"}),
                 ps.series_name(m.progress.metric, {**p_labels, replica: "b"}))
    bad = math.floor(a.threshold) + 1
    w = WARMUP

    def fires(r, total):
        prog = ps.Values().ramp(1, w, start=ps.COUNTER_BASE).ramp(0, r - w).ramp(1, total - r)
        out = [(backlog, ps.Values().const(bad, total)), (moving, prog)]
        if other is not None:  # a replica of the same tenant that keeps processing
            out += [(other[0], ps.Values().const(bad, total)), (other[1], ps.Values().ramp(1, total, start=0))]
        return out

    def fresh_item(total):
        # idle (empty, nothing processed) from t=0; an item arrives tolerance - 1 interval before the check
        check = (total - 2) * interval
        arrive = (check - m.tolerance) // interval + 1
        return [(backlog, ps.Values().const(0, arrive).const(bad, total - arrive)),
                (moving, ps.Values().const(ps.COUNTER_BASE, total))]

    extra = [("an idle queue's new item waits less than the tolerance", fresh_item)] \
        if m.tolerance >= interval else []
    return ps.Scenario(
        fires=fires,
        inside=lambda total: [(backlog, ps.Values().const(a.threshold, total)), (moving, ps.Values().const(0, total))],
        t_true=(w - 1) * interval + m.window, clear=interval, labels=b_labels, value=lambda t: bad,
        extra_groups=extra)


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
    waited = f" for {d(m.tolerance)}" if m.tolerance else ""
    return (f"{m.backlog.metric} > {num(a.threshold)}{waited} and no increase of {m.progress.metric} in "
            f"{d(m.window)}")


def metrics(m: StalledMonitor):
    yield MetricUse(("backlog",), m.backlog.metric, ("gauge",))
    yield MetricUse(("progress",), m.progress.metric, ("counter",))


def check(m: StalledMonitor, svc):
    """A pairing label pinned to different values on the two selectors pairs nothing: every backlog would read as
    stalled."""
    for label in m.match_on or ():
        b, p = m.backlog.matchers.get(label), m.progress.matchers.get(label)
        if b is not None and p is not None and matcher_op(b) == ("=", b) and matcher_op(p) == ("=", p) and b != p:
            yield ("match_on",), (f"backlog and progress pin {label} to different values ({b!r}, {p!r}); "
                                  f"pairing on it matches nothing, so every backlog would read as stalled")


KIND = KindSpec(
    name="stalled", model=StalledMonitor, requires_threshold=False, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels, scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    value=value_is(COUNT), metrics=metrics, check=check, warnings=no_warnings)
