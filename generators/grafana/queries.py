"""What each monitor's panels plot: its kind's signals (``generators/kinds/<kind>.py``), on Prometheus with the
dashboard's label variables added to every selector, on CloudWatch the alarm plan's own queries, against the
threshold steps of its alerts. Pure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .. import alertmeta
from ..durations import format_duration
from ..kinds import panels as kind_panels
from ..promql import escape
from ..resolve import ResolvedService
from ..signals import CwQuery, Panel, Query  # noqa: F401  (CwQuery, Query: the query types of a PanelSpec)
from . import thresholds as th


@dataclass(frozen=True)
class PanelSpec:
    """One panel of a monitor's row: what it plots, in which unit, against which steps."""

    title: str
    queries: tuple
    unit: str = "short"
    steps: list = field(default_factory=list)
    description: str = ""
    kind: str = "timeseries"  # or "stat"
    min: float | None = None
    max: float | None = None


def with_variables(rs: ResolvedService) -> ResolvedService:
    """``rs`` whose service selector also matches the dashboard variables of its labels
    (``tenant=~"$tenant"``), so every expression built from it follows the dashboard's filters."""
    if not rs.is_prometheus or not rs.service.labels:
        return rs
    merged = dict(rs.service.source.selector)
    for label in rs.service.labels:
        merged.setdefault(label, f"=~${label}")
    source = rs.service.source.model_copy(update={"selector": merged})
    return dataclasses.replace(rs, service=rs.service.model_copy(update={"source": source}),
                               variables=tuple(rs.service.labels))


def variable_matchers(rs: ResolvedService, labels=None) -> str:
    """``tenant=~"$tenant",workspace=~"$workspace"`` for the service's labels (or ``labels``)."""
    labels = rs.service.labels if labels is None else [lbl for lbl in labels if lbl in rs.service.labels]
    return ",".join(f'{lbl}=~"${lbl}"' for lbl in labels)


def conditions(rs: ResolvedService, mon) -> str:
    """Every enabled alert of ``mon`` in words: what the panel's threshold lines mean."""
    lines = []
    for a in rs.alerts:
        if a.monitor is mon:
            when = f" for {format_duration(a.for_)}" if a.for_ else ""
            lines.append(f"- **{a.name}** ({a.severity}): {alertmeta.condition(a, rs)}{when}")
    return "\n".join(lines)


def panel_spec(rs: ResolvedService, mon, p: Panel) -> PanelSpec:
    """A kind's panel as a grafanalib-ready spec: steps from the signal's levels, the alerts' conditions."""
    s = p.signal
    desc = p.description
    if desc is None:
        desc = conditions(rs, mon) + (f"\n\n{s.note}" if s.note else "")
    steps = th.steps(s.op, [(lv.value, lv.severity) for lv in s.levels])
    return PanelSpec(p.title or s.title, s.queries, s.unit, steps, desc, p.kind, s.min, s.max)


def monitor_panels(rs: ResolvedService, mon) -> list[PanelSpec]:
    """The panels of one monitor's row (either source)."""
    return [panel_spec(rs, mon, p) for p in kind_panels(mon, with_variables(rs))]


def alerts_selector(rs: ResolvedService, state: str | None = None) -> str:
    """``ALERTS{service="...", <variables>}``: the service's pending and firing alerts."""
    parts = [f'service="{escape(rs.name)}"']
    if state:
        parts.append(f'alertstate="{state}"')
    if rs.is_prometheus and variable_matchers(rs):
        parts.append(variable_matchers(rs))
    return "ALERTS{" + ",".join(parts) + "}"
