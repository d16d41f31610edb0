"""Every name mlmon gives a deployed object, in one place (one naming strategy, like cdk-monitoring-constructs).

Alarms, SNS topics and dashboards are named from the service and the alert; nothing else invents a name.
"""

from __future__ import annotations

from .resolve import ResolvedService


def _suffix(rs: ResolvedService) -> str:
    return f"-{rs.env}" if rs.service.source.env_suffix else ""


def alarm_name(rs: ResolvedService, base: str) -> str:
    """CloudWatch alarm ``<service>-<base>`` (``-<env>`` with ``source.env_suffix``)."""
    return f"{rs.name}-{base}{_suffix(rs)}"


def health_alarm_name(rs: ResolvedService) -> str:
    """The service's roll-up composite alarm."""
    return alarm_name(rs, "health")


def topic_name(rs: ResolvedService, severity: str) -> str:
    """SNS topic of a severity: the service's ``routing`` entry, else ``<service>-<severity>``."""
    return (rs.service.routing.get(severity) or f"{rs.name}-{severity}") + _suffix(rs)


def cloudwatch_dashboard_name(rs: ResolvedService) -> str:
    """``source.dashboard``, else the title with anything but letters, digits, '-' and '_' as '-'."""
    src = rs.service.source
    if src.dashboard:
        base = src.dashboard
    else:
        title = rs.service.title or rs.name
        base = "".join(c if c.isalnum() or c in "-_" else "-" for c in title.strip())
    return (base + _suffix(rs))[:255]


def cloudwatch_console_url(rs: ResolvedService) -> str:
    """The service's dashboard link in alarm descriptions: ``links.dashboard``, else its CloudWatch dashboard."""
    if rs.service.links.dashboard:
        return rs.service.links.dashboard
    region = rs.service.source.region
    return (f"https://console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name="
            f"{cloudwatch_dashboard_name(rs)}")
