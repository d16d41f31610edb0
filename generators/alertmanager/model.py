"""The catalog's Alertmanager settings (``alertmanager:`` in ``alerts/_defaults.yaml``): receivers, routing
defaults per severity, time intervals and the inhibition defaults; and a monitor's own ``inhibits``.

Receivers never hold a secret. Every key, token and secret URL is a reference to a Kubernetes Secret key
(:class:`SecretRef`): the operator form (``AlertmanagerConfig``) names it as a ``SecretKeySelector``, the file
form (``alertmanager.yaml``) reads it from the file the Secret is mounted at (``<secrets_dir>/<name>/<key>``,
prometheus-operator's ``Alertmanager.spec.secrets`` mount) through the receiver's ``*_file`` field. A key or URL
written inline is an error naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..types import (AlertName, DnsName, K8sLabelKey, K8sLabelValue, LabelName, PositiveSeconds, Seconds,
                     Severity, Strict)

SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _no_inline_secret(v: Any) -> Any:
    if isinstance(v, str):
        raise ValueError(
            "secrets are never written into the catalog: give a reference to a Kubernetes Secret key, "
            "{secret: {name: <secret>, key: <key>}} (the file form reads it from <secrets_dir>/<name>/<key>; an "
            "explicit `file:` path may replace that)")
    return v


class SecretKey(Strict):
    name: DnsName
    """Name of the Kubernetes Secret (in the namespace of each AlertmanagerConfig, and mounted into
    Alertmanager for the file form: ``Alertmanager.spec.secrets``)."""
    key: str = Field(pattern=SECRET_KEY.pattern)
    """Key inside the Secret."""


class SecretRef(Strict):
    """A secret value kept outside the catalog: a Kubernetes Secret key, optionally with the path the file
    form reads it from (default ``<secrets_dir>/<secret name>/<key>``)."""

    secret: SecretKey
    file: str | None = None
    """Absolute path Alertmanager reads the value from in the file form (default: the Secret's mount path)."""

    @model_validator(mode="after")
    def _absolute(self):
        if self.file is not None and not self.file.startswith("/"):
            raise ValueError(f"file must be an absolute path, got {self.file!r}")
        return self


Secret = Annotated[SecretRef, BeforeValidator(_no_inline_secret)]


def _plain_url(v: Any) -> Any:
    """A URL that may be written in the catalog: no user info, no query string, no token-like path segment."""
    if not isinstance(v, str):
        return v
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL, got {v!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("this URL carries a credential (user info or query string); a receiver's URL must not "
                         "hold a secret: give the credential as `bearer_token: {secret: {name, key}}` or use a "
                         "receiver type whose URL is a secret reference")
    if any(len(seg) >= 20 and re.fullmatch(r"[A-Za-z0-9_\-]+", seg) and re.search(r"\d", seg)
           and re.search(r"[A-Za-z]", seg) for seg in parts.path.split("/")):
        raise ValueError("this URL's path looks like it holds a token; keep it out of the catalog (a Secret "
                         "reference) or give the token as `bearer_token: {secret: {name, key}}`")
    return v


PlainUrl = Annotated[str, BeforeValidator(_plain_url)]


class PagerDuty(Strict):
    """PagerDuty Events API v2 (``routing_key``) or the older integration key (``service_key``)."""

    routing_key: Secret | None = None
    service_key: Secret | None = None
    description: str | None = None
    """Incident title (default: Alertmanager's)."""
    severity: str | None = None
    """PagerDuty severity (critical/error/warning/info); default: mlmon's severity mapped to PagerDuty's
    (page, critical -> critical; warning -> warning; ticket, info -> info)."""
    url: PlainUrl | None = None
    """Events API URL (default: Alertmanager's)."""
    send_resolved: bool = True

    @model_validator(mode="after")
    def _one_key(self):
        if (self.routing_key is None) == (self.service_key is None):
            raise ValueError("give exactly one of `routing_key` (Events API v2) or `service_key`")
        return self


class Slack(Strict):
    api_url: Secret
    """The incoming-webhook URL (it is the credential)."""
    channel: str
    title: str | None = None
    text: str | None = None
    send_resolved: bool = True


class Email(Strict):
    to: str
    from_: str = Field(alias="from")
    smarthost: str
    """``host:port`` of the SMTP relay."""
    auth_username: str | None = None
    auth_password: Secret | None = None
    require_tls: bool = True
    send_resolved: bool = False


class Webhook(Strict):
    url: PlainUrl
    """Endpoint (credential-free: Alertmanager 0.25 has no ``url_file``; authenticate with ``bearer_token``)."""
    bearer_token: Secret | None = None
    """Sent as ``Authorization: Bearer``."""
    max_alerts: int = Field(0, ge=0)
    send_resolved: bool = True


class Sns(Strict):
    """An SNS topic. For a CloudWatch service, the routing entry naming it is the topic its alarms notify
    (created by mlmon, named after the receiver); for Alertmanager, ``topic_arn`` is required."""

    topic_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
    region: str | None = None
    """SigV4 region (default: the topic ARN's)."""
    role_arn: str | None = None
    """Role Alertmanager assumes to publish (default: its own credentials, e.g. IRSA); no access keys here."""
    subject: str | None = None
    send_resolved: bool = True


class MsTeams(Strict):
    """Microsoft Teams (Alertmanager >= 0.26; the file form's ``webhook_url_file`` needs >= 0.27)."""

    webhook_url: Secret
    title: str | None = None
    text: str | None = None
    send_resolved: bool = True


def _one_or_many(v: Any) -> Any:
    return [v] if isinstance(v, dict) else v


INTEGRATIONS = ("pagerduty", "slack", "email", "webhook", "sns", "msteams")
"""Receiver integration types, in the order a receiver renders them."""


class Receiver(Strict):
    """One receiver: one or several integrations (each a mapping or a list of mappings)."""

    description: str | None = None
    """For reviewers (e.g. the PagerDuty rotation's name); not rendered."""
    pagerduty: Annotated[tuple[PagerDuty, ...], BeforeValidator(_one_or_many)] = ()
    slack: Annotated[tuple[Slack, ...], BeforeValidator(_one_or_many)] = ()
    email: Annotated[tuple[Email, ...], BeforeValidator(_one_or_many)] = ()
    webhook: Annotated[tuple[Webhook, ...], BeforeValidator(_one_or_many)] = ()
    sns: Annotated[tuple[Sns, ...], BeforeValidator(_one_or_many)] = ()
    msteams: Annotated[tuple[MsTeams, ...], BeforeValidator(_one_or_many)] = ()

    @model_validator(mode="after")
    def _some_integration(self):
        if not any(getattr(self, t) for t in INTEGRATIONS):
            raise ValueError(f"a receiver needs at least one integration: one of {', '.join(INTEGRATIONS)}")
        return self

    def integrations(self) -> list[tuple[str, Any]]:
        return [(t, c) for t in INTEGRATIONS for c in getattr(self, t)]


class RouteSettings(Strict):
    """Grouping and timing of one severity's routes (every field optional: unset fields keep the default)."""

    group_by: tuple[str, ...] | None = None
    group_wait: Seconds | None = None
    group_interval: PositiveSeconds | None = None
    repeat_interval: PositiveSeconds | None = None
    active_time_intervals: tuple[str, ...] | None = None
    """Notify only during these ``time_intervals`` (e.g. tickets in business hours only)."""
    mute_time_intervals: tuple[str, ...] | None = None


_HHMM = r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$"


class TimeRange(Strict):
    start_time: str = Field(pattern=_HHMM)
    end_time: str = Field(pattern=_HHMM)


class TimeInterval(Strict):
    """Alertmanager's ``time_interval`` (every given field must match), in UTC: the AlertmanagerConfig CRD
    (v1alpha1) has no time zone, and both forms must mean the same hours."""

    times: tuple[TimeRange, ...] = ()
    weekdays: tuple[str, ...] = ()
    days_of_month: tuple[Annotated[str, Field(pattern=r"^-?\d{1,2}(:-?\d{1,2})?$")], ...] = ()
    months: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    location: Literal["UTC"] | None = None
    """Only ``UTC`` (the AlertmanagerConfig form cannot say another zone)."""


DEFAULT_GROUP_BY = ("alertname", "service", "env")
DEFAULT_ROUTING: dict[str, dict] = {
    "page": {"group_wait": 30, "group_interval": 300, "repeat_interval": 4 * 3600},
    "critical": {"group_wait": 30, "group_interval": 300, "repeat_interval": 4 * 3600},
    "warning": {"group_wait": 60, "group_interval": 600, "repeat_interval": 12 * 3600},
    "ticket": {"group_wait": 120, "group_interval": 900, "repeat_interval": 24 * 3600},
    "info": {"group_wait": 300, "group_interval": 3600, "repeat_interval": 7 * 86400},
}
"""Sane defaults an SRE would set: pages quickly and re-notified every 4h while firing; tickets batched and
reminded daily."""

DEFAULT_INHIBIT_EQUAL = ("namespace", "job", "instance", "pod")
"""Target labels that tell apart the series of one alert (besides the service's ``labels``): a stronger level
only silences the weaker level of the same series. A label neither alert has counts as equal."""


class AlertmanagerSettings(Strict):
    """``alertmanager:`` in ``_defaults.yaml``: with it, ``mlmon render`` writes ``alertmanager/alertmanager.yaml``
    and each service's ``AlertmanagerConfig``, and every ``routing`` entry must name a receiver declared here."""

    version: str = Field("0.25", pattern=r"^0\.\d+$")
    """Alertmanager version the file form targets (Debian's 0.25 by default; ``amtool check-config`` checks it):
    Microsoft Teams needs 0.27 (``webhook_url_file``)."""
    receivers: dict[DnsName, Receiver] = Field(default_factory=dict)
    default_receiver: DnsName | None = None
    """Receiver of alerts no route matches (default: ``null``, which notifies nobody)."""
    secrets_dir: str = "/etc/alertmanager/secrets"
    """Where the file form reads Secret keys (``<dir>/<secret>/<key>``; prometheus-operator mounts
    ``Alertmanager.spec.secrets`` there)."""
    resolve_timeout: PositiveSeconds | None = None
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    time_intervals: dict[DnsName, tuple[TimeInterval, ...]] = Field(default_factory=dict)
    routing: dict[Severity, RouteSettings] = Field(default_factory=dict)
    """Per severity: grouping and timing (over :data:`DEFAULT_ROUTING`)."""
    inhibit_levels: bool = True
    """A monitor's stronger alert (a later level, the fast burn) silences its weaker ones for the same series."""
    inhibit_equal: tuple[LabelName, ...] = DEFAULT_INHIBIT_EQUAL
    """Labels (besides ``env``, ``service`` and the service's ``labels``) that must be equal for a level to
    silence another."""
    config_secret: DnsName = "alertmanager-mlmon"
    """Name of the Secret holding ``alertmanager.yaml`` when a stack owns Alertmanager (docs/deploy.md)."""
    config_namespace: DnsName = "monitoring"
    """Namespace of that Secret."""
    config_labels: dict[K8sLabelKey, K8sLabelValue] = Field(default_factory=lambda: {"alertmanagerConfig": "mlmon"})
    """Labels on every AlertmanagerConfig (what ``Alertmanager.spec.alertmanagerConfigSelector`` selects)."""

    @field_validator("receivers")
    @classmethod
    def _null_reserved(cls, v):
        if "null" in v:
            raise ValueError("`null` is the built-in receiver that notifies nobody; give yours another name")
        return v

    @field_validator("default_receiver")
    @classmethod
    def _default_declared(cls, v, info):
        if v is not None and v not in (info.data.get("receivers") or {}):
            raise ValueError(f"{v!r} is not a declared receiver (alertmanager.receivers: "
                             f"{', '.join(sorted(info.data.get('receivers') or {})) or 'none'})")
        return v

    @field_validator("routing")
    @classmethod
    def _intervals_declared(cls, v, info):
        declared = info.data.get("time_intervals") or {}
        problems = []
        for sev, rs in v.items():
            for field in ("active_time_intervals", "mute_time_intervals"):
                for name in getattr(rs, field) or ():
                    if name not in declared:
                        problems.append(f"{sev}.{field} names {name!r}, which is not in time_intervals "
                                        f"({', '.join(declared) or 'none declared'})")
        if problems:
            raise ValueError("; ".join(problems))
        return v


class Inhibits(Strict):
    """What a monitor's alerts silence while they fire (e.g. a service-wide absent/outage alert silences the
    symptoms it explains)."""

    alerts: tuple[AlertName, ...] | Literal["all"]
    """Alert names of the same service, or ``all``: every other alert of the service."""
    equal: tuple[LabelName, ...] = ()
    """Labels (besides ``env`` and ``service``) that must be equal (default: none, service-wide)."""
