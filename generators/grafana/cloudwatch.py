"""Panels of CloudWatch-sourced services on Grafana's CloudWatch datasource.

The same monitors the CloudWatch alarms are built from, expressed as CloudWatch metric queries: the
statistic and period follow the monitor (``avg`` smoothing -> ``Average`` over its window, a latency
quantile -> ``p95``, a ratio -> metric math ``m1 / m2``). Thresholds come from :mod:`.thresholds`.
"""

from __future__ import annotations

from dataclasses import dataclass

from grafanalib.cloudwatch import CloudwatchMetricsTarget

from ..durations import format_duration
from ..model import FailuresMonitor, LatencyMonitor, ThresholdMonitor
from ..promql import num
from ..resolve import ResolvedService
from . import thresholds as th
from .build import CLOUDWATCH
from .queries import UNITS, PanelSpec, conditions

STAT = {"avg": "Average", "min": "Minimum", "max": "Maximum", "rate": "Sum", "increase": "Sum"}


@dataclass(frozen=True)
class CwQuery:
    """One CloudWatch query: a metric statistic, or metric math over other queries' ids."""

    ident: str
    metric: str = ""
    stat: str = ""
    period: int = 300
    hidden: bool = False
    expression: str = ""
    legend: str = ""

    @property
    def expr(self) -> str:  # what checks and docs print
        return self.expression or f"{self.stat}({self.metric}) per {self.period}s"


def _q(metric: str, stat: str, period: int, *, hidden: bool = False, ident: str = "") -> CwQuery:
    return CwQuery(ident, metric, stat, period, hidden)


def monitor_panels(rs: ResolvedService, mon) -> list[PanelSpec]:
    steps = th.monitor_steps(rs, mon)
    desc = conditions(rs, mon)
    decl = rs.service.metrics
    if isinstance(mon, ThresholdMonitor):
        sm = mon.smoothing
        period = sm.window if sm else 300
        if mon.denominator is not None:
            qs = (_q(mon.metric, "Sum", period, hidden=True, ident="m1"),
                  _q(mon.denominator.metric, "Sum", period, hidden=True, ident="m2"),
                  CwQuery("e1", expression="m1 / m2", legend=mon.name))
            title, unit = f"{mon.metric} / {mon.denominator.metric}", "percentunit"
        else:
            stat = f"p{num(sm.quantile * 100)}" if sm and sm.function == "quantile" else STAT[sm.function if sm else "avg"]
            qs = (_q(mon.metric, stat, period, ident="m1"),)
            d = decl.get(mon.metric)
            title, unit = f"{mon.metric} ({stat}, {format_duration(period)})", UNITS.get(d.unit if d else "", "short")
    elif isinstance(mon, LatencyMonitor):
        stat = f"p{num(mon.quantile * 100)}"
        qs = (_q(mon.histogram, stat, mon.window, ident="m1"),)
        d = decl.get(mon.histogram)
        title, unit = f"{mon.histogram} ({stat}, {format_duration(mon.window)})", UNITS.get(d.unit if d else "", "short")
    elif isinstance(mon, FailuresMonitor):
        qs = (_q(mon.metric, "Sum", mon.window, ident="m1"),)
        title, unit = f"{mon.metric} (Sum, {format_duration(mon.window)})", "short"
    else:
        metric = getattr(mon, "metric", None) or mon.name
        qs = (_q(metric, "Maximum", 300, ident="m1"),)
        title, unit = f"{metric} (Maximum, 5m)", "short"
    return [PanelSpec(title, qs, unit, steps, desc, "timeseries"), PanelSpec("Now", qs, unit, steps, desc, "stat")]


def targets(rs: ResolvedService, spec: PanelSpec) -> list:
    src = rs.service.source
    out = []
    for i, q in enumerate(spec.queries):
        ref = "ABCDEFGHIJ"[i]
        if q.expression:  # metric math over the hidden queries
            out.append(CloudwatchMetricsTarget(expression=q.expression, id=q.ident, refId=ref, region=src.region,
                                               namespace=src.namespace, alias=q.legend, period="",
                                               datasource=CLOUDWATCH))
            continue
        out.append(CloudwatchMetricsTarget(namespace=src.namespace, metricName=q.metric, statistic=q.stat,
                                           period=str(q.period), region=src.region, dimensions=dict(src.dimensions),
                                           id=q.ident, refId=ref, hide=q.hidden, alias=q.legend or q.metric,
                                           matchExact=True, datasource=CLOUDWATCH))
    return out
