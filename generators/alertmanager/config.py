"""The file form: ``alertmanager/alertmanager.yaml``, a complete Alertmanager configuration for one environment
(Alertmanager 0.25's schema: ``amtool check-config`` is the oracle in ``mlmon check``).

Secrets are never in it: each is a ``*_file`` path where the Secret key is mounted (``<secrets_dir>/<name>/<key>``,
or the reference's own ``file``).
"""

from __future__ import annotations

from ..artifact import Artifact
from ..model import Catalog
from ..resolve import ResolvedService
from .model import AlertmanagerSettings, Receiver, SecretRef
from .. import alertmeta
from .routes import (NULL_RECEIVER, alternatives, default_receiver, duration, expected_receiver, inhibitions,
                     matcher, routed, service_route)

CONFIG_FILE = "alertmanager/alertmanager.yaml"
TESTS_FILE = "alertmanager/routing-tests.yaml"

PAGERDUTY_SEVERITY = ('{{ if eq .CommonLabels.severity "page" "critical" }}critical'
                      '{{ else if eq .CommonLabels.severity "warning" }}warning{{ else }}info{{ end }}')
"""PagerDuty's severities are critical/error/warning/info: mlmon's page and critical map to critical, warning to
warning, ticket and info to info (Alertmanager would otherwise send ``page``, which PagerDuty rejects)."""


def secret_file(ref: SecretRef, am: AlertmanagerSettings) -> str:
    return ref.file or f"{am.secrets_dir.rstrip('/')}/{ref.secret.name}/{ref.secret.key}"


def _put(d: dict, key: str, value) -> None:
    if value is not None:
        d[key] = value


def integration(kind: str, c, am: AlertmanagerSettings) -> dict:
    """One integration of a receiver in Alertmanager's own keys."""
    out: dict = {"send_resolved": c.send_resolved}
    if kind == "pagerduty":
        if c.routing_key is not None:
            out["routing_key_file"] = secret_file(c.routing_key, am)
        else:
            out["service_key_file"] = secret_file(c.service_key, am)
        _put(out, "url", c.url)
        _put(out, "description", c.description)
        out["severity"] = c.severity or PAGERDUTY_SEVERITY
    elif kind == "slack":
        out["api_url_file"] = secret_file(c.api_url, am)
        out["channel"] = c.channel
        _put(out, "title", c.title)
        _put(out, "text", c.text)
    elif kind == "email":
        out.update({"to": c.to, "from": c.from_, "smarthost": c.smarthost})
        _put(out, "auth_username", c.auth_username)
        if c.auth_password is not None:
            out["auth_password_file"] = secret_file(c.auth_password, am)
        out["require_tls"] = c.require_tls
    elif kind == "webhook":
        out["url"] = c.url
        if c.max_alerts:
            out["max_alerts"] = c.max_alerts
        if c.bearer_token is not None:
            out["http_config"] = {"authorization": {"type": "Bearer",
                                                    "credentials_file": secret_file(c.bearer_token, am)}}
    elif kind == "sns":
        out["topic_arn"] = c.topic_arn
        sigv4 = {}
        _put(sigv4, "region", c.region or (c.topic_arn.split(":")[3] if c.topic_arn else None))
        _put(sigv4, "role_arn", c.role_arn)
        out["sigv4"] = sigv4
        _put(out, "subject", c.subject)
    elif kind == "msteams":
        out["webhook_url_file"] = secret_file(c.webhook_url, am)
        _put(out, "title", c.title)
        _put(out, "text", c.text)
    else:  # pragma: no cover - INTEGRATIONS lists every kind
        raise ValueError(kind)
    return out


def receiver(name: str, r: Receiver | None, am: AlertmanagerSettings) -> dict:
    out: dict = {"name": name}
    if r is None:
        return out
    for kind, c in r.integrations():
        out.setdefault(f"{kind}_configs", []).append(integration(kind, c, am))
    return out


def _timing(settings: dict) -> dict:
    out = {"group_by": settings["group_by"]}
    for f in ("group_wait", "group_interval", "repeat_interval"):
        out[f] = duration(settings[f])
    for f in ("active_time_intervals", "mute_time_intervals"):
        if f in settings:
            out[f] = settings[f]
    return out


def used_receivers(resolved: list[ResolvedService], am: AlertmanagerSettings) -> list[str]:
    """The default receiver, then every receiver a route of this environment names (sorted)."""
    names = {r.receiver for rs in resolved if routed(rs) for r in service_route(rs, am).routes}
    first = default_receiver(am)
    return [first] + sorted(names - {first})


def time_interval(ti) -> dict:
    out: dict = {}
    if ti.times:
        out["times"] = [{"start_time": t.start_time, "end_time": t.end_time} for t in ti.times]
    for f in ("weekdays", "days_of_month", "months", "years"):
        if getattr(ti, f):
            out[f] = list(getattr(ti, f))
    _put(out, "location", ti.location)
    return out


def alertmanager_config(am: AlertmanagerSettings, resolved: list[ResolvedService]) -> dict:
    out: dict = {}
    if am.resolve_timeout is not None:
        out["global"] = {"resolve_timeout": duration(am.resolve_timeout)}
    routes = []
    inhibit = []
    used_intervals: set[str] = set()
    for rs in resolved:
        if not routed(rs):
            continue
        sr = service_route(rs, am)
        if sr.routes:
            children = []
            for r in sr.routes:
                used_intervals.update(r.settings.get("active_time_intervals", ()))
                used_intervals.update(r.settings.get("mute_time_intervals", ()))
                children.append({"matchers": [matcher("severity", r.severity)], "receiver": r.receiver,
                                 **_timing(r.settings)})
            routes.append({"matchers": [matcher("service", sr.service), matcher("team", sr.team)],
                           "routes": children})
        for inh in inhibitions(rs, am):
            inhibit.append({
                "source_matchers": [_names(inh.sources), matcher("service", inh.service)],
                "target_matchers": [_names(inh.targets), matcher("service", inh.service)],
                "equal": list(inh.equal),
            })
    root: dict = {"receiver": default_receiver(am), "group_by": list(am.group_by)}
    if routes:
        root["routes"] = routes
    out["route"] = root
    out["receivers"] = [receiver(n, am.receivers.get(n) if n != NULL_RECEIVER else None, am)
                        for n in used_receivers(resolved, am)]
    if inhibit:
        out["inhibit_rules"] = inhibit
    if used_intervals:
        out["time_intervals"] = [{"name": n, "time_intervals": [time_interval(t) for t in am.time_intervals[n]]}
                                 for n in sorted(used_intervals)]
    return out


def _names(names: tuple[str, ...]) -> str:
    return matcher("alertname", names[0]) if len(names) == 1 else matcher("alertname", alternatives(names), "=~")


def routing_tests(am: AlertmanagerSettings, resolved: list[ResolvedService]) -> dict:
    """The routing tests of the environment: for every alert Prometheus sends, its labels and the receivers the
    catalog names for it. ``mlmon check`` runs each as ``amtool config routes test --verify.receivers=...``."""
    cases = []
    for rs in resolved:
        if not routed(rs):
            continue
        for a in rs.alerts:
            cases.append({"alert": a.name, "labels": {"alertname": a.name, **alertmeta.labels(a, rs)},
                          "receivers": [expected_receiver(a, rs, am)]})
    return {"config": CONFIG_FILE.rsplit("/", 1)[1], "tests": cases}


def alertmanager_files(catalog: Catalog, resolved: list[ResolvedService]) -> list[Artifact]:
    """``alertmanager/alertmanager.yaml`` of the environment and its routing tests (only with ``alertmanager:``
    in the catalog)."""
    am = catalog.defaults.alertmanager
    if am is None:
        return []
    return [Artifact(CONFIG_FILE, alertmanager_config(am, resolved)), Artifact(TESTS_FILE, routing_tests(am, resolved))]
