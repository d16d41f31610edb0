"""``kind: absent``: no samples of ``metric`` for ``for`` (default 10m)."""

from __future__ import annotations

from ..cloudwatch import plans as cw
from ..kindspec import (COUNT, KindSpec, MetricUse, alerts_of, metric_range, no_recording_rules,
                        no_threshold_overrides, no_warnings, panels_of, unreachable, value_is)
from ..model import AbsentMonitor
from ..prometheus import series as ps
from ..promql import matcher_op, selector
from ..resolve import Alert, ResolvedService
from ..signals import Level, Query, Signal

PRESENT = 3
"""Samples of the generated test before the series disappears."""


def expr(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    return f"absent({selector(rs.service, m.metric, m.matchers)})"


def signals(m: AbsentMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    """How many series there are: the alert fires below one."""
    if not rs.is_prometheus:
        return (cw.alarm_signal(m.metric, "short", m, rs, cloudwatch),)
    q = Query(f"count({selector(rs.service, m.metric, m.matchers)})", m.name)
    return (Signal(f"series of {m.metric}", (q,), "short", "below",
                   tuple(Level(a.name, a.severity, 1.0) for a in alerts_of(rs, m))),)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    labels = ps.base_labels(rs, m.metric, m.matchers)
    name = ps.series_name(m.metric, labels)
    merged = dict(rs.service.source.selector)
    merged.update(m.matchers)
    eq = {k: v for k, v in merged.items() if matcher_op(v)[0] == "="}
    p = PRESENT

    def fires(r, total):
        return [(name, ps.Values().const(1, p).stale().gap(r - p - 1).const(1, total - r))]

    return ps.Scenario(
        fires=fires,
        inside=lambda total: [(name, ps.Values().const(1, total))],
        t_true=p * interval, clear=0, labels=eq, value=lambda t: 1.0)


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.Plan:
    m = a.monitor
    ref = cw.metric_ref(rs, m, m.metric, m.matchers, ())
    return cw.single(ref, cw.metric_resolution(rs, m.metric), "SampleCount", {}, operator="LessThanThreshold",
                     threshold=1.0, treat_missing=cw.TREAT_MISSING["absent"], label=m.metric)


def condition(a: Alert, rs: ResolvedService) -> str:
    return f"no samples of {a.monitor.metric}"


def metrics(m: AbsentMonitor):
    yield MetricUse(("metric",), m.metric, ("gauge", "counter", "histogram"))


def check(m: AbsentMonitor, svc):
    yield from unreachable(m, metric_range(svc, m.metric), "above")
    yield from no_threshold_overrides(m, "absent monitors have no threshold")


KIND = KindSpec(
    name="absent", model=AbsentMonitor, requires_threshold=False, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    value=value_is(COUNT), metrics=metrics, check=check, warnings=no_warnings)
