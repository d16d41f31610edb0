"""``kind: changes``: how often a series changed value within ``window`` (``changes()``: restarts seen in a
start-time gauge, config reloads, leader elections), or how often a counter reset (``resets()``: the process
that exports it restarted), above (or at least) ``threshold`` (default 0: any change)."""

from __future__ import annotations

import math

from ..durations import format_duration as d
from ..kindspec import (COUNT, KindSpec, MetricUse, NotSupported, legend, levels, no_recording_rules, no_warnings,
                        panels_of, series_labels, thresholds, value_is)
from ..model import ChangesMonitor
from ..prometheus import series as ps
from ..promql import CMP, dur, inclusive, num, selector
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal

CLOUDWATCH = NotSupported(
    "CloudWatch metric math has no changes()/resets() over a window; publish the restarts as a counter and use "
    "a failures monitor (increase over the window), or a threshold on the metric's SampleCount")


def lhs(rs: ResolvedService, m: ChangesMonitor) -> str:
    return f"{m.function}({selector(rs.service, m.metric, m.matchers)}[{dur(m.window)}])"


def expr(a: Alert, rs: ResolvedService) -> str:
    return f"{lhs(rs, a.monitor)} {CMP[a.monitor.op]} {num(a.threshold)}"


def _what(m: ChangesMonitor) -> str:
    return f"resets (restarts) of {m.metric}" if m.function == "resets" else f"changes of {m.metric}"


def signals(m: ChangesMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    if not rs.is_prometheus:
        CLOUDWATCH(m)
    q = Query(lhs(rs, m), legend(series_labels(rs, m.metric)) or m.name)
    return (Signal(f"{_what(m)} over {d(m.window)}", (q,), "short", m.op, levels(rs, m)),)


def needed(a: Alert) -> int:
    """The fewest changes that make the condition true (changes are whole numbers)."""
    t = a.threshold
    return max(math.ceil(t), 1) if inclusive(a.monitor.op) else max(math.floor(t) + 1, 1)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    """Every sample of ``fires`` changes the value (``changes``: +1; ``resets``: -1, a counter that drops at each
    sample), so after n samples the window holds n changes; then it holds still. Prometheus 2 selects the
    samples in ``[t - window, t]``, so at second t the count is the samples since ``max(0, t - window)``, minus
    one. ``inside`` changes one time fewer than ``needed``; the boundary group changes exactly ``threshold``
    times (whole thresholds only) and is judged while every change is still in the window."""
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    labels = ps.base_labels(rs, m.metric, m.matchers)
    name = ps.series_name(m.metric, labels)
    step = -1.0 if m.function == "resets" else 1.0
    n = needed(a)
    base = ps.COUNTER_BASE

    def start(total):
        return base + total if m.function == "resets" else base  # a falling counter stays above zero

    def changing(k, total):
        """``k`` changes (k + 1 samples), then the value holds."""
        v = ps.Values().ramp(step, k + 1, start=start(total))
        return v.const(v.last, total - k - 1)

    def count_at(t):
        first = max(0, math.ceil((t - m.window) / interval))
        return t // interval - first

    boundary = None
    t = a.threshold
    if float(t).is_integer() and t >= 0 and (inclusive(m.op) or int(t) != n - 1):  # strict: `inside` is it
        k = int(t)
        boundary = ps.Boundary(lambda total: [(name, changing(k, total))], inclusive(m.op), float(k))
    sc = ps.Scenario(
        fires=lambda r, total: [(name, ps.Values().ramp(step, r, start=start(total)).const(
            start(total) + step * (r - 1), total - r))],
        inside=lambda total: [(name, changing(n - 1, total))],
        t_true=n * interval, clear=m.window, labels=labels, value=lambda at: float(count_at(at)))
    if boundary is not None:
        # judged at quiet_at (fire_at + 2 intervals): only while the changes, made by second k * interval,
        # are all still inside the window then
        fire_at = -(-(sc.t_true + a.for_) // interval) * interval
        if fire_at + 2 * interval <= m.window:
            sc.boundary = boundary
    return sc


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    return f"{m.function}({m.metric}[{d(m.window)}]) {CMP[m.op]} {num(a.threshold)}"


def metrics(m: ChangesMonitor):
    yield MetricUse(("metric",), m.metric, ("counter",) if m.function == "resets" else ("gauge", "counter"))


def check(m: ChangesMonitor, svc):
    for path, t in thresholds(m):
        if t < 0 or (m.op == "above_or_equal" and t <= 0):
            yield path, (f"{m.function}() counts changes (0 or more): {CMP[m.op]} {num(t)} always holds, so the "
                         "alert would always fire")


KIND = KindSpec(
    name="changes", model=ChangesMonitor, requires_threshold=False, expr=expr, recording_rules=no_recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=CLOUDWATCH, condition=condition,
    value=value_is(COUNT), metrics=metrics, check=check, warnings=no_warnings)
