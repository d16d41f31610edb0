"""Grafana threshold steps from the catalog: the only way a number gets into a dashboard.

A monitor's alerts in one environment (levels, overrides applied) become ``fieldConfig.defaults.thresholds``
steps in the unit of the plotted expression, coloured by the severity of the alerts that would be firing in
each band. A dashboard built from these can never disagree with its alerts.
"""

from __future__ import annotations

import math

from ..kinds import signals
from ..resolve import ResolvedService, alert_names
from ..types import SEVERITIES

OK_COLOR = "green"
SEVERITY_COLOR = {"info": "blue", "ticket": "yellow", "warning": "orange", "critical": "red", "page": "dark-red"}


def _n(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)


def steps(op: str, levels: list[tuple[float, str]]) -> list[dict]:
    """Threshold steps for ``value <op> threshold`` alerts given as ``[(threshold, severity)]``.

    Grafana colours a value with the last step whose ``value`` it reaches; each band gets the colour of the
    most severe alert firing there (``op`` "above": every level at or under the band; "below": every level
    above it). A step's band includes its own value, so ``above_or_equal`` and ``below`` are exact at the
    threshold; for ``below_or_equal`` the step sits at the next float above the threshold, so a value exactly
    at it is coloured as firing (strict ``above`` keeps the step at the threshold: a value exactly at it is
    coloured as firing, one float early)."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    pts = sorted(set(levels))
    if not pts:
        return [{"color": OK_COLOR, "value": None}]

    def worst(sevs):
        return SEVERITY_COLOR[max(sevs, key=rank.__getitem__)] if sevs else OK_COLOR

    values = sorted({t for t, _ in pts})
    out = []
    if op in ("above", "above_or_equal"):
        out.append({"color": OK_COLOR, "value": None})
        for v in values:
            out.append({"color": worst([s for t, s in pts if t <= v]), "value": _n(v)})
    else:
        out.append({"color": worst([s for _, s in pts]), "value": None})
        for v in values:
            at = math.nextafter(v, math.inf) if op == "below_or_equal" else v
            out.append({"color": worst([s for t, s in pts if t > v]), "value": _n(at)})
    return out


def monitor_steps(rs: ResolvedService, mon, only: str | None = None) -> list[dict]:
    """Steps for the main signal of ``mon`` (its levels; only alert ``only``'s when given)."""
    main = signals(mon, rs)[0]
    return steps(main.op, [(lv.value, lv.severity) for lv in main.levels if only is None or lv.alert == only])


def find_monitor(rs: ResolvedService, name: str):
    """The monitor called ``name`` or producing alert ``name``, and the alert name when one was given."""
    for mon in rs.service.monitors:
        if mon.name == name:
            return mon, None
    for mon in rs.service.monitors:
        if name in alert_names(mon):
            return mon, name
    known = sorted({n for m in rs.service.monitors for n in [m.name, *alert_names(m)]})
    raise LookupError(f"service {rs.name!r} has no monitor or alert {name!r} (known: {', '.join(known)})")


def thresholds_of(rs: ResolvedService, name: str) -> list[dict]:
    """Steps of monitor or alert ``name`` in ``rs``'s environment (a base step only when it is disabled there)."""
    mon, only = find_monitor(rs, name)
    return monitor_steps(rs, mon, only)


def threshold_value(rs: ResolvedService, alert: str) -> float | None:
    """The threshold of alert ``alert`` in the plotted unit, or None when it is disabled in this environment."""
    mon, only = find_monitor(rs, alert)
    for lv in signals(mon, rs)[0].levels:
        if only is None or lv.alert == only:
            return lv.value
    return None
