"""``kind: failures``: a counter increased by more than ``threshold`` (default 0) within ``window``.

A counter created by its first failure counts: a series that did not exist a window ago counts from zero
(:func:`generators.promql.increase_since_birth`), so a new tenant's first failure pages like any other."""

from __future__ import annotations

import math

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..kindspec import (COUNT, KindSpec, MetricUse, legend, levels, metric_range, no_recording_rules, no_warnings,
                        panels_of, series_labels, unreachable, value_is)
from ..model import FailuresMonitor
from ..prometheus import series as ps
from ..promql import dur, increase_since_birth, num, selector
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal


def lhs(rs: ResolvedService, m: FailuresMonitor) -> str:
    """Failures within the window; a series created within it counts from zero (its first failure included)."""
    return increase_since_birth(selector(rs.service, m.metric, m.matchers), dur(m.window))


def expr(a: Alert, rs: ResolvedService) -> str:
    return f"({lhs(rs, a.monitor)}) > {num(a.threshold)}"


def signals(m: FailuresMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    if not rs.is_prometheus:
        return (cw.alarm_signal(m.metric, "short", m, rs, cloudwatch),)
    q = Query(lhs(rs, m), legend(series_labels(rs, m.metric)) or m.name)
    return (Signal(f"{m.metric}: increase over {d(m.window)}", (q,), "short", "above", levels(rs, m)),)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    """Counters created by their first failures (born at one interval's failures, as a new tenant's counter is)
    on a target scraped since t=0 (``up``), once the target has been scraped for a window: counted from zero while
    younger than the window, so the alert holds at the counter's first sample, where ``increase()`` alone has
    nothing to compare; by ``increase()`` once the window is covered."""
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    labels = ps.base_labels(rs, m.metric, m.matchers)
    labels.setdefault("job", "a")
    labels.setdefault("instance", "a")
    name = ps.series_name(m.metric, labels)
    up = ps.series_name("up", {"job": labels["job"], "instance": labels["instance"]})
    t = a.threshold
    k_bad = ps.dyadic(t + 1, math.ceil)
    k_inside = ps.dyadic(t * interval / m.window * 0.9, math.floor)
    n_born = -(-m.window // interval) + 1  # the counter's first sample: the target was scraped a window before
    born = n_born * interval

    def value(at: int) -> float:
        # young: the counter's whole value; then increase() over a window that starts on a sample (exact)
        if at < born + m.window:
            return k_bad * ((at - born) // interval + 1)
        return k_bad * m.window / interval

    return ps.Scenario(
        fires=lambda r, total: [(up, ps.Values().const(1, total)),
                                (name, ps.Values().gap(n_born).ramp(k_bad, r - n_born, start=k_bad)
                                 .ramp(0, total - r))],
        inside=lambda total: [(up, ps.Values().const(1, total)),
                              (name, ps.Values().gap(n_born).ramp(k_inside, total - n_born, start=k_inside))],
        t_true=born, clear=m.window, labels=labels, value=value)


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
    value=value_is(COUNT), metrics=metrics, check=check, warnings=no_warnings)
