"""The monitor kinds, one module each, listed explicitly (no registration by import).

Each ``generators/kinds/<kind>.py`` defines ``KIND``, a :class:`~generators.kindspec.KindSpec` holding every
facet of the kind: its PromQL, recording rules, signals and dashboard panels (both sources), promtool
scenarios, CloudWatch plan, condition in words, the metrics it reads and its own catalog checks. Every
generator reaches a kind through the functions below; none branches on a kind's name.
"""

from __future__ import annotations

from ..kindspec import KindSpec
from . import absent, changes, failures, flag, forecast, latency, ratio, raw, stalled, threshold, trend

KINDS: dict[str, KindSpec] = {k.name: k for k in (
    threshold.KIND, flag.KIND, trend.KIND, failures.KIND, stalled.KIND, ratio.KIND, latency.KIND, absent.KIND,
    forecast.KIND, changes.KIND, raw.KIND,
)}
"""Every kind, in the order of the catalog docs."""


def kind_of(monitor) -> KindSpec:
    return KINDS[monitor.kind]


def alert_expr(a, rs) -> str:
    """The PromQL alert expression of one resolved alert."""
    return KINDS[a.kind].expr(a, rs)


def recording_rules(m, rs) -> list[dict]:
    return KINDS[m.kind].recording_rules(m, rs)


def signals(m, rs) -> tuple:
    return KINDS[m.kind].signals(m, rs)


def panels(m, rs) -> tuple:
    return KINDS[m.kind].panels(m, rs)


def scenario(a, rs):
    return KINDS[a.kind].scenario(a, rs)


def cloudwatch_plan(a, rs):
    """The alert's CloudWatch plan (raises ``Unsupported`` for what CloudWatch cannot express)."""
    return KINDS[a.kind].cloudwatch(a, rs)


def condition(a, rs) -> str:
    """The alert's condition in words a reviewer reads."""
    return KINDS[a.kind].condition(a, rs)


def value(a, rs) -> str:
    """How the alert's ``$value`` reads in its threshold's unit (a Prometheus template)."""
    return KINDS[a.kind].value(a, rs)
