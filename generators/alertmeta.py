"""Labels and annotations of every alert, applied once (the kubernetes-mixin post-processor idea).

Every output that carries an alert (Prometheus rules, CloudWatch alarm descriptions, runbooks, dashboards)
takes its labels, summary, description and links from here.
"""

from __future__ import annotations

from . import kinds
from .durations import format_duration
from .kubernetes.commands import REMEDIATIONS_ANNOTATION
from .kubernetes.commands import remediation_commands as kubernetes_commands
from .ssm.documents import remediation_commands as ssm_commands
from .names import dashboard_uid  # noqa: F401  (re-exported: the uid alerts link to)
from .promql import num
from .resolve import Alert, ResolvedService


def remediations(a: Alert, rs: ResolvedService) -> list[tuple[str, str]]:
    """``(remediation name, exact command to run it)`` for each remediation the alert names: Kubernetes
    remediation templates, then SSM documents. Read by annotations, runbooks, diffs and ``mlmon remediations``."""
    return remediation_commands(a, rs)


def remediation_commands(a: Alert, rs: ResolvedService) -> list[tuple[str, str]]:
    return kubernetes_commands(a, rs) + ssm_commands(a, rs)


def dashboard_url(rs: ResolvedService) -> str:
    return rs.service.links.dashboard or f"{rs.defaults.grafana_url.rstrip('/')}/d/{dashboard_uid(rs.name)}"


def runbook_page(alert_name: str, service: str) -> str:
    """Path of an alert's generated runbook page inside ``mlmon runbooks --out DIR``."""
    return f"{service}/{alert_name}.md"


def runbook_url(a: Alert, rs: ResolvedService) -> str:
    """The alert's runbook: the monitor's own ``runbook`` URL, else its generated page
    (:func:`runbook_page`) under the runbook base: ``<base>/<service>/<AlertName><url_suffix>``."""
    return a.monitor.runbook or f"{rs.runbook_base}/{a.name}{rs.defaults.runbooks.url_suffix}"


def labels(a: Alert, rs: ResolvedService) -> dict[str, str]:
    out = dict(rs.defaults.common_labels)
    out.update(a.monitor.labels)
    if rs.defaults.alertmanager is not None and rs.is_prometheus and rs.namespace:
        # the AlertmanagerConfig of the service matches namespace="<its namespace>" (prometheus-operator)
        out["namespace"] = rs.namespace
    out.update({"severity": a.severity, "service": rs.name, "team": rs.service.team, "env": rs.env})
    receiver = rs.service.routing.get(a.severity)
    if receiver:
        out["receiver"] = receiver
    return out


def condition(a: Alert, rs: ResolvedService) -> str:
    """The alert's condition in words a reviewer reads (used by `thresholds`, runbooks, summaries): the
    ``condition`` facet of its kind."""
    return kinds.condition(a, rs)


def summary(a: Alert, rs: ResolvedService) -> str:
    if a.summary:
        return a.summary
    if a.monitor.summary:
        return a.monitor.summary
    return f"{rs.service.title or rs.name}: {condition(a, rs)}"


def description(a: Alert, rs: ResolvedService) -> str:
    value = kinds.value(a, rs)  # in the threshold's unit
    when = f" for {format_duration(a.for_)}" if a.for_ else ""
    lead = a.monitor.description.rstrip(". ") + ". " if a.monitor.description else ""
    if a.burn in ("fast", "slow"):  # a ratio SLO's burn-rate alerts (its absent alert reads like any other)
        return (f"{lead}The error budget of the {num(round(a.threshold * 100, 6))}% objective is burning "
                f"{'fast' if a.burn == 'fast' else 'steadily'}{when}: {condition(a, rs)}.")
    return f"{lead}Current value {value}; fires when {condition(a, rs)}{when}."


def annotations(a: Alert, rs: ResolvedService) -> dict[str, str]:
    out = {
        "summary": summary(a, rs),
        "description": description(a, rs),
        "runbook_url": runbook_url(a, rs),
        "dashboard_url": dashboard_url(rs),
    }
    pairs = remediations(a, rs)
    if pairs:  # the notification carries what to run: one line `<name>: <command>` per remediation
        out[REMEDIATIONS_ANNOTATION] = "\n".join(f"{name}: {cmd}" for name, cmd in pairs)
    return out
