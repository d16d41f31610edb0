"""SSM Run Command documents for remediations of services on EC2 (seed 002), and what on-call needs to run them.

For a service with ``ssm-command`` remediations (and ``hosts:``), :func:`files` renders

- ``ssm/<service>.json``: JSON list of ``CreateDocument`` request bodies (boto3 parameter names): one
  ``Command`` document per remediation, schemaVersion 2.2, one ``aws:runShellScript`` step; ``Content`` is
  the document as a JSON string (pretty-printed, so ``jq -r '.[0].Content'`` reads like the runbook);
- ``ssm/<service>.policy.json``: the least-privilege IAM policy on-call needs to run exactly these documents
  on exactly these hosts and read their output (no ``*`` action or resource).

:func:`send_command` is the exact ``aws ssm send-command`` line for each remediation: ``mlmon remediations``
prints it, alerts and alarm descriptions carry it. The Pulumi program deploys the documents (and the
policy) from these same artifacts. Pure: model in, dicts out; no AWS calls.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from ..jobs.model import SsmCommand
from ..names import ssm_document_name
from ..resolve import Alert, ResolvedService

SCHEMA_VERSION = "2.2"
STEP_ACTION = "aws:runShellScript"
TARGET_TYPE = "/AWS::EC2::Instance"
ENV_PREFIX = "SSM_"
"""``interpolationType: ENV_VAR`` hands a parameter to the script as ``$SSM_<Name>``, never as command text."""


def ssm_remediations(rs: ResolvedService) -> list[SsmCommand]:
    """The service's ssm-command remediations; none while it declares no ``hosts`` (a catalog error that
    generators.checks.jobs reports, so other checks rendering alarm descriptions never meet it)."""
    if rs.service.hosts is None:
        return []
    return [r for r in rs.service.remediations if isinstance(r, SsmCommand)]


def document_name(rs: ResolvedService, rem: SsmCommand) -> str:
    """:func:`generators.names.ssm_document_name` of one remediation."""
    return ssm_document_name(rs, rem.name)


def region(rs: ResolvedService) -> str:
    return getattr(rs.service.source, "region", None) or "us-east-1"


def log_group(rs: ResolvedService) -> str:
    hosts = rs.service.hosts
    return (hosts.output_log_group if hosts and hosts.output_log_group else f"/mlmon/ssm/{rs.name}")


def content(rs: ResolvedService, rem: SsmCommand) -> dict:
    """The Command document (schema 2.2): parameters as environment variables, one shell step."""
    doc: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "description": (rem.description or rem.name).strip()[:1024],
    }
    if rem.parameters:
        params = {}
        for name, p in rem.parameters.items():
            spec: dict[str, Any] = {"type": "String", "description": p.description, "allowedPattern": p.pattern,
                                    "interpolationType": "ENV_VAR"}
            if p.default is not None:
                spec["default"] = p.default
            params[name] = spec
        doc["parameters"] = params
    inputs: dict[str, Any] = {"runCommand": ["set -eu", *rem.commands]}
    if rem.working_directory:
        inputs["workingDirectory"] = rem.working_directory
    inputs["timeoutSeconds"] = str(rem.timeout)
    doc["mainSteps"] = [{
        "action": STEP_ACTION,
        "name": rem.name,
        "precondition": {"StringEquals": ["platformType", "Linux"]},
        "inputs": inputs,
    }]
    return doc


def _tags(rs: ResolvedService, rem: SsmCommand) -> list[dict]:
    return [{"Key": "service", "Value": rs.name}, {"Key": "team", "Value": rs.service.team},
            {"Key": "env", "Value": rs.env}, {"Key": "remediation", "Value": rem.name},
            {"Key": "managed-by", "Value": "mlmon"}]


def documents(rs: ResolvedService) -> list[dict]:
    """``ssm/<service>.json``: one ``CreateDocument`` body per ``ssm-command`` remediation."""
    return [{
        "Name": document_name(rs, rem),
        "DocumentType": "Command",
        "DocumentFormat": "JSON",
        "TargetType": TARGET_TYPE,
        "Content": json.dumps(content(rs, rem), indent=2, ensure_ascii=False),
        "Tags": _tags(rs, rem),
    } for rem in ssm_remediations(rs)]


def targets(rs: ResolvedService) -> list[dict]:
    """SendCommand ``Targets``: every tag of ``hosts.tags`` (ANDed by SSM), or the instance ids."""
    hosts = rs.service.hosts
    assert hosts is not None, "checked by generators.checks.jobs"
    if hosts.tags:
        return [{"Key": f"tag:{k}", "Values": [v]} for k, v in hosts.tags.items()]
    return [{"Key": "InstanceIds", "Values": list(hosts.instance_ids)}]


def send_command(rs: ResolvedService, rem: SsmCommand) -> str:
    """The exact ``aws ssm send-command`` on-call runs (parameters shown with their example or a
    ``<Name>`` placeholder); output goes to the service's CloudWatch Logs group."""
    parts = ["aws", "ssm", "send-command", "--region", region(rs), "--document-name", document_name(rs, rem)]
    for t in targets(rs):
        parts += ["--targets", f"Key={t['Key']},Values={','.join(t['Values'])}"]
    if rem.parameters:
        given = []
        for name, p in rem.parameters.items():
            value = p.example if p.example is not None else (p.default if p.default is not None else f"<{name}>")
            given.append(f"{name}={value}")
        for g in given:
            parts += ["--parameters", g]
    parts += ["--comment", f"mlmon {rs.name} {rem.name}"[:100],
              "--cloud-watch-output-config", f"CloudWatchOutputEnabled=true,CloudWatchLogGroupName={log_group(rs)}"]
    return " ".join(shlex.quote(p) if p and not p.startswith("<") else p for p in parts)


def policy(rs: ResolvedService) -> dict:
    """``ssm/<service>.policy.json``: what on-call needs to run these documents, and nothing else.

    - ``ssm:SendCommand`` on exactly these documents, and on the service's instances: by instance ARN, or on
      this region's instances whose tags match ``hosts.tags`` (``ssm:resourceTag/<key>``);
    - ``ssm:DescribeDocument``/``ssm:GetDocument`` on the documents (the console and ``describe-document``);
    - ``logs:FilterLogEvents``/``logs:DescribeLogStreams`` on the output log group (by its ARN; not
      ``GetLogEvents``, whose resource is a log stream, named after each command id: unknowable in advance).

    The account is ``${aws:PrincipalAccount}`` (an IAM policy variable: the catalog does not know the
    account id, the same reason alarm actions name topics). ``ssm:ListCommandInvocations`` and
    ``ssm:GetCommandInvocation`` accept only ``Resource: "*"``: they are not granted (read the output in the
    log group; docs/remediations.md)."""
    reg = region(rs)
    account = "${aws:PrincipalAccount}"
    docs = [f"arn:aws:ssm:{reg}:{account}:document/{document_name(rs, r)}" for r in ssm_remediations(rs)]
    hosts = rs.service.hosts
    assert hosts is not None
    statements: list[dict] = [{
        "Sid": "RunTheRemediationDocuments",
        "Effect": "Allow",
        "Action": ["ssm:SendCommand"],
        "Resource": docs,
    }]
    if hosts.instance_ids:
        statements.append({"Sid": "OnTheServiceInstances", "Effect": "Allow", "Action": ["ssm:SendCommand"],
                           "Resource": [f"arn:aws:ec2:{reg}:{account}:instance/{i}" for i in hosts.instance_ids]})
    else:
        statements.append({
            "Sid": "OnTheServiceInstances", "Effect": "Allow", "Action": ["ssm:SendCommand"],
            "Resource": [f"arn:aws:ec2:{reg}:{account}:instance/*"],
            "Condition": {"StringEquals": {f"ssm:resourceTag/{k}": [v] for k, v in hosts.tags.items()}},
        })
    statements.append({"Sid": "ReadTheDocuments", "Effect": "Allow",
                       "Action": ["ssm:DescribeDocument", "ssm:GetDocument"], "Resource": docs})
    group = f"arn:aws:logs:{reg}:{account}:log-group:{log_group(rs)}"
    statements.append({"Sid": "ReadTheCommandOutput", "Effect": "Allow",
                       "Action": ["logs:DescribeLogStreams", "logs:FilterLogEvents"], "Resource": [group]})
    return {"Version": "2012-10-17", "Statement": statements}


def files(rs: ResolvedService) -> dict[str, Any]:
    if not ssm_remediations(rs):
        return {}
    return {f"ssm/{rs.name}.json": documents(rs), f"ssm/{rs.name}.policy.json": policy(rs)}


def remediation_commands(a: Alert, rs: ResolvedService) -> list[tuple[str, str]]:
    """(name, ``aws ssm send-command ...``) of each ``ssm-command`` remediation the alert names."""
    by_name = {r.name: r for r in ssm_remediations(rs)}
    return [(n, send_command(rs, by_name[n])) for n in a.remediations if n in by_name]
