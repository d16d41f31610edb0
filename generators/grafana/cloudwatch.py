"""Targets on Grafana's CloudWatch datasource.

A generated panel of a CloudWatch-sourced service plots its kind's signal, which is the alarm plan's own
metric queries (namespace, metric, dimensions, statistic and period of the alarm: ``generators.cloudwatch.plans
.signal``); hand-written panels name declared metrics and are resolved the same way. Thresholds come from the
alarms' own thresholds.
"""

from __future__ import annotations

from grafanalib.cloudwatch import CloudwatchMetricsTarget

from ..resolve import ResolvedService
from ..signals import CwQuery
from .build import CLOUDWATCH
from .queries import PanelSpec

__all__ = ["CwQuery", "targets"]


def targets(rs: ResolvedService, spec: PanelSpec) -> list:
    src = rs.service.source
    out = []
    for i, q in enumerate(spec.queries):
        ref = "ABCDEFGHIJ"[i]
        if q.expression:  # metric math over the hidden queries
            out.append(CloudwatchMetricsTarget(expression=q.expression, id=q.ident, refId=ref, region=src.region,
                                               namespace=q.namespace or src.namespace, alias=q.legend, period="",
                                               datasource=CLOUDWATCH))
            continue
        out.append(CloudwatchMetricsTarget(namespace=q.namespace or src.namespace, metricName=q.metric,
                                           statistic=q.stat, period=str(q.period), region=src.region,
                                           dimensions=dict(q.dimensions), id=q.ident, refId=ref, hide=q.hidden,
                                           alias=q.legend or q.metric, matchExact=True, datasource=CLOUDWATCH))
    return out
