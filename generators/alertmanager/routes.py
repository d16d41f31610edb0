"""The routing of one environment as plain data, shared by both forms (file and ``AlertmanagerConfig``), the
routing tests, ``mlmon diff`` and ``mlmon thresholds``.

- a route per Prometheus service (``service`` and ``team`` matchers), under it one route per severity its
  ``routing`` names and one of its alerts has in this environment, to that receiver, with the severity's
  grouping and timing (``alertmanager.routing`` over :data:`~.model.DEFAULT_ROUTING`);
- alerts whose severity the service does not route go to the default receiver (``null``: nobody);
- inhibitions: within a monitor, each stronger alert (a later level; the fast burn) silences the weaker ones of
  the same series; a monitor's ``inhibits`` silences the alerts it names (or ``all`` others of its service).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..durations import format_duration
from ..resolve import Alert, ResolvedService
from ..types import SEVERITIES
from .model import DEFAULT_ROUTING, AlertmanagerSettings, RouteSettings

NULL_RECEIVER = "null"
RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class SeverityRoute:
    severity: str
    receiver: str
    settings: dict
    """group_by (list), group_wait/group_interval/repeat_interval (seconds), active/mute_time_intervals (lists)."""


@dataclass(frozen=True)
class ServiceRoute:
    service: str
    team: str
    namespace: str | None
    routes: tuple[SeverityRoute, ...]


@dataclass(frozen=True)
class Inhibition:
    service: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    equal: tuple[str, ...]
    reason: str
    """``levels`` (a stronger alert of the same monitor) or ``inhibits`` (the monitor's own ``inhibits``)."""


def settings(rs_or_defaults) -> AlertmanagerSettings | None:
    defaults = getattr(rs_or_defaults, "defaults", rs_or_defaults)
    return defaults.alertmanager


def default_receiver(am: AlertmanagerSettings) -> str:
    return am.default_receiver or NULL_RECEIVER


def route_settings(am: AlertmanagerSettings, severity: str) -> dict:
    """The grouping and timing of ``severity``'s routes: the catalog's ``alertmanager.routing.<severity>`` over the
    defaults."""
    given: RouteSettings = am.routing.get(severity) or RouteSettings()
    base = DEFAULT_ROUTING[severity]
    out = {"group_by": list(given.group_by if given.group_by is not None else am.group_by)}
    for f in ("group_wait", "group_interval", "repeat_interval"):
        v = getattr(given, f)
        out[f] = base[f] if v is None else v
    for f in ("active_time_intervals", "mute_time_intervals"):
        v = getattr(given, f)
        if v:
            out[f] = list(v)
    return out


def routed(rs: ResolvedService) -> bool:
    """Whether the service's alerts go through Alertmanager (Prometheus services with alerts)."""
    return rs.is_prometheus and bool(rs.alerts)


def service_route(rs: ResolvedService, am: AlertmanagerSettings) -> ServiceRoute:
    present = {a.severity for a in rs.alerts}
    routes = tuple(SeverityRoute(sev, recv, route_settings(am, sev))
                   for sev, recv in sorted(rs.service.routing.items(), key=lambda kv: -RANK[kv[0]])
                   if sev in present)
    return ServiceRoute(rs.name, rs.service.team, rs.namespace, routes)


def expected_receiver(a: Alert, rs: ResolvedService, am: AlertmanagerSettings) -> str:
    """The receiver the catalog names for an alert: its service's ``routing`` entry for its severity, else the
    default receiver."""
    return rs.service.routing.get(a.severity) or default_receiver(am)


LEVEL_VARIANTS = ("fast", "slow")
"""Derived variants that are levels of one signal, strongest first (a ratio SLO's burn rates). Other derived
alerts (a ratio's ``MetricsAbsent``) are not levels: they neither silence nor are silenced by the burns."""


def _strength_order(mon, alerts: list[Alert]) -> list[Alert]:
    """The monitor's alerts that are levels of one signal, from weakest to strongest: levels in catalog order
    (later = stronger); derived variants in :data:`LEVEL_VARIANTS` order."""
    if mon.levels:
        order = [lvl.alert for lvl in mon.levels]
    elif mon.alert_variants():
        rank = {v: i for i, v in enumerate(LEVEL_VARIANTS)}
        levels = sorted((v for v in mon.alert_variants() if v[2] in rank), key=lambda v: -rank[v[2]])
        order = [f"{mon.name}{suffix}" for suffix, _, _ in levels]
    else:
        order = [mon.name]
    by_name = {a.name: a for a in alerts}
    return [by_name[n] for n in order if n in by_name]


def _equal(*groups) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for g in groups:
        out.update(dict.fromkeys(g))
    return tuple(out)


def inhibitions(rs: ResolvedService, am: AlertmanagerSettings) -> list[Inhibition]:
    out: list[Inhibition] = []
    by_monitor: dict[int, list[Alert]] = {}
    for a in rs.alerts:
        by_monitor.setdefault(id(a.monitor), []).append(a)
    for mon in rs.monitors():
        mine = by_monitor[id(mon)]
        alerts = _strength_order(mon, mine)
        if am.inhibit_levels and len(alerts) > 1:
            equal = _equal(("env", "service"), rs.service.labels, getattr(mon, "by", None) or (), am.inhibit_equal)
            for i in range(len(alerts) - 1, 0, -1):
                out.append(Inhibition(rs.name, (alerts[i].name,), tuple(a.name for a in reversed(alerts[:i])),
                                      equal, "levels"))
        if mon.inhibits is not None:
            alerts = mine
            own = {a.name for a in alerts}
            if mon.inhibits.alerts == "all":
                targets = tuple(a.name for a in rs.alerts if a.name not in own)
            else:
                present = {a.name for a in rs.alerts}
                targets = tuple(n for n in mon.inhibits.alerts if n in present and n not in own)
            if targets and alerts:
                out.append(Inhibition(rs.name, tuple(a.name for a in alerts), targets,
                                      _equal(("env", "service"), mon.inhibits.equal), "inhibits"))
    return out


def silenced_by(rs: ResolvedService, am: AlertmanagerSettings) -> dict[str, tuple[str, ...]]:
    """alert name -> the alerts that silence it (inhibition sources), for reviews and runbooks."""
    out: dict[str, list[str]] = {}
    for inh in inhibitions(rs, am):
        for t in inh.targets:
            out.setdefault(t, []).extend(s for s in inh.sources if s not in out.get(t, []))
    return {k: tuple(v) for k, v in out.items()}


def duration(seconds: int) -> str:
    return format_duration(seconds)


def matcher(name: str, value: str, op: str = "=") -> str:
    """An Alertmanager matcher string, the value quoted and escaped (``service="rl-feedback-loop"``)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}{op}"{escaped}"'


def alternatives(names) -> str:
    """A regular expression matching exactly these names (Alertmanager anchors matcher regexes)."""
    import re

    return "|".join(re.escape(n) for n in names)
