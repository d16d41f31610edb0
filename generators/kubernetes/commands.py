"""The exact commands an on-call engineer runs: a remediation from its template, a scheduled job now.

Also the two alert hooks (registered in :mod:`generators.alertmeta`): the remediations an alert names,
and the ``remediations`` annotation that carries their commands onto every firing alert.
"""

from __future__ import annotations

from ..jobs.model import template_name
from ..resolve import Alert, ResolvedService

RUN_SUFFIX = "$(date +%Y%m%d-%H%M%S)"
"""Suffix of the Job name in a manual run: unique per second, readable in ``kubectl get jobs``."""

ANNOTATION = "remediations"


def run_cronjob_command(cronjob: str, namespace: str) -> str:
    """``kubectl create job --from=cronjob/<cronjob> <cronjob>-<timestamp> -n <namespace>``."""
    return f"kubectl create job --from=cronjob/{cronjob} {cronjob}-{RUN_SUFFIX} -n {namespace}"


def remediation_command(rs: ResolvedService, name: str) -> str:
    """The command that runs remediation ``name`` of the service from its rendered template."""
    return run_cronjob_command(template_name(name), rs.service.namespace or "")


def job_command(rs: ResolvedService, name: str) -> str:
    """The command that starts a run of scheduled job ``name`` now."""
    return run_cronjob_command(name, rs.service.namespace or "")


def remediation_commands(a: Alert, rs: ResolvedService) -> list[tuple[str, str]]:
    """``generators.alertmeta.REMEDIATION_PROVIDERS`` hook: (name, command) of each remediation the alert's
    monitor names, in the monitor's order."""
    declared = {r.name for r in rs.service.remediations if r.action != "ssm-command"}
    return [(n, remediation_command(rs, n)) for n in a.remediations if n in declared]


def remediation_annotation(a: Alert, rs: ResolvedService) -> dict[str, str]:
    """``generators.alertmeta.ANNOTATION_PROVIDERS`` hook: one line ``<name>: <command>`` per remediation of
    every provider, so the notification carries what to run."""
    from ..alertmeta import remediations

    pairs = remediations(a, rs)
    if not pairs:
        return {}
    return {ANNOTATION: "\n".join(f"{name}: {cmd}" for name, cmd in pairs)}
