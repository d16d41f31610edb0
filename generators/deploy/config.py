"""The Pulumi stack configuration (``stacks/Pulumi.<stack>.yaml``, keys under ``mlmon:``), validated into
:class:`StackConfig` before the program declares a single resource.

Every key (``pulumi config set mlmon:<key> ...``; objects with ``--path``)::

    mlmon:environment         required; one of the catalog's environments (alerts/_defaults.yaml)
    mlmon:catalog             catalog directory, relative to the repository root (default: alerts)
    mlmon:outputs             which outputs to deploy: any of kubernetes, cloudwatch, grafana (default: all)
    mlmon:kubernetes          {kubeconfig, context, namespace}
    mlmon:aws                 {region, profile, snsKmsKey, snsUnencryptedReason}; region is required when
                              CloudWatch alarms are deployed; snsKmsKey: how the SNS topics are encrypted
                              ("stack", the default: a customer-managed key the program creates; a key ARN,
                              id or alias of your own; "none" with snsUnencryptedReason)
    mlmon:grafana             {url}; with url AND mlmon:grafanaToken dashboards go through Grafana's API,
                              otherwise as sidecar ConfigMaps
    mlmon:grafanaToken        Grafana service-account token (secret: pulumi config set --secret)
    mlmon:subscriptions       {<severity>: [{protocol, endpoint}]}: SNS subscriptions per severity;
                              endpoints are always handled as Pulumi secrets
    mlmon:alertmanager        {form}: which Alertmanager form the stack deploys (with outputs kubernetes):
                              "operator" (default: each service's AlertmanagerConfig, for a prometheus-operator
                              Alertmanager the stack does not own), "secret" (the stack owns Alertmanager: its
                              configuration Secret holding alertmanager.yaml; no AlertmanagerConfig objects)
                              or "none"

The stack config holds only what is about the provider, the account and secrets. What the objects look
like in an environment (rule selector labels, namespaces, dashboard labels and folders) is catalog data
(``alerts/_defaults.yaml``, per environment ``environment_settings.<env>``), rendered into the objects:
the program deploys the rendered objects as they are (:data:`MOVED` names where each former key went).

This module does not import Pulumi: the values come in as the plain ``{"mlmon:key": value}`` mapping that
Pulumi hands a program (objects as JSON text), and :func:`parse` turns them into a typed object or raises
:class:`StackConfigError` listing every problem with its key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from ..types import EnvName, Severity, Strict

PROJECT = "mlmon"
OUTPUTS = ("kubernetes", "cloudwatch", "grafana")
SECRET_PLACEHOLDER = "[secret]"
"""What ``mlmon plan`` puts in place of an encrypted value it cannot (and need not) decrypt."""

Output = Literal["kubernetes", "cloudwatch", "grafana"]
Protocol = Literal["email", "email-json", "sms", "https", "http", "sqs", "lambda", "application", "firehose"]


class StackConfigError(Exception):
    """Invalid stack configuration. ``problems`` are ``(key, message)`` pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"invalid stack configuration ({source}):"]
        lines += [f"  {key}: {msg}" for key, msg in problems]
        super().__init__("\n".join(lines))


class KubernetesConfig(Strict):
    kubeconfig: str | None = None
    """Path to a kubeconfig file, or its contents (default: the provider's usual lookup, ``$KUBECONFIG``)."""
    context: str | None = None
    """kubeconfig context to deploy to (default: the current context)."""
    namespace: str | None = None
    """Namespace for objects that name none (the provider's default namespace)."""


SNS_KEY_STACK = "stack"
SNS_KEY_NONE = "none"
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


class AwsConfig(Strict):
    region: str | None = None
    profile: str | None = None
    sns_kms_key: str = Field(SNS_KEY_STACK, alias="snsKmsKey", min_length=1)
    """How the SNS topics are encrypted at rest. ``stack`` (default): the program creates one customer-managed
    KMS key for the stack's topics, whose key policy lets CloudWatch alarms publish to them (CloudWatch needs
    ``kms:GenerateDataKey*`` and ``kms:Decrypt``); a key ARN, key id or ``alias/...`` of a customer-managed key
    of your own, whose policy allows the same; or ``none``, which needs ``snsUnencryptedReason``. The AWS
    managed key ``alias/aws/sns`` is refused: its policy cannot allow CloudWatch, so every alarm notification
    would fail."""
    sns_unencrypted_reason: str | None = Field(None, alias="snsUnencryptedReason", min_length=1, max_length=256)
    """Why the topics are not encrypted (with ``snsKmsKey: none``); tagged on every topic."""


class GrafanaConfig(Strict):
    url: str | None = None
    """Grafana's base URL; with ``mlmon:grafanaToken`` dashboards are delivered through its API (into the
    folder the catalog renders for each dashboard), and their sidecar ConfigMaps are not deployed."""


ALERTMANAGER_FORMS = ("operator", "secret", "none")


class AlertmanagerStack(Strict):
    form: Literal["operator", "secret", "none"] = "operator"
    """``operator``: the AlertmanagerConfig objects rendered into each ``kubernetes/<service>.yaml``; ``secret``:
    the stack owns Alertmanager and deploys its configuration Secret (``alertmanager/alertmanager.yaml``, named
    by the catalog's ``alertmanager.config_secret``/``config_namespace``); ``none``: neither."""


class Subscription(Strict):
    protocol: Protocol
    endpoint: str


class StackConfig(Strict):
    environment: EnvName
    catalog: str = "alerts"
    outputs: tuple[Output, ...] = OUTPUTS
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    aws: AwsConfig = Field(default_factory=AwsConfig)
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)
    grafana_token: str | None = Field(default=None, alias="grafanaToken")
    subscriptions: dict[Severity, tuple[Subscription, ...]] = Field(default_factory=dict)
    alertmanager: AlertmanagerStack = Field(default_factory=AlertmanagerStack)

    @property
    def grafana_api(self) -> bool:
        """Dashboards go through Grafana's API (else: sidecar ConfigMaps)."""
        return "grafana" in self.outputs and bool(self.grafana.url and self.grafana_token)

    def deploys(self, output: str) -> bool:
        return output in self.outputs


MOVED = {
    ("kubernetes", "ruleSelectorLabels"): "rule_labels",
    ("kubernetes", "namespaces"): "namespaces",
    ("grafana", "folder"): "dashboard_folder",
    ("grafana", "sidecarLabel"): "dashboard_labels",
}
"""Stack config keys that became catalog data: (object, key) -> the ``_defaults.yaml`` setting (catalog-wide,
or per environment under ``environment_settings.<env>``)."""


def _moved(raw: dict) -> list[tuple[str, str]]:
    out = []
    for (obj, key), setting in MOVED.items():
        block = raw.get(obj)
        if isinstance(block, dict) and key in block:
            out.append((f"{PROJECT}:{obj}.{key}", (
                f"moved to the catalog: set `{setting}` in alerts/_defaults.yaml (for one environment: "
                f"`environment_settings.<env>.{setting}`), so that what mlmon render shows is what is deployed")))
    return out


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _key(loc: tuple) -> str:
    out = ""
    for i, part in enumerate(loc):
        if part == "[key]":  # pydantic's marker for "the key itself is invalid"
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif i == 0:
            out = f"{PROJECT}:{part}"
        else:
            out += f".{part}"
    return out or PROJECT


def parse(values: dict[str, Any], source: str = "stack config", secret_keys: set[str] | None = None) -> StackConfig:
    """Validate the ``mlmon:*`` entries of ``values`` (other namespaces, e.g. ``aws:``, are ignored).

    Raises :class:`StackConfigError` naming every bad key. ``secret_keys`` (full keys such as
    ``mlmon:grafanaToken``) are the keys Pulumi holds encrypted; the Grafana token must be one of them.
    """
    prefix = f"{PROJECT}:"
    raw = {k[len(prefix):]: _decode(v) for k, v in values.items() if k.startswith(prefix)}
    problems: list[tuple[str, str]] = _moved(raw)
    if problems:
        raise StackConfigError(source, problems)
    try:
        cfg = StackConfig.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            msg = err["msg"]
            if err["type"] == "missing":
                msg = "required key is missing (pulumi config set " + _key(err["loc"]) + " ...)"
            elif err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "literal_error":
                msg = f"got {err['input']!r}; {msg.lower()}"
            problems.append((_key(err["loc"]), msg))
        raise StackConfigError(source, problems) from None
    if cfg.grafana.url and not cfg.grafana_token:
        problems.append((f"{PROJECT}:grafanaToken", "grafana.url is set but the token is missing: "
                         f"pulumi config set --secret {PROJECT}:grafanaToken <service-account token>"))
    if cfg.grafana_token and not cfg.grafana.url:
        problems.append((f"{PROJECT}:grafana.url", "a Grafana token is set but no URL to use it with"))
    if cfg.grafana_token and secret_keys is not None and f"{PROJECT}:grafanaToken" not in secret_keys:
        problems.append((f"{PROJECT}:grafanaToken", "must be a secret: "
                         f"pulumi config set --secret {PROJECT}:grafanaToken <token>"))
    key = cfg.aws.sns_kms_key
    if key == AWS_MANAGED_SNS_KEY or key.endswith(f":{AWS_MANAGED_SNS_KEY}"):
        problems.append((f"{PROJECT}:aws.snsKmsKey", f"{key!r} is the AWS managed SNS key: CloudWatch alarms "
                         "cannot publish to topics encrypted with it (its key policy does not allow "
                         "cloudwatch.amazonaws.com and cannot be changed). Leave the default 'stack' (the "
                         "program creates a customer-managed key that allows CloudWatch) or name your own"))
    if key == SNS_KEY_NONE and not cfg.aws.sns_unencrypted_reason:
        problems.append((f"{PROJECT}:aws.snsUnencryptedReason", "required with snsKmsKey: none (say why the "
                         "topics are not encrypted; it is tagged on every topic)"))
    if key != SNS_KEY_NONE and cfg.aws.sns_unencrypted_reason:
        problems.append((f"{PROJECT}:aws.snsUnencryptedReason", f"only with snsKmsKey: none (it is {key!r})"))
    if len(set(cfg.outputs)) != len(cfg.outputs):
        problems.append((f"{PROJECT}:outputs", f"lists an output twice: {list(cfg.outputs)}"))
    if problems:
        raise StackConfigError(source, problems)
    return cfg


def check_against_catalog(cfg: StackConfig, catalog, source: str = "stack config") -> None:
    """The checks that need the catalog: the environment exists; CloudWatch services' regions match."""
    problems: list[tuple[str, str]] = []
    envs = list(catalog.defaults.environments)
    if cfg.environment not in envs:
        problems.append((f"{PROJECT}:environment", f"unknown environment {cfg.environment!r}; the catalog "
                         f"({catalog.root}) defines {', '.join(envs)}"))
    if cfg.deploys("cloudwatch"):
        for svc in catalog.services:
            if svc.source.type != "cloudwatch":
                continue
            where = f"{catalog.files.get(svc.service, svc.service)} source.region"
            if cfg.aws.region is None:
                problems.append((f"{PROJECT}:aws.region", f"required key is missing: service {svc.service} "
                                 f"has CloudWatch alarms in {svc.source.region} ({where}); "
                                 f"pulumi config set --path {PROJECT}:aws.region {svc.source.region}"))
                break
            if svc.source.region != cfg.aws.region:
                problems.append((f"{PROJECT}:aws.region", f"is {cfg.aws.region} but service {svc.service}'s "
                                 f"metrics are in {svc.source.region} ({where}); alarms must be in the "
                                 "metrics' region"))
    if problems:
        raise StackConfigError(source, problems)


def read_stack_file(path: str | Path) -> tuple[dict[str, str], set[str]]:
    """The config of a ``Pulumi.<stack>.yaml`` file as Pulumi hands it to a program: ``{key: text}`` (objects
    as JSON) and the set of keys holding encrypted values. Encrypted values (``secure: v1:...``) cannot be
    read without the stack's passphrase; they become :data:`SECRET_PLACEHOLDER` (``mlmon plan`` and tests
    only need their shape)."""
    import yaml

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text()) or {}
    except FileNotFoundError:
        raise StackConfigError(str(p), [("file", "not found")]) from None
    except yaml.YAMLError as exc:
        raise StackConfigError(str(p), [("file", f"not valid YAML: {exc}")]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise StackConfigError(str(p), [("config", "expected a mapping of config keys")])
    secret: set[str] = set()

    def plain(key, v):
        if isinstance(v, dict) and set(v) == {"secure"}:
            secret.add(key)
            return SECRET_PLACEHOLDER
        if isinstance(v, dict):
            return {k: plain(key, x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(key, x) for x in v]
        return v

    out: dict[str, str] = {}
    for key, value in (doc.get("config") or {}).items():
        v = plain(key, value)
        out[key] = v if isinstance(v, str) else json.dumps(v)
    return out, secret
