"""``kind: raw``: the escape hatch, a full PromQL alert expression, optionally over recording rules of its own
(``recordings``). Still parsed and its metrics checked (the ``expressions`` check), and it brings its own test
cases (a series where it fires, one where it stays silent; the samples each recording must hold)."""

from __future__ import annotations

from ..kindspec import (COUNT, KindSpec, NotSupported, no_recording_rules, no_threshold_overrides, no_warnings,
                        panels_of, value_is)
from ..model import RawMonitor
from ..prometheus.series import CatalogCases
from ..promql import num
from ..resolve import Alert, ResolvedService
from ..signals import Query, Signal

CLOUDWATCH = NotSupported(
    "a raw PromQL expression cannot be evaluated by CloudWatch; express it with a threshold, flag, trend, "
    "failures, stalled, ratio, latency or absent monitor")


def expr(a: Alert, rs: ResolvedService) -> str:
    return a.monitor.expr.strip()


def recording_rules(m: RawMonitor, rs: ResolvedService) -> list[dict]:
    """The catalog's recording rules, as written (the alert reads them in the same group, after them)."""
    out = []
    for r in m.recordings:
        rule = {"record": r.record, "expr": r.expr.strip()}
        if r.labels:
            rule["labels"] = dict(r.labels)
        out.append(rule)
    return out


def signals(m: RawMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    """The catalog's ``plot`` expression (what the alert compares), else the expression itself: it has a value
    only where it fires (the threshold is inside it)."""
    if not rs.is_prometheus:
        CLOUDWATCH(m)
    return (Signal(m.name, (Query((m.plot or m.expr).strip(), ""),), "short", "above", ()),)


def scenario(a: Alert, rs: ResolvedService):
    """The catalog's own cases (``tests.fires`` and ``tests.silent``; each recording's ``tests``)."""
    m = a.monitor
    if not m.recordings:
        return m.tests
    return CatalogCases(m.tests, tuple((r.record, dict(r.labels), j, case)
                                       for r in m.recordings for j, case in enumerate(r.tests)))


def condition(a: Alert, rs: ResolvedService) -> str:
    return " ".join(a.monitor.expr.split())


def metrics(m: RawMonitor):
    return ()  # the expressions check parses the expression and checks every metric it names


def check(m: RawMonitor, svc):
    yield from _deriv_of_bounded(m, svc)
    yield from no_threshold_overrides(m, "a raw monitor's threshold is inside its expr; it cannot be overridden")
    for j, r in enumerate(m.recordings):
        if r.record.startswith("mlmon_slo:"):
            yield ("recordings", j, "record"), "names starting mlmon_slo: are the SLO recordings mlmon writes"
        elif r.record in svc.metrics:
            yield ("recordings", j, "record"), f"{r.record} is a metric the service declares; record another name"


def _deriv_of_bounded(m: RawMonitor, svc):
    """The seed's own mistake written as raw PromQL: `deriv(m[w]) < c` on a bounded metric."""
    import promql_parser

    try:
        node = promql_parser.parse(m.expr)
    except Exception:
        return  # reported by the expressions check
    if type(node).__name__ != "BinaryExpr":
        return
    call, lit = node.lhs, node.rhs
    if type(call).__name__ != "Call" or type(lit).__name__ != "NumberLiteral":
        return
    if getattr(call.func, "name", None) != "deriv" or not call.args:
        return
    ms = call.args[0]
    if type(ms).__name__ != "MatrixSelector":
        return
    metric = ms.vector_selector.name
    decl = svc.metrics.get(metric)
    if not decl or not decl.range:
        return
    window = ms.range.total_seconds()
    possible = (decl.range[1] - decl.range[0]) / window
    if abs(lit.val) > possible:
        yield ("expr",), (
            f"deriv() is per second: {metric} ranges over [{num(decl.range[0])}, {num(decl.range[1])}], so over "
            f"{int(window)}s its slope is at most {possible:.3g}/s and {num(lit.val)} can never be reached; "
            f"use a trend monitor with `per: hour` (e.g. threshold {num(lit.val)} per hour)")


KIND = KindSpec(
    name="raw", model=RawMonitor, requires_threshold=False, expr=expr, recording_rules=recording_rules,
    signals=signals, panels=panels_of(signals), scenario=scenario, cloudwatch=CLOUDWATCH, condition=condition,
    value=value_is(COUNT), metrics=metrics, check=check, warnings=no_warnings)
