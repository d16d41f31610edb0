"""Every name mlmon gives a deployed object, in one place (one naming strategy, like cdk-monitoring-constructs):
Kubernetes object names and labels, Grafana uids, CloudWatch alarm, topic and dashboard names.

Nothing else invents a name. Imports no generator module (``rs`` is any resolved service).
"""

from __future__ import annotations

import hashlib

MANAGED_BY = "mlmon"
"""``app.kubernetes.io/managed-by`` of every Kubernetes object and ``managed-by`` tag of every alarm."""
DEFAULT_NAMESPACE = "monitoring"
"""Namespace of a service's PrometheusRule when the service names no namespace."""
DASHBOARD_COMPONENT = "dashboard"
"""``app.kubernetes.io/component`` of dashboard ConfigMaps: how the Pulumi program recognises them."""
TEMPLATE_PREFIX = "remediate-"
MAX_UID = 40
"""Grafana's limit for dashboard uids."""


# --- Kubernetes ---------------------------------------------------------------------------------


def kubernetes_labels(service: str, env: str, name: str, component: str | None = None) -> dict[str, str]:
    """The recommended labels of every object of ``service``: ``name`` is the object's own application name,
    ``part-of`` the service it belongs to."""
    out = {"app.kubernetes.io/name": name}
    if component:
        out["app.kubernetes.io/component"] = component
    out.update({"app.kubernetes.io/part-of": service, "app.kubernetes.io/managed-by": MANAGED_BY, "mlmon.io/env": env})
    return out


def prometheus_rule_name(service: str) -> str:
    return f"{service}-rules"


def remediation_template_name(remediation: str) -> str:
    """A remediation's suspended CronJob template (and its ServiceAccount, Role, RoleBinding)."""
    return f"{TEMPLATE_PREFIX}{remediation}"


def dashboard_configmap_name(uid: str) -> str:
    return f"grafana-dashboard-{uid}"


# --- Grafana ------------------------------------------------------------------------------------


def _bounded(name: str, limit: int = MAX_UID) -> str:
    """``name`` if it fits ``limit``; else its start and 8 hex digits of its SHA-256, ``limit`` characters in
    all, so two long names sharing a prefix never collide (cutting alone made them equal)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:limit - 9].rstrip('-')}-{digest}"


def dashboard_uid(service: str) -> str:
    """Stable Grafana uid of a service's generated dashboard (at most 40 characters): ``mlmon-<service>``, or
    for a long service name its first 31 characters and a hash of the whole (distinct services, distinct uids)."""
    return _bounded(f"mlmon-{service}")


def dashboard_folder(template: str, service: str, team: str) -> str:
    """The Grafana folder title of a dashboard: ``dashboard_folder`` with ``{team}`` and ``{service}`` replaced."""
    return template.replace("{team}", team).replace("{service}", service)


def grafana_folder_uid(title: str) -> str:
    """A stable uid for a Grafana folder title (API delivery)."""
    out = "".join(c if c.isalnum() else "-" for c in title.lower())
    out = "-".join(part for part in out.split("-") if part)
    return _bounded(out) or "mlmon"  # long titles sharing 40 characters get distinct uids


# --- CloudWatch ---------------------------------------------------------------------------------


def _suffix(rs) -> str:
    return f"-{rs.env}" if getattr(rs.service.source, "env_suffix", False) else ""


def alarm_name(rs, base: str) -> str:
    """CloudWatch alarm ``<service>-<base>`` (``-<env>`` with ``source.env_suffix``)."""
    return f"{rs.name}-{base}{_suffix(rs)}"


def health_alarm_name(rs) -> str:
    """The service's roll-up composite alarm."""
    return alarm_name(rs, "health")


def topic_name(rs, severity: str) -> str:
    """SNS topic of a severity: the service's ``routing`` entry, else ``<service>-<severity>``."""
    return (rs.service.routing.get(severity) or f"{rs.name}-{severity}") + _suffix(rs)


def cloudwatch_dashboard_name(rs) -> str:
    """``source.dashboard``, else the title with anything but letters, digits, '-' and '_' as '-'."""
    src = rs.service.source
    if src.dashboard:
        base = src.dashboard
    else:
        title = rs.service.title or rs.name
        base = "".join(c if c.isalnum() or c in "-_" else "-" for c in title.strip())
    return (base + _suffix(rs))[:255]


def ssm_document_name(rs, remediation: str) -> str:
    """An SSM Command document ``<service>-<remediation>`` (plus ``-<env>`` with ``source.env_suffix``): at most
    3-128 of ``[A-Za-z0-9_.-]``, never starting with ``aws``/``amazon``/``amzn`` (SSM reserves them)."""
    return f"{rs.name}-{remediation}{_suffix(rs)}"


def cloudwatch_console_url(rs) -> str:
    """The service's dashboard link in alarm descriptions: ``links.dashboard``, else its CloudWatch dashboard."""
    if rs.service.links.dashboard:
        return rs.service.links.dashboard
    region = rs.service.source.region
    return (f"https://console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name="
            f"{cloudwatch_dashboard_name(rs)}")


def alertmanager_config_name(service: str) -> str:
    """A service's ``AlertmanagerConfig`` (prometheus-operator) in its namespace."""
    return f"{service}-routing"


ALERTMANAGER_CONFIG_KEY = "alertmanager.yaml"
"""Key of the configuration in the Alertmanager Secret (what prometheus-operator and Alertmanager's chart read)."""
