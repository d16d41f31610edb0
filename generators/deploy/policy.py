"""mlmon's CrossGuard policy pack for the stack program (``policy/``; ``pulumi preview --policy-pack policy``).

Four policies, each about what mlmon promises of a deployment, checked on what Pulumi is about to create:

- ``cloudwatch-alarms-notify``: no alarm can change state silently. Every metric alarm has actions enabled
  and at least one alarm action; a composite alarm has alarm actions, or is a roll-up of alarms that all do
  (its children notify; mlmon's ``<service>-health`` roll-up has actions only with ``composite_severity``).
- ``sns-topics-encrypted``: every SNS topic is encrypted with a KMS key (checkov's CKV_AWS_26) other than
  the AWS managed ``alias/aws/sns``, which CloudWatch alarms cannot publish to; or it carries the
  ``mlmon:unencrypted-reason`` tag saying why not (stack config ``snsKmsKey: none``).
- ``sns-subscriptions-protocol``: SNS subscriptions use an allowed protocol (config ``allowedProtocols``,
  default :data:`DEFAULT_PROTOCOLS`; SNS itself refuses an endpoint that does not match its protocol).
  ``http`` is never in the default: alert content and the integration keys paging services put in their
  URLs would travel in clear text.
- ``kubernetes-mlmon-labels``: every Kubernetes object carries mlmon's labels (:data:`MLMON_LABELS`:
  managed-by mlmon, its name, the service it is part of, the environment), and all of a stack's objects
  name the same environment.

The policies are plain pulumi-policy objects (:data:`POLICIES`). The Pulumi CLI runs them through
``policy/__main__.py``; the tests run the same objects through pulumi-policy's own analyzer
(:func:`analyze`) on what the stack program declares under Pulumi's mocks (:mod:`generators.deploy.mocks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationArgs,
                           ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy)

from .config import AWS_MANAGED_SNS_KEY
from .mapping import UNENCRYPTED_TAG

PACK_NAME = "mlmon"
PACK_VERSION = "0.1.0"

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"

DEFAULT_PROTOCOLS = ("https", "email", "email-json", "sqs", "lambda", "firehose")
"""Why each: ``https`` (TLS to a webhook or paging service); ``email``/``email-json`` (the usual channel for
warnings; SNS delivers only after the recipient confirms); ``sqs``, ``lambda``, ``firehose`` (inside AWS,
over TLS, authorised by IAM). Not by default: ``http`` (clear text), ``sms`` and ``application`` (phones
and apps outside the team's tooling); allow them per organisation with ``allowedProtocols``."""

MLMON_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/name", "app.kubernetes.io/part-of",
                "mlmon.io/env")
"""Labels every Kubernetes object mlmon renders carries (``app.kubernetes.io/managed-by: mlmon``)."""

_RULE_REF = re.compile(r'\b(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^"()]+?)"?\s*\)')


def _alarm_name(r) -> str:
    return r.props.get("name") or r.props.get("alarmName") or r.name


def _notifies(props) -> str | None:
    """Why an alarm's state changes reach nobody, or None when they reach someone."""
    if props.get("actionsEnabled") is False:
        return "its actions are disabled (actionsEnabled: false)"
    if not props.get("alarmActions"):
        return "it has no alarm actions"
    return None


def _alarms_notify(args: StackValidationArgs, report_violation: ReportViolation):
    alarms = [r for r in args.resources if r.resource_type in (METRIC_ALARM, COMPOSITE_ALARM)]
    silent = {}
    for r in alarms:
        why = _notifies(r.props)
        if why:
            silent[_alarm_name(r)] = why
    arn_name = re.compile(r"^arn:aws[\w-]*:cloudwatch:[^:]*:[^:]*:alarm:(.+)$")
    for r in alarms:
        name = _alarm_name(r)
        if name not in silent:
            continue
        if r.resource_type == METRIC_ALARM:
            report_violation(f"metric alarm {name!r}: {silent[name]}", r.urn)
            continue
        children = []
        for ref in _RULE_REF.findall(r.props.get("alarmRule") or ""):
            m = arn_name.fullmatch(ref)
            children.append(m[1] if m else ref)
        known = {_alarm_name(a) for a in alarms}
        quiet = [c for c in children if c in silent or c not in known]
        if not children or quiet:
            detail = ", ".join(f"{c} ({silent.get(c, 'not declared by this stack')})" for c in quiet) or "no children"
            report_violation(f"composite alarm {name!r}: {silent[name]}, and its rule names alarms that do not "
                             f"notify either: {detail}", r.urn)


def _topic_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type != TOPIC:
        return
    key = args.props.get("kmsMasterKeyId")
    tags = args.props.get("tags") or {}
    if key:
        if key == AWS_MANAGED_SNS_KEY or str(key).endswith(f":{AWS_MANAGED_SNS_KEY}"):
            report_violation(f"SNS topic {args.name!r} is encrypted with the AWS managed key {AWS_MANAGED_SNS_KEY}: "
                             "CloudWatch alarms cannot publish to it (its key policy cannot allow "
                             "cloudwatch.amazonaws.com); use a customer-managed key")
        return
    if str(tags.get(UNENCRYPTED_TAG) or "").strip():
        return
    report_violation(f"SNS topic {args.name!r} is not encrypted (no kmsMasterKeyId; CKV_AWS_26) and no "
                     f"{UNENCRYPTED_TAG} tag says why")


def _subscription_protocol(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type != SUBSCRIPTION:
        return
    allowed = list(args.get_config().get("allowedProtocols") or DEFAULT_PROTOCOLS)
    protocol = args.props.get("protocol")
    if protocol not in allowed:
        report_violation(f"SNS subscription {args.name!r} uses protocol {protocol!r}; allowed: {', '.join(allowed)}")


def _kubernetes_labels(args: ResourceValidationArgs, report_violation: ReportViolation):
    if not args.resource_type.startswith("kubernetes:"):
        return
    labels = ((args.props.get("metadata") or {}).get("labels")) or {}
    missing = [k for k in MLMON_LABELS if not labels.get(k)]
    if missing:
        report_violation(f"{args.resource_type} {args.name!r} lacks mlmon label(s) {', '.join(missing)}")
    elif labels["app.kubernetes.io/managed-by"] != "mlmon":
        report_violation(f"{args.resource_type} {args.name!r}: app.kubernetes.io/managed-by is "
                         f"{labels['app.kubernetes.io/managed-by']!r}, not 'mlmon'")


def _one_environment(args: StackValidationArgs, report_violation: ReportViolation):
    envs: dict[str, list[str]] = {}
    for r in args.resources:
        if r.resource_type.startswith("kubernetes:"):
            env = (((r.props.get("metadata") or {}).get("labels")) or {}).get("mlmon.io/env")
            if env:
                envs.setdefault(env, []).append(r.name)
    if len(envs) > 1:
        detail = "; ".join(f"{e}: {len(ns)} object(s), e.g. {ns[0]}" for e, ns in sorted(envs.items()))
        report_violation(f"Kubernetes objects of one stack name different environments (mlmon.io/env): {detail}")


POLICIES = [
    StackValidationPolicy(
        name="cloudwatch-alarms-notify",
        description="Every CloudWatch alarm notifies someone: actions enabled and alarm actions set (a composite "
                    "roll-up without actions only over alarms that all notify).",
        validate=_alarms_notify),
    ResourceValidationPolicy(
        name="sns-topics-encrypted",
        description="Every SNS topic is encrypted with a customer-managed KMS key CloudWatch can use, or its "
                    f"{UNENCRYPTED_TAG} tag says why not.",
        validate=_topic_encrypted),
    ResourceValidationPolicy(
        name="sns-subscriptions-protocol",
        description="SNS subscriptions use an allowed protocol (by default https, email, email-json, sqs, lambda, "
                    "firehose; never http).",
        validate=_subscription_protocol,
        config_schema=PolicyConfigSchema(properties={"allowedProtocols": {
            "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_PROTOCOLS)}})),
    ResourceValidationPolicy(
        name="kubernetes-mlmon-labels",
        description="Every Kubernetes object carries mlmon's labels (" + ", ".join(MLMON_LABELS) + ").",
        validate=_kubernetes_labels),
    StackValidationPolicy(
        name="kubernetes-one-environment",
        description="All Kubernetes objects of a stack belong to one environment (mlmon.io/env).",
        validate=_one_environment),
]


# ----------------------------------------------------------------------------------------------
# running the pack without the Pulumi CLI: pulumi-policy's analyzer on a mocked run


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    urn: str
    message: str


def _urn(stack: str, project: str, typ: str, name: str, parent_type: str = "") -> str:
    qualified = f"{parent_type}${typ}" if parent_type else typ
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def analyze(run, config: dict | None = None, project: str = "mlmon") -> list[Violation]:
    """Every violation the pack reports on ``run`` (a :class:`generators.deploy.mocks.Run`), through
    pulumi-policy's own analyzer service, the one the Pulumi CLI calls over gRPC: ``Configure`` with
    ``config`` (``{policy name: {key: value}}``), then ``Analyze`` for every resource and
    ``AnalyzeStack`` once, with the inputs as the engine sends them (secrets marked)."""
    from google.protobuf import json_format, struct_pb2
    from pulumi.runtime import proto
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, POLICIES, EnforcementLevel.MANDATORY)
    request = proto.ConfigureAnalyzerRequest()
    for name, values in (config or {}).items():
        pc = request.policyConfig[name]
        pc.enforcementLevel = proto.MANDATORY
        json_format.ParseDict(values, pc.properties)
    servicer.Configure(request, None)

    urns = {}
    for r in run.resources:
        urns[(r.type, r.name)] = _urn(run.stack, project, r.type, r.name, r.parent_type)
    resources = []
    for r in run.resources:
        props = struct_pb2.Struct()
        json_format.ParseDict(r.inputs, props)
        parent = urns.get((r.parent_type, r.parent), "")
        opts = proto.AnalyzerResourceOptions(parent=parent)
        resources.append(proto.AnalyzerResource(
            type=r.type, properties=props, urn=urns[(r.type, r.name)], name=r.name, options=opts, parent=parent,
            dependencies=[urns[d] for d in r.dependencies if d in urns]))
    out: list[Violation] = []

    def collect(response, urn=""):
        for d in response.diagnostics:
            level = proto.EnforcementLevel.Name(d.enforcementLevel)
            out.append(Violation(d.policyName, level, d.urn or urn, d.message))

    for res in resources:
        collect(servicer.Analyze(proto.AnalyzeRequest(type=res.type, properties=res.properties, urn=res.urn,
                                                      name=res.name, options=res.options), None), res.urn)
    collect(servicer.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None))
    return out
