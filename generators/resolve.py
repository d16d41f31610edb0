"""The per-environment view of the catalog: overrides applied, disabled alerts dropped.

This is the only place that reads ``overrides``; every generator works on :class:`ResolvedService`,
so no generator ever needs to know an environment's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Catalog, Defaults, Monitor, Service


@dataclass(frozen=True)
class Alert:
    """One alerting rule in one environment, with its resolved threshold, ``for`` and severity."""

    name: str
    monitor: Monitor
    threshold: float | None
    for_: int
    severity: str
    burn: str | None = None
    """The variant of a monitor that derives several alerts from one threshold (``fast``/``slow`` burn of a
    ratio SLO: ``Monitor.alert_variants``)."""
    remediations: tuple[str, ...] = ()
    """Names of the remediations this alert names: its level's, else its monitor's."""
    summary: str | None = None
    """Its level's own summary, if the level has one (else the monitor's applies)."""

    @property
    def kind(self) -> str:
        return self.monitor.kind


@dataclass(frozen=True)
class Deployment:
    """The deployment settings of one environment (``_defaults.yaml``, ``environment_settings.<env>`` applied):
    what the cluster selects rules and dashboards by, where dashboards go, which namespaces objects land in."""

    rule_labels: dict
    dashboard_labels: dict
    dashboard_folder_annotation: str
    dashboard_folder: str
    dashboard_namespace: str
    namespaces: dict

    def namespace(self, name: str) -> str:
        """The namespace objects of catalog namespace ``name`` are rendered into in this environment."""
        return self.namespaces.get(name, name)


def deployment(defaults: Defaults, env: str) -> Deployment:
    o = defaults.environment_settings.get(env)

    def pick(field):
        value = getattr(o, field) if o is not None else None
        return getattr(defaults, field) if value is None else value

    return Deployment(dict(pick("rule_labels")), dict(pick("dashboard_labels")), pick("dashboard_folder_annotation"),
                      pick("dashboard_folder"), pick("dashboard_namespace"), dict(pick("namespaces")))


@dataclass(frozen=True)
class ResolvedService:
    service: Service
    env: str
    defaults: Defaults
    alerts: tuple[Alert, ...]
    file: str = ""
    deployment: Deployment | None = None
    """The environment's deployment settings (rule and dashboard labels, folders, namespaces)."""
    variables: tuple[str, ...] = ()
    """Labels whose dashboard variables (``label=~"$label"``) filter every selector built from this view
    (``generators.grafana.queries.with_variables``); empty for rules and alarms."""
    extra: dict = field(default_factory=dict, compare=False, repr=False)
    """Per-render memo for generators that share an expensive intermediate (e.g. a dashboard used by two
    outputs). Keyed by "<generator>.<name>"; it lives and dies with this per-environment view."""

    @property
    def name(self) -> str:
        return self.service.service

    @property
    def namespace(self) -> str | None:
        """The service's Kubernetes namespace in this environment (``namespaces`` applied); None without one."""
        ns = self.service.namespace
        return self.deployment.namespace(ns) if ns and self.deployment is not None else ns

    @property
    def is_prometheus(self) -> bool:
        return self.service.source.type == "prometheus"

    @property
    def runbook_base(self) -> str:
        return (self.service.links.runbook_base or f"{self.defaults.runbook_base}/{self.name}").rstrip("/")

    def monitors(self) -> list[Monitor]:
        """Enabled monitors in catalog order (a monitor is enabled when any of its alerts is)."""
        seen: list[Monitor] = []
        for a in self.alerts:
            if not any(a.monitor is m for m in seen):
                seen.append(a.monitor)
        return seen


def resolve_service(service: Service, env: str, defaults: Defaults, file: str = "") -> ResolvedService:
    alerts: list[Alert] = []
    for mon in service.monitors:
        alerts.extend(resolve_monitor(mon, env))
    return ResolvedService(service=service, env=env, defaults=defaults, alerts=tuple(alerts), file=file,
                           deployment=deployment(defaults, env))


def resolve(catalog: Catalog, env: str, services: list[str] | None = None) -> list[ResolvedService]:
    if env not in catalog.defaults.environments:
        raise ValueError(f"unknown environment {env!r}; the catalog defines {', '.join(catalog.defaults.environments)}")
    out = []
    for svc in catalog.services:
        if services and svc.service not in services:
            continue
        out.append(resolve_service(svc, env, catalog.defaults, catalog.files.get(svc.service, "")))
    return out


def resolve_monitor(mon: Monitor, env: str) -> list[Alert]:
    mon_override = mon.overrides.get(env)
    enabled = mon.enabled if mon_override is None or mon_override.enabled is None else mon_override.enabled
    if not enabled:
        return []
    if mon.levels:
        out = []
        for lvl in mon.levels:
            o = lvl.overrides.get(env)
            if o is not None and o.enabled is False:
                continue
            out.append(Alert(
                name=lvl.alert,
                monitor=mon,
                threshold=_pick(o and o.threshold, lvl.threshold),
                for_=_pick(o and o.for_, lvl.for_),
                severity=_pick(o and o.severity, lvl.severity),
                remediations=mon.remediations if lvl.remediations is None else lvl.remediations,
                summary=lvl.summary,
            ))
        return out
    o = mon_override
    threshold = _pick(o and o.threshold, mon.threshold)
    if threshold is None:
        threshold = mon.DEFAULT_THRESHOLD
    for_ = _pick(o and o.for_, mon.for_)
    if for_ is None:
        for_ = mon.DEFAULT_FOR
    variants = mon.alert_variants()
    if variants:
        return [Alert(name=f"{mon.name}{suffix}", monitor=mon, threshold=threshold, for_=mon.variant_for(variant, for_),
                      severity=severity, burn=variant, remediations=mon.remediations)
                for suffix, severity, variant in variants]
    severity = _pick(o and o.severity, mon.severity)
    return [Alert(name=mon.name, monitor=mon, threshold=threshold, for_=for_, severity=severity or "warning",
                  remediations=mon.remediations)]


def _pick(override, base):
    return base if override is None else override


def alert_names(mon: Monitor) -> list[str]:
    """Every alert name a monitor can produce, in any environment."""
    variants = mon.alert_variants()
    if variants:
        return [f"{mon.name}{suffix}" for suffix, _, _ in variants]
    if mon.levels:
        return [lvl.alert for lvl in mon.levels]
    return [mon.name]


def alert_remediations(mon: Monitor) -> list[tuple[str, tuple[str, ...]]]:
    """(alert name, remediation names) of every alert a monitor can produce, in any environment."""
    if mon.levels:
        return [(lvl.alert, mon.remediations if lvl.remediations is None else lvl.remediations)
                for lvl in mon.levels]
    return [(name, mon.remediations) for name in alert_names(mon)]
