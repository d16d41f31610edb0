"""Semantic diff of two catalogs: what changes for each alert in each environment.

Pure: two :class:`~generators.model.Catalog` objects in, a :class:`Diff` out (formats: :mod:`.diff_format`).
Alerts are compared in their RESOLVED form per environment (overrides applied), so an override that only
touches ``dev`` shows up in ``dev`` only. Fields compared per alert: threshold, for, severity, the exact
expression (PromQL for Prometheus services, the condition for CloudWatch alarms), receiver (routing; with
``alertmanager:`` the receiver Alertmanager delivers it to, the default receiver when its severity is not routed),
grouping (Alertmanager's group_by and timers of its route), inhibited_by (the alerts that silence it), labels, remediations (``alertmeta.remediations``), summary, description, runbook and dashboard links.
Everything else a service declares (jobs, remediations, dashboards, metrics, routing, links ...) is compared
generically, field by field, with lists of named items matched by name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from . import alertmeta
from .durations import format_duration
from .model import Catalog
from .resolve import Alert, ResolvedService, resolve

ALERT_FIELDS = ("threshold", "for", "severity", "expression", "receiver", "grouping", "inhibited_by", "labels",
                "remediations", "summary", "description", "runbook_url", "dashboard_url")
# labels shown as their own fields (severity, receiver) or identical by construction (env)
_LABELS_SHOWN_ELSEWHERE = ("severity", "receiver", "env")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class AlertChange:
    env: str
    service: str
    alert: str
    source: str
    status: str  # added | removed | changed
    changes: list[FieldChange] = field(default_factory=list)
    old: dict | None = None
    new: dict | None = None


@dataclass(frozen=True)
class ServiceChange:
    service: str  # "" for catalog-wide settings (alerts/_defaults.yaml)
    status: str  # added | removed | changed
    field: str
    old: Any
    new: Any


@dataclass
class Diff:
    base: str
    head: str
    catalog: str
    environments: list[str]
    alerts: list[AlertChange]
    services: list[ServiceChange]
    files: list[dict] = field(default_factory=list)
    """Changed files next to the catalog that mlmon renders too (hand-written dashboards): ``{status, path}``."""

    @property
    def changed(self) -> bool:
        return bool(self.alerts or self.services or self.files)

    def counts(self) -> dict[str, int]:
        """Distinct alerts added/removed/changed (in at least one environment), and other changes."""
        out = {}
        for status in ("added", "removed", "changed"):
            out[status] = len({(a.service, a.alert) for a in self.alerts if a.status == status})
        out["service_changes"] = len(self.services)
        return out


# ---------------------------------------------------------------------------------------------------
# the resolved view of one alert


def expression(a: Alert, rs: ResolvedService) -> str:
    if rs.is_prometheus:
        from .kinds import alert_expr

        return alert_expr(a, rs)
    return alertmeta.condition(a, rs)


def routing_view(a: Alert, rs: ResolvedService) -> tuple[str | None, str | None, list[str] | None]:
    """``(receiver, grouping, inhibited_by)`` of an alert in its environment (Alertmanager's view with
    ``alertmanager:`` in the catalog; otherwise the routing entry only)."""
    from .alertmanager.routes import expected_receiver, route_settings, routed, silenced_by

    am = rs.defaults.alertmanager
    if am is None or not routed(rs):
        return rs.service.routing.get(a.severity), None, None
    receiver = expected_receiver(a, rs, am)
    grouping = None
    if a.severity in rs.service.routing:
        st = route_settings(am, a.severity)
        grouping = (f"by {', '.join(st['group_by'])}; wait {format_duration(st['group_wait'])}, interval "
                    f"{format_duration(st['group_interval'])}, repeat {format_duration(st['repeat_interval'])}")
        for f in ("active_time_intervals", "mute_time_intervals"):
            if f in st:
                grouping += f"; {f.split('_')[0]} {', '.join(st[f])}"
    return receiver, grouping, list(silenced_by(rs, am).get(a.name, ())) or None


def alert_view(a: Alert, rs: ResolvedService) -> dict:
    labels = {k: v for k, v in alertmeta.labels(a, rs).items() if k not in _LABELS_SHOWN_ELSEWHERE}
    receiver, grouping, inhibited_by = routing_view(a, rs)
    return {
        "threshold": a.threshold,
        "for": format_duration(a.for_),
        "severity": a.severity,
        "expression": expression(a, rs),
        "receiver": receiver,
        "grouping": grouping,
        "inhibited_by": inhibited_by,
        "labels": labels,
        "remediations": {name: cmd for name, cmd in alertmeta.remediations(a, rs)},
        "summary": a.summary or a.monitor.summary,
        "description": a.monitor.description,
        "runbook_url": alertmeta.runbook_url(a, rs),
        "dashboard_url": alertmeta.dashboard_url(rs),
    }


def _alerts(catalog: Catalog | None, env: str) -> dict[str, tuple[Alert, ResolvedService]]:
    if catalog is None or env not in catalog.defaults.environments:
        return {}
    return {a.name: (a, rs) for rs in resolve(catalog, env) for a in rs.alerts}


def _alert_changes(old: tuple[Alert, ResolvedService], new: tuple[Alert, ResolvedService],
                   ov: dict, nv: dict) -> list[FieldChange]:
    out: list[FieldChange] = []
    for f in ALERT_FIELDS:
        a, b = ov[f], nv[f]
        if a == b:
            continue
        if f in ("labels", "remediations"):
            for key in list(a) + [k for k in b if k not in a]:
                if a.get(key) != b.get(key):
                    out.append(FieldChange(f"{f}.{key}", a.get(key), b.get(key)))
            continue
        if f == "expression" and ov["threshold"] != nv["threshold"]:
            # only report the expression when it changed for more than the threshold
            na, nrs = new
            if expression(dataclasses.replace(na, threshold=old[0].threshold), nrs) == a:
                continue
        out.append(FieldChange(f, a, b))
    return out


# ---------------------------------------------------------------------------------------------------
# generic comparison of everything else a service (or the defaults) declares


def _named(items: Any) -> dict | None:
    """A list of mappings that each carry a unique ``name`` (or ``alert``/``uid``) -> {name: item}."""
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in ("name", "alert", "uid", "title"):
        names = [i.get(key) for i in items]
        if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
            return {n: i for n, i in zip(names, items)}
    return None


def deep_diff(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf differences ``(path, old, new)``; dicts by key, lists of named items by name."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in list(old) + [k for k in new if k not in old]:
            out.extend(deep_diff(old.get(k), new.get(k), f"{path}.{k}" if path else str(k)))
        return out
    on, nn = _named(old), _named(new)
    if on is not None and nn is not None:
        out = []
        for k in list(on) + [k for k in nn if k not in on]:
            out.extend(deep_diff(on.get(k), nn.get(k), f"{path}[{k}]"))
        return out
    return [(path, old, new)]


def _dump(model) -> dict:
    return model.model_dump(mode="json", by_alias=True)


def _service_changes(old: Catalog | None, new: Catalog | None) -> list[ServiceChange]:
    out: list[ServiceChange] = []
    od = _dump(old.defaults) if old else {}
    nd = _dump(new.defaults) if new else {}
    for path, a, b in deep_diff(od, nd):
        out.append(ServiceChange("", "changed", path, a, b))
    osv = {s.service: s for s in old.services} if old else {}
    nsv = {s.service: s for s in new.services} if new else {}
    for name in sorted(set(osv) | set(nsv)):
        if name not in nsv:
            out.append(ServiceChange(name, "removed", "", _summary(osv[name]), None))
            continue
        if name not in osv:
            out.append(ServiceChange(name, "added", "", None, _summary(nsv[name])))
            continue
        a = {k: v for k, v in _dump(osv[name]).items() if k != "monitors"}
        b = {k: v for k, v in _dump(nsv[name]).items() if k != "monitors"}
        for path, x, y in deep_diff(a, b):
            status = "added" if x is None else "removed" if y is None else "changed"
            out.append(ServiceChange(name, status, path, x, y))
    return out


def _summary(svc) -> str:
    return f"{svc.title or svc.service} (team {svc.team}, {len(svc.monitors)} monitors)"


def diff_catalogs(old: Catalog | None, new: Catalog | None, envs: list[str] | None = None, *,
                  base: str = "", head: str = "", catalog: str = "") -> Diff:
    """Compare ``old`` (base) with ``new`` (head) in ``envs`` (default: every environment of either)."""
    all_envs = list(new.defaults.environments if new else ())
    all_envs += [e for e in (old.defaults.environments if old else ()) if e not in all_envs]
    envs = [e for e in all_envs if envs is None or e in envs]
    changes: list[AlertChange] = []
    for env in envs:
        before, after = _alerts(old, env), _alerts(new, env)
        for name in list(after) + [n for n in before if n not in after]:
            if name not in before:
                a, rs = after[name]
                changes.append(AlertChange(env, rs.name, name, rs.service.source.type, "added",
                                           new=alert_view(a, rs)))
            elif name not in after:
                a, rs = before[name]
                changes.append(AlertChange(env, rs.name, name, rs.service.source.type, "removed",
                                           old=alert_view(a, rs)))
            else:
                ov, nv = alert_view(*before[name]), alert_view(*after[name])
                fc = _alert_changes(before[name], after[name], ov, nv)
                if fc:
                    rs = after[name][1]
                    changes.append(AlertChange(env, rs.name, name, rs.service.source.type, "changed", fc, ov, nv))
    order = {e: i for i, e in enumerate(envs)}
    changes.sort(key=lambda c: (c.service, c.alert, order[c.env]))
    return Diff(base, head, catalog, envs, changes, _service_changes(old, new))
