"""The CloudWatch files of one service (``cloudwatch/<service>.json``, ``.composite.json``, ``.dashboard.json``,
``.topics.json``): the ``FILE_GENERATORS`` entry of :mod:`generators.render`."""

from __future__ import annotations

from typing import Any

from ..resolve import ResolvedService
from .alarms import composite_alarms, metric_alarms, topics
from .dashboard import dashboard


def files(rs: ResolvedService) -> dict[str, Any]:
    if rs.is_prometheus:
        return {}
    return {
        f"cloudwatch/{rs.name}.json": metric_alarms(rs),
        f"cloudwatch/{rs.name}.composite.json": composite_alarms(rs),
        f"cloudwatch/{rs.name}.dashboard.json": dashboard(rs),
        f"cloudwatch/{rs.name}.topics.json": topics(rs),
    }
