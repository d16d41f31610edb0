"""Artifact objects -> arguments of typed Pulumi resources. Pure functions; no Pulumi import.

The mapping is by type only: Kubernetes manifests map by ``(apiVersion, kind)`` through
:data:`KUBERNETES_KINDS`, unchanged; every top-level field of a manifest must be one the resource takes (an
unknown kind or field is an error, never dropped).
CloudWatch request bodies (boto3 parameter names) map field by field to the pulumi-aws arguments through
:data:`METRIC_ALARM`, :data:`COMPOSITE_ALARM` and :data:`DASHBOARD`; an unknown parameter is an error.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from ..names import DASHBOARD_COMPONENT


class MappingError(ValueError):
    """An artifact object that has no typed Pulumi resource (or a field that resource does not take)."""


# ----------------------------------------------------------------------------------------------
# Kubernetes


@dataclass(frozen=True)
class KubeKind:
    resource: str
    """Attribute path under ``pulumi_kubernetes`` (e.g. ``batch.v1.CronJob``)."""
    type_token: str
    """The Pulumi type token the resource registers as."""
    fields: dict[str, str]
    """Manifest top-level field -> Python keyword argument (apiVersion, kind and metadata are implied)."""
    custom: bool = False
    """Declared as ``apiextensions.CustomResource`` (api_version and kind passed explicitly)."""


_POD_LIKE = {"spec": "spec"}

KUBERNETES_KINDS: dict[tuple[str, str], KubeKind] = {
    ("monitoring.coreos.com/v1", "PrometheusRule"): KubeKind(
        "apiextensions.CustomResource", "kubernetes:monitoring.coreos.com/v1:PrometheusRule", _POD_LIKE,
        custom=True),
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): KubeKind(
        "apiextensions.CustomResource", "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig", _POD_LIKE,
        custom=True),
    ("v1", "Secret"): KubeKind(
        "core.v1.Secret", "kubernetes:core/v1:Secret", {"type": "type", "stringData": "string_data"}),
    ("v1", "ConfigMap"): KubeKind(
        "core.v1.ConfigMap", "kubernetes:core/v1:ConfigMap",
        {"data": "data", "binaryData": "binary_data", "immutable": "immutable"}),
    ("v1", "ServiceAccount"): KubeKind(
        "core.v1.ServiceAccount", "kubernetes:core/v1:ServiceAccount",
        {"automountServiceAccountToken": "automount_service_account_token",
         "imagePullSecrets": "image_pull_secrets", "secrets": "secrets"}),
    ("batch/v1", "CronJob"): KubeKind("batch.v1.CronJob", "kubernetes:batch/v1:CronJob", _POD_LIKE),
    ("batch/v1", "Job"): KubeKind("batch.v1.Job", "kubernetes:batch/v1:Job", _POD_LIKE),
    ("rbac.authorization.k8s.io/v1", "Role"): KubeKind(
        "rbac.v1.Role", "kubernetes:rbac.authorization.k8s.io/v1:Role", {"rules": "rules"}),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): KubeKind(
        "rbac.v1.RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        {"roleRef": "role_ref", "subjects": "subjects"}),
}
"""Every Kubernetes kind the program deploys. Adding a kind to the render means adding a line here."""


@dataclass(frozen=True)
class KubeObject:
    kind: KubeKind
    api_version: str
    kind_name: str
    name: str
    """Pulumi logical name: ``<namespace>/<name>`` (or ``<name>`` without a namespace)."""
    metadata: dict
    args: dict
    """Keyword arguments besides metadata (e.g. ``spec``, ``data``, ``role_ref``)."""

    def manifest(self) -> dict:
        """The manifest this object deploys (apiVersion, kind, metadata, then the fields)."""
        rev = {v: k for k, v in self.kind.fields.items()}
        out = {"apiVersion": self.api_version, "kind": self.kind_name, "metadata": self.metadata}
        out.update({rev[k]: v for k, v in self.args.items()})
        return out


def kube_object(manifest: dict, where: str) -> KubeObject:
    """Map one rendered manifest to its typed resource, as it is: the program changes no field (namespaces,
    labels and folders are rendered from the catalog's per-environment settings)."""
    if not isinstance(manifest, dict):
        raise MappingError(f"{where}: expected a Kubernetes object (mapping), got {type(manifest).__name__}")
    api_version, kind_name = manifest.get("apiVersion"), manifest.get("kind")
    kind = KUBERNETES_KINDS.get((api_version, kind_name))
    if kind is None:
        known = ", ".join(f"{a} {k}" for a, k in KUBERNETES_KINDS)
        raise MappingError(f"{where}: no Pulumi resource for apiVersion {api_version!r} kind {kind_name!r} "
                           f"(the program deploys: {known}; add it to generators/deploy/mapping.py)")
    meta = copy.deepcopy(manifest.get("metadata") or {})
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise MappingError(f"{where}: {kind_name} has no metadata.name")
    unknown = sorted(set(manifest) - {"apiVersion", "kind", "metadata"} - set(kind.fields))
    if unknown:
        raise MappingError(f"{where}: {kind_name} {name}: field(s) {', '.join(unknown)} are not deployed by "
                           f"kubernetes {kind.resource} (known: {', '.join(kind.fields)})")
    args = {kind.fields[k]: copy.deepcopy(v) for k, v in manifest.items() if k in kind.fields}
    ns = meta.get("namespace")
    return KubeObject(kind, api_version, kind_name, f"{ns}/{name}" if ns else name, meta, args)


def is_dashboard_configmap(manifest: dict) -> bool:
    """A dashboard ConfigMap, as the render labels it (``app.kubernetes.io/component: dashboard``)."""
    labels = ((manifest or {}).get("metadata") or {}).get("labels") or {}
    return manifest.get("kind") == "ConfigMap" and labels.get("app.kubernetes.io/component") == DASHBOARD_COMPONENT


def dashboard_configmaps(artifacts) -> list[KubeObject]:
    out = []
    for a in artifacts:
        if a.path.startswith("kubernetes/"):
            for i, m in enumerate(a.content if a.multi else [a.content]):
                if isinstance(m, dict) and is_dashboard_configmap(m):
                    out.append(kube_object(m, f"{a.path} (document {i + 1})"))
    return out


def uids_in_configmap(o: KubeObject) -> list[str]:
    out = []
    for text in (o.args.get("data") or {}).values():
        try:
            doc = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("uid"), str):
            out.append(doc["uid"])
    return out


# ----------------------------------------------------------------------------------------------
# CloudWatch (boto3 request bodies -> pulumi-aws arguments)

ACTION_KEYS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def _dimensions(v: list[dict]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in v}


def _tags(v: list[dict]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in v}


def _fields(table: dict[str, Any], body: dict, where: str) -> dict:
    out = {}
    unknown = sorted(set(body) - set(table))
    if unknown:
        raise MappingError(f"{where}: parameter(s) {', '.join(unknown)} have no pulumi-aws argument "
                           "(generators/deploy/mapping.py)")
    for key, value in body.items():
        target = table[key]
        if isinstance(target, tuple):
            name, convert = target
            out[name] = convert(value)
        else:
            out[target] = value
    return out


METRIC_STAT_METRIC = {"Namespace": "namespace", "MetricName": "metric_name",
                      "Dimensions": ("dimensions", _dimensions)}


def _metric_stat(v: dict, where: str = "MetricStat") -> dict:
    unknown = sorted(set(v) - {"Metric", "Period", "Stat", "Unit"})
    if unknown:
        raise MappingError(f"{where}: parameter(s) {', '.join(unknown)} have no pulumi-aws argument")
    out = _fields(METRIC_STAT_METRIC, v.get("Metric", {}), f"{where}.Metric")
    for key, name in (("Period", "period"), ("Stat", "stat"), ("Unit", "unit")):
        if key in v:
            out[name] = v[key]
    return out


METRIC_QUERY = {
    "Id": "id", "Expression": "expression", "Label": "label", "ReturnData": "return_data",
    "Period": "period", "AccountId": "account_id", "MetricStat": ("metric", _metric_stat),
}


def _queries(v: list[dict]) -> list[dict]:
    return [_fields(METRIC_QUERY, q, f"Metrics[{i}]") for i, q in enumerate(v)]


METRIC_ALARM: dict[str, Any] = {
    "AlarmName": "name",
    "AlarmDescription": "alarm_description",
    "ActionsEnabled": "actions_enabled",
    "OKActions": "ok_actions",
    "AlarmActions": "alarm_actions",
    "InsufficientDataActions": "insufficient_data_actions",
    "MetricName": "metric_name",
    "Namespace": "namespace",
    "Statistic": "statistic",
    "ExtendedStatistic": "extended_statistic",
    "Dimensions": ("dimensions", _dimensions),
    "Period": "period",
    "Unit": "unit",
    "EvaluationPeriods": "evaluation_periods",
    "DatapointsToAlarm": "datapoints_to_alarm",
    "Threshold": "threshold",
    "ComparisonOperator": "comparison_operator",
    "TreatMissingData": "treat_missing_data",
    "EvaluateLowSampleCountPercentile": "evaluate_low_sample_count_percentiles",
    "Metrics": ("metric_queries", _queries),
    "Tags": ("tags", _tags),
    "ThresholdMetricId": "threshold_metric_id",
}
"""boto3 ``PutMetricAlarm`` parameter -> ``aws.cloudwatch.MetricAlarm`` argument (or (argument, converter))."""

COMPOSITE_ALARM: dict[str, Any] = {
    "AlarmName": "alarm_name",
    "AlarmRule": "alarm_rule",
    "AlarmDescription": "alarm_description",
    "ActionsEnabled": "actions_enabled",
    "OKActions": "ok_actions",
    "AlarmActions": "alarm_actions",
    "InsufficientDataActions": "insufficient_data_actions",
    "Tags": ("tags", _tags),
}
"""boto3 ``PutCompositeAlarm`` parameter -> ``aws.cloudwatch.CompositeAlarm`` argument. The three
``ActionsSuppressor*`` parameters together make ``actions_suppressor``."""

_SUPPRESSOR = {"ActionsSuppressor": "alarm", "ActionsSuppressorWaitPeriod": "wait_period",
               "ActionsSuppressorExtensionPeriod": "extension_period"}

DASHBOARD = {"DashboardName": "dashboard_name", "DashboardBody": "dashboard_body"}

TOPIC = {"Name": "name", "Severity": None}


def metric_alarm_args(body: dict, where: str) -> dict:
    if not isinstance(body, dict) or "AlarmName" not in body:
        raise MappingError(f"{where}: expected a PutMetricAlarm body with AlarmName")
    return _fields(METRIC_ALARM, body, f"{where} ({body['AlarmName']})")


def composite_alarm_args(body: dict, where: str) -> dict:
    if not isinstance(body, dict) or "AlarmName" not in body:
        raise MappingError(f"{where}: expected a PutCompositeAlarm body with AlarmName")
    plain = {k: v for k, v in body.items() if k not in _SUPPRESSOR}
    out = _fields(COMPOSITE_ALARM, plain, f"{where} ({body['AlarmName']})")
    sup = {k: v for k, v in body.items() if k in _SUPPRESSOR}
    if sup:
        if "ActionsSuppressor" not in sup:
            raise MappingError(f"{where} ({body['AlarmName']}): ActionsSuppressor*Period without ActionsSuppressor")
        out["actions_suppressor"] = {_SUPPRESSOR[k]: v for k, v in sup.items()}
    return out


def dashboard_args(body: dict, where: str) -> dict:
    if not isinstance(body, dict) or "DashboardName" not in body or "DashboardBody" not in body:
        raise MappingError(f"{where}: expected a PutDashboard body with DashboardName and DashboardBody")
    return _fields(DASHBOARD, body, where)


def topics(items: list, where: str) -> list[tuple[str, str]]:
    """``[(name, severity)]`` from a ``<service>.topics.json`` artifact."""
    if not isinstance(items, list):
        raise MappingError(f"{where}: expected a list of {{Name, Severity}}")
    out = []
    for i, t in enumerate(items):
        if not isinstance(t, dict) or set(t) != {"Name", "Severity"}:
            raise MappingError(f"{where}[{i}]: expected {{Name, Severity}}, got {t!r}")
        out.append((t["Name"], t["Severity"]))
    return out


UNENCRYPTED_TAG = "mlmon:unencrypted-reason"
"""Tag an unencrypted SNS topic carries with the stack's ``snsUnencryptedReason``."""


def sns_key_policy(account_id: str) -> dict:
    """Key policy of the customer-managed key the program creates for the stack's SNS topics: the account
    administers it (the default key policy), and CloudWatch alarms may use it to publish to the encrypted
    topics (``kms:GenerateDataKey*`` and ``kms:Decrypt`` for ``cloudwatch.amazonaws.com``; the AWS managed
    key ``alias/aws/sns`` cannot allow that)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
        ],
    }


def action_topics(body: dict) -> list[str]:
    """The topic names a request body's action lists refer to, in first-seen order. Entries that already
    are ARNs (``arn:...``) name no topic of the stack and are left as they are."""
    seen: list[str] = []
    for key in ACTION_KEYS:
        for name in body.get(key) or []:
            if isinstance(name, str) and not name.startswith("arn:") and name not in seen:
                seen.append(name)
    return seen


_RULE_REF = re.compile(r'\b(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*(?:"([^"]+)"|([^\s()"]+))\s*\)')


def composite_children(body: dict) -> list[str]:
    """The alarms a ``PutCompositeAlarm`` body needs to exist before it: the alarms its ``AlarmRule``
    references by name (``ALARM("name")``, ``OK(name)``, ``INSUFFICIENT_DATA(...)``) and its
    ``ActionsSuppressor``, in first-seen order. References by ARN (``arn:...``) point at alarms outside
    the stack and are not listed."""
    refs = [q or bare for q, bare in _RULE_REF.findall(str(body.get("AlarmRule") or ""))]
    if body.get("ActionsSuppressor"):
        refs.append(body["ActionsSuppressor"])
    out: list[str] = []
    for ref in refs:
        if not ref.startswith("arn:") and ref not in out:
            out.append(ref)
    return out
