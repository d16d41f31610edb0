"""The exact commands an on-call engineer runs: a remediation from its template, a scheduled job now.

Also the remediations an alert names, with their commands (:mod:`generators.alertmeta` puts them into the
``remediations`` annotation that every firing alert carries).
"""

from __future__ import annotations

from ..names import remediation_template_name as template_name
from ..resolve import Alert, ResolvedService

RUN_SUFFIX = "$(date +%Y%m%d-%H%M%S)"
"""Suffix of the Job name in a manual run: unique per second, readable in ``kubectl get jobs``."""

REMEDIATIONS_ANNOTATION = "remediations"
"""The alert annotation holding ``<name>: <command>`` of each remediation."""


def run_cronjob_command(cronjob: str, namespace: str) -> str:
    """``kubectl create job --from=cronjob/<cronjob> <cronjob>-<timestamp> -n <namespace>``."""
    return f"kubectl create job --from=cronjob/{cronjob} {cronjob}-{RUN_SUFFIX} -n {namespace}"


def remediation_command(rs: ResolvedService, name: str) -> str:
    """The command that runs remediation ``name`` of the service from its rendered template."""
    return run_cronjob_command(template_name(name), rs.namespace or "")


def job_command(rs: ResolvedService, name: str) -> str:
    """The command that starts a run of scheduled job ``name`` now."""
    return run_cronjob_command(name, rs.namespace or "")


def remediation_commands(a: Alert, rs: ResolvedService) -> list[tuple[str, str]]:
    """(name, command) of each Kubernetes remediation the alert names (its level's, else its monitor's), in
    that order (``ssm-command`` remediations: :mod:`generators.ssm.documents`)."""
    declared = {r.name for r in rs.service.remediations if r.action != "ssm-command"}
    return [(n, remediation_command(rs, n)) for n in a.remediations if n in declared]
