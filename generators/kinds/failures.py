"""``kind: failures``: a counter increased by more than ``threshold`` (default 0) within ``window``."""

from __future__ import annotations

import math

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (KindSpec, MetricUse, legend, levels, metric_range, no_recording_rules, no_warnings, panels_of,
                        series_labels, unreachable)
from ..model import FailuresMonitor
from ..prometheus import series as ps
from ..promql import dur, num, selector
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal


def lhs(rs: ResolvedService, m: FailuresMonitor) -> str:
    return f"increase({selector(rs.service, m.metric, m.matchers)}[{dur(m.window)}])"


def expr(a: Alert, rs: ResolvedService) -> str:
    return f"{lhs(rs, a.monitor)} > {num(a.threshold)}"


def signals(m: FailuresMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    if not rs.is_prometheus:
        return (cw.alarm_signal(m.metric, "short", m, rs, cloudwatch),)
    q = Query(lhs(rs, m), legend(series_labels(rs, m.metric)) or m.name)
    return (Signal(f"{m.metric}: increase over {d(m.window)}", (q,), "short", "above", levels(rs, m)),)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    labels = ps.base_labels(rs, m.metric, m.matchers)
    name = ps.series_name(m.metric, labels)
    t = a.threshold
    k_bad = ps.dyadic(t + 1, math.ceil)
    k_inside = ps.dyadic(t * interval / m.window * 0.9, math.floor)
    base = ps.counter_base(k_bad)
    return ps.Scenario(
        fires=lambda r, total: [(name, ps.Values().ramp(k_bad, r, start=base).ramp(0, total - r))],
        inside=lambda total: [(name, ps.Values().ramp(k_inside, total, start=base))],
        t_true=interval, clear=m.window, labels=labels,
        value=lambda at: ps.increase_at(k_bad, at, m.window, interval))


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.Plan:
    m = a.monitor
    p = cw.period(rs, m, m.window, m.metric, ("window",), "the window")
    ref = cw.metric_ref(rs, m, m.metric, m.matchers, ())
    return cw.single(ref, p, "Sum", cw.unit(rs, m.metric), operator="GreaterThanThreshold", threshold=a.threshold,
                     treat_missing=cw.TREAT_MISSING["failures"], label=m.metric)


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    return f"increase({m.metric}[{d(m.window)}]) > {num(a.threshold)}"


def metrics(m: FailuresMonitor):
    yield MetricUse(("metric",), m.metric, ("counter",))


def check(m: FailuresMonitor, svc):
    yield from unreachable(m, metric_range(svc, m.metric), "above")


KIND = KindSpec(
    name="failures", model=FailuresMonitor, requires_threshold=False, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    metrics=metrics, check=check, warnings=no_warnings)
