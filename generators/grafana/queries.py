"""What each monitor's panels plot: the monitored expression (the alert expression's left-hand side, built by
:mod:`generators.prometheus.expressions`) with the dashboard's label variables added to every selector, and
the threshold steps of its alerts. One function per monitor kind; pure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .. import alertmeta
from ..durations import format_duration
from ..model import (AbsentMonitor, FailuresMonitor, FlagMonitor, LatencyMonitor, RatioMonitor, RawMonitor,
                     StalledMonitor, ThresholdMonitor, TrendMonitor)
from ..promql import escape, num, sel, selector
from ..prometheus.expressions import (SLO_ERROR_RATIO, burn_windows, failures_lhs, latency_lhs, ratio_by,
                                      slo_recorded, slo_windows, threshold_lhs, trend_lhs)
from ..resolve import ResolvedService
from . import thresholds as th

UNITS = {"seconds": "s", "milliseconds": "ms", "ratio": "percentunit", "bytes": "bytes", "count": "short", "": "short"}


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class PanelSpec:
    """One panel of a monitor's row: what it plots, in which unit, against which steps."""

    title: str
    queries: tuple[Query, ...]
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
    return dataclasses.replace(rs, service=rs.service.model_copy(update={"source": source}))


def variable_matchers(rs: ResolvedService, labels=None) -> str:
    """``tenant=~"$tenant",workspace=~"$workspace"`` for the service's labels (or ``labels``)."""
    labels = rs.service.labels if labels is None else [lbl for lbl in labels if lbl in rs.service.labels]
    return ",".join(f'{lbl}=~"${lbl}"' for lbl in labels)


def legend(labels) -> str:
    return " ".join("{{" + lbl + "}}" for lbl in labels)


def _series_labels(rs: ResolvedService, metric: str) -> list[str]:
    decl = rs.service.metrics.get(metric)
    out = list(rs.service.labels)
    out += [lbl for lbl in (decl.labels if decl else ()) if lbl not in out]
    return out


def _unit(rs: ResolvedService, metric: str) -> str:
    decl = rs.service.metrics.get(metric)
    return UNITS.get(decl.unit, "short") if decl else "short"


def _range(rs: ResolvedService, metric: str) -> tuple[float | None, float | None]:
    decl = rs.service.metrics.get(metric)
    if decl and decl.range and decl.range[0] >= 0 and decl.range[1] <= 1:
        return decl.range
    return None, None


def conditions(rs: ResolvedService, mon) -> str:
    """Every enabled alert of ``mon`` in words: what the panel's threshold lines mean."""
    lines = []
    for a in rs.alerts:
        if a.monitor is mon:
            when = f" for {format_duration(a.for_)}" if a.for_ else ""
            lines.append(f"- **{a.name}** ({a.severity}): {alertmeta.condition(a, rs)}{when}")
    return "\n".join(lines)


def _main(rs, mon, title, expr, legend_, unit, lo=None, hi=None) -> list[PanelSpec]:
    steps = th.monitor_steps(rs, mon)
    desc = conditions(rs, mon)
    q = (Query(expr, legend_),)
    return [PanelSpec(title, q, unit, steps, desc, "timeseries", lo, hi),
            PanelSpec("Now", q, unit, steps, desc, "stat", lo, hi)]


def _threshold(rs, rv, m: ThresholdMonitor):
    expr = threshold_lhs(rv, m)
    if m.denominator is not None:
        labels = ratio_by(rs, m)
        return _main(rs, m, f"{m.metric} / {m.denominator.metric}", expr, legend(labels) or m.name, "percentunit")
    labels = list(m.by) if m.by else _series_labels(rs, m.metric)
    fn = m.smoothing.function if m.smoothing else None
    unit = "ops" if fn == "rate" else "short" if fn == "increase" else _unit(rs, m.metric)
    lo, hi = (None, None) if fn in ("rate", "increase") else _range(rs, m.metric)
    title = m.metric
    if m.smoothing is not None:
        what = f"p{num(m.smoothing.quantile * 100)}" if fn == "quantile" else fn
        title = f"{m.metric} ({what} over {format_duration(m.smoothing.window)})"
    return _main(rs, m, title, expr, legend(labels) or m.name, unit, lo, hi)


def _flag(rs, rv, m: FlagMonitor):
    return _main(rs, m, m.metric, selector(rv.service, m.metric, m.matchers),
                 legend(_series_labels(rs, m.metric)) or m.name, "short", 0, 1)


def _trend(rs, rv, m: TrendMonitor):
    return _main(rs, m, f"slope of {m.metric} per {m.per} over {format_duration(m.window)}", trend_lhs(rv, m),
                 legend(_series_labels(rs, m.metric)) or m.name, "short")


def _failures(rs, rv, m: FailuresMonitor):
    return _main(rs, m, f"{m.metric}: increase over {format_duration(m.window)}", failures_lhs(rv, m),
                 legend(_series_labels(rs, m.metric)) or m.name, "short")


def _latency(rs, rv, m: LatencyMonitor):
    labels = ratio_by(rs, m)
    return _main(rs, m, f"p{num(m.quantile * 100)} of {m.histogram} over {format_duration(m.window)}",
                 latency_lhs(rv, m), legend(labels) or m.name, _unit(rs, m.histogram))


def _absent(rs, rv, m: AbsentMonitor):
    return _main(rs, m, f"series of {m.metric}", f"count({selector(rv.service, m.metric, m.matchers)})",
                 m.name, "short")


def _raw(rs, rv, m: RawMonitor):
    return _main(rs, m, m.name, (m.plot or m.expr).strip(), "", "short")


def _stalled(rs, rv, m: StalledMonitor):
    desc = conditions(rs, m)
    backlog = PanelSpec(f"{m.backlog.metric} (backlog)",
                        (Query(sel(rv.service, m.backlog), legend(_series_labels(rs, m.backlog.metric)) or m.name),),
                        _unit(rs, m.backlog.metric), th.monitor_steps(rs, m), desc)
    progress = PanelSpec(f"{m.progress.metric}: increase over {format_duration(m.window)} (progress)",
                         (Query(f"increase({sel(rv.service, m.progress)}[{format_duration(m.window)}])",
                                legend(_series_labels(rs, m.progress.metric)) or m.name),),
                         "short", th.steps("above", []),
                         desc + "\n\nStalled while the backlog is above its threshold and this stays at 0.")
    return [backlog, progress]


def _ratio(rs, rv, m: RatioMonitor):
    alerts = [a for a in rs.alerts if a.monitor is m]  # none when the SLO is disabled in this environment
    objective = alerts[0].threshold if alerts else m.threshold
    budget = num(round(1 - objective, 12))
    labels = ratio_by(rs, m)
    extra = variable_matchers(rs, labels)
    longs = sorted({bw.long for rows in burn_windows().values() for bw in rows})
    burn = tuple(Query(f"{slo_recorded(rs, m, SLO_ERROR_RATIO, w, extra)} / {budget}",
                       f"{format_duration(w)} {legend(labels)}".strip()) for w in longs)
    desc = conditions(rs, m) + ("\n\nBurn rate = error ratio / error budget "
                                f"({budget}); 1 spends the budget exactly over {format_duration(m.period)}.")
    longest = max(slo_windows())
    sli = Query(f"1 - {slo_recorded(rs, m, SLO_ERROR_RATIO, longest, extra)}", legend(labels) or m.name)
    return [
        PanelSpec(f"{m.name}: error-budget burn rate", burn, "short", th.monitor_steps(rs, m), desc),
        PanelSpec(f"Success ratio ({format_duration(longest)})", (sli,), "percentunit",
                  th.steps("below", [(objective, alerts[0].severity if alerts else m.ticket_severity)]),
                  f"Objective: {num(round(objective * 100, 6))}% over {format_duration(m.period)}.", "stat"),
    ]


KIND_PANELS = {
    "threshold": _threshold, "flag": _flag, "trend": _trend, "failures": _failures, "stalled": _stalled,
    "ratio": _ratio, "latency": _latency, "absent": _absent, "raw": _raw,
}


def monitor_panels(rs: ResolvedService, mon) -> list[PanelSpec]:
    """The panels of one monitor's row (Prometheus services)."""
    return KIND_PANELS[mon.kind](rs, with_variables(rs), mon)


def monitored_expr(rs: ResolvedService, mon) -> str:
    """The expression the monitor's alerts compare with their thresholds, filtered by the dashboard variables."""
    return monitor_panels(rs, mon)[0].queries[0].expr


def alerts_selector(rs: ResolvedService, state: str | None = None) -> str:
    """``ALERTS{service="...", <variables>}``: the service's pending and firing alerts."""
    parts = [f'service="{escape(rs.name)}"']
    if state:
        parts.append(f'alertstate="{state}"')
    if rs.is_prometheus and variable_matchers(rs):
        parts.append(variable_matchers(rs))
    return "ALERTS{" + ",".join(parts) + "}"
