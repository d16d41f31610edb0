"""Labels and annotations of every alert, applied once (the kubernetes-mixin post-processor idea).

Every output that carries an alert (Prometheus rules, CloudWatch alarm descriptions, runbooks, dashboards)
takes its labels, summary, description and links from here.
"""

from __future__ import annotations

from .durations import format_duration
from .model import RatioMonitor
from .promql import num
from .resolve import Alert, ResolvedService

# Extra annotation providers: fn(alert, rs) -> {annotation: value} | None, added to every alert.
ANNOTATION_PROVIDERS: list = []
# Remediation providers: fn(alert, rs) -> [(remediation name, exact command to run it)], e.g. from the
# remediation Job templates. Read through `remediations()` by runbooks, diffs and `mlmon remediations`.
REMEDIATION_PROVIDERS: list = []
from .kubernetes.commands import remediation_annotation, remediation_commands  # noqa: E402  (remediation templates)
from .ssm import remediation_commands as ssm_remediation_commands  # noqa: E402  (SSM documents, seed 002)
REMEDIATION_PROVIDERS.append(remediation_commands)
REMEDIATION_PROVIDERS.append(ssm_remediation_commands)
ANNOTATION_PROVIDERS.append(remediation_annotation)


def remediations(a: Alert, rs: ResolvedService) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for provider in REMEDIATION_PROVIDERS:
        out.extend(provider(a, rs))
    return out


def dashboard_uid(service: str) -> str:
    """Stable Grafana uid of a service's generated dashboard (at most 40 characters)."""
    return f"mlmon-{service}"[:40]


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
    out.update({"severity": a.severity, "service": rs.name, "team": rs.service.team, "env": rs.env})
    receiver = rs.service.routing.get(a.severity)
    if receiver:
        out["receiver"] = receiver
    return out


def condition(a: Alert, rs: ResolvedService) -> str:
    """The alert's condition in words a reviewer reads (used by `thresholds`, runbooks, summaries)."""
    from .describe import describe_condition

    return describe_condition(a, rs)


def summary(a: Alert, rs: ResolvedService) -> str:
    if a.summary:
        return a.summary
    if a.monitor.summary:
        return a.monitor.summary
    return f"{rs.service.title or rs.name}: {condition(a, rs)}"


def description(a: Alert, rs: ResolvedService) -> str:
    value = "{{ $value | humanize }}"
    when = f" for {format_duration(a.for_)}" if a.for_ else ""
    lead = a.monitor.description.rstrip(". ") + ". " if a.monitor.description else ""
    if isinstance(a.monitor, RatioMonitor):
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
    for provider in ANNOTATION_PROVIDERS:
        extra = provider(a, rs)
        if extra:
            out.update(extra)
    return out
