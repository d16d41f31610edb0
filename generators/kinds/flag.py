"""``kind: flag``: a 0/1 gauge equal to its value (``threshold``, default 1), e.g. ``degradation_detected == 1``."""

from __future__ import annotations

from ..cloudwatch import plans as cw
from ..kindspec import (NUMBER, KindSpec, MetricUse, legend, levels, metric_range, no_recording_rules, no_warnings,
                        panels_of, series_labels, thresholds, value_is)
from ..model import FlagMonitor
from ..prometheus import series as ps
from ..promql import num, selector
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal


def expr(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    return f"{selector(rs.service, m.metric, m.matchers)} == {num(a.threshold)}"


def signals(m: FlagMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    if not rs.is_prometheus:
        return (cw.alarm_signal(m.metric, "short", m, rs, cloudwatch),)
    q = Query(selector(rs.service, m.metric, m.matchers), legend(series_labels(rs, m.metric)) or m.name)
    return (Signal(m.metric, (q,), "short", "above", levels(rs, m), 0, 1),)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    labels = ps.base_labels(rs, m.metric, m.matchers)
    name = ps.series_name(m.metric, labels)
    other = 0.0 if a.threshold != 0 else 1.0
    return ps.Scenario(
        fires=lambda r, total: [(name, ps.Values().const(a.threshold, r).const(other, total - r))],
        inside=lambda total: [(name, ps.Values().const(other, total))],
        t_true=0, clear=0, labels=labels, value=lambda t: a.threshold)


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.Plan:
    m = a.monitor
    decl = rs.service.metrics.get(m.metric)
    hi = decl.range[1] if decl is not None and decl.range else 1.0
    if a.threshold != hi:
        raise cw.Unsupported(m, cw.threshold_path(m, a), (
            f"CloudWatch has no equality operator: a flag alarm is `Maximum >= {num(hi)}`, so its value must be "
            f"the top of the metric's range ({num(hi)}), got {num(a.threshold)}"))
    ref = cw.metric_ref(rs, m, m.metric, m.matchers, ())
    return cw.single(ref, cw.metric_resolution(rs, m.metric), cw.statistic(rs, m.metric, "Maximum"),
                     cw.unit(rs, m.metric), operator="GreaterThanOrEqualToThreshold", threshold=a.threshold,
                     treat_missing=cw.TREAT_MISSING["flag"], label=m.metric)


def condition(a: Alert, rs: ResolvedService) -> str:
    return f"{a.monitor.metric} == {num(a.threshold)}"


def metrics(m: FlagMonitor):
    yield MetricUse(("metric",), m.metric, ("gauge",))


def check(m: FlagMonitor, svc):
    rng = metric_range(svc, m.metric)
    if rng is None:
        return
    lo, hi = rng
    for path, t in thresholds(m):
        if not lo <= t <= hi:
            yield path, f"flag value {num(t)} is outside the metric's range [{num(lo)}, {num(hi)}]; it can never match"


KIND = KindSpec(
    name="flag", model=FlagMonitor, requires_threshold=False, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    value=value_is(NUMBER), metrics=metrics, check=check, warnings=no_warnings)
