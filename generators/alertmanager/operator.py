"""The prometheus-operator form: one ``AlertmanagerConfig`` (monitoring.coreos.com/v1alpha1) per routed
service, in its namespace, with the same routes, receivers and inhibitions as the file form.

The operator prefixes receiver names with ``<namespace>/<object>/`` and adds a ``namespace="<namespace>"``
matcher to the route and every inhibition: alerts therefore carry the ``namespace`` label of their service
(:func:`generators.alertmeta.labels`). Secrets are ``SecretKeySelector`` references in that namespace.
"""

from __future__ import annotations

from ..names import alertmanager_config_name, kubernetes_labels
from ..resolve import ResolvedService
from .config import PAGERDUTY_SEVERITY
from .model import AlertmanagerSettings
from .routes import NULL_RECEIVER, alternatives, duration, inhibitions, routed, service_route

API_VERSION = "monitoring.coreos.com/v1alpha1"


def _sel(ref) -> dict:
    return {"name": ref.secret.name, "key": ref.secret.key}


def _m(name: str, value: str, op: str = "=") -> dict:
    return {"name": name, "value": value, "matchType": op}


def integration(kind: str, c) -> dict:
    out: dict = {"sendResolved": c.send_resolved}
    if kind == "pagerduty":
        if c.routing_key is not None:
            out["routingKey"] = _sel(c.routing_key)
        else:
            out["serviceKey"] = _sel(c.service_key)
        if c.url:
            out["url"] = c.url
        if c.description:
            out["description"] = c.description
        out["severity"] = c.severity or PAGERDUTY_SEVERITY
    elif kind == "slack":
        out["apiURL"] = _sel(c.api_url)
        out["channel"] = c.channel
        if c.title:
            out["title"] = c.title
        if c.text:
            out["text"] = c.text
    elif kind == "email":
        out.update({"to": c.to, "from": c.from_, "smarthost": c.smarthost})
        if c.auth_username:
            out["authUsername"] = c.auth_username
        if c.auth_password is not None:
            out["authPassword"] = _sel(c.auth_password)
        out["requireTLS"] = c.require_tls
    elif kind == "webhook":
        out["url"] = c.url
        if c.max_alerts:
            out["maxAlerts"] = c.max_alerts
        if c.bearer_token is not None:
            out["httpConfig"] = {"authorization": {"type": "Bearer", "credentials": _sel(c.bearer_token)}}
    elif kind == "sns":
        out["topicARN"] = c.topic_arn
        sigv4 = {}
        region = c.region or (c.topic_arn.split(":")[3] if c.topic_arn else None)
        if region:
            sigv4["region"] = region
        if c.role_arn:
            sigv4["roleArn"] = c.role_arn
        out["sigv4"] = sigv4
        if c.subject:
            out["subject"] = c.subject
    elif kind == "msteams":
        out["webhookUrl"] = _sel(c.webhook_url)
        if c.title:
            out["title"] = c.title
        if c.text:
            out["text"] = c.text
    return out


def _receiver(name: str, am: AlertmanagerSettings) -> dict:
    out: dict = {"name": name}
    r = am.receivers.get(name) if name != NULL_RECEIVER else None
    if r is not None:
        for kind, c in r.integrations():
            out.setdefault(f"{kind}Configs", []).append(integration(kind, c))
    return out


def _timing(settings: dict) -> dict:
    out = {"groupBy": settings["group_by"], "groupWait": duration(settings["group_wait"]),
           "groupInterval": duration(settings["group_interval"]),
           "repeatInterval": duration(settings["repeat_interval"])}
    if "active_time_intervals" in settings:
        out["activeTimeIntervals"] = settings["active_time_intervals"]
    if "mute_time_intervals" in settings:
        out["muteTimeIntervals"] = settings["mute_time_intervals"]
    return out


def _time_interval(ti) -> dict:
    out: dict = {}
    if ti.times:
        out["times"] = [{"startTime": t.start_time, "endTime": t.end_time} for t in ti.times]
    if ti.weekdays:
        out["weekdays"] = list(ti.weekdays)
    if ti.days_of_month:
        out["daysOfMonth"] = [_day_range(d) for d in ti.days_of_month]
    if ti.months:
        out["months"] = list(ti.months)
    if ti.years:
        out["years"] = list(ti.years)
    return out


def _day_range(text: str) -> dict:
    """``"1:5"`` / ``"-3:-1"`` / ``"15"`` (Alertmanager's form) -> ``{start, end}`` (the CRD's)."""
    head, _, tail = text.partition(":")
    return {"start": int(head), "end": int(tail or head)}


def _names(names) -> dict:
    return _m("alertname", names[0]) if len(names) == 1 else _m("alertname", alternatives(names), "=~")


def alertmanager_config_objects(rs: ResolvedService) -> list[dict]:
    """The service's ``AlertmanagerConfig`` (only with ``alertmanager:`` in the catalog, for a Prometheus service
    with a namespace and alerts)."""
    am = rs.defaults.alertmanager
    if am is None or not routed(rs) or not rs.namespace:
        return []
    sr = service_route(rs, am)
    intervals: list[str] = []
    routes = []
    for r in sr.routes:
        for f in ("active_time_intervals", "mute_time_intervals"):
            intervals.extend(n for n in r.settings.get(f, ()) if n not in intervals)
        routes.append({"matchers": [_m("severity", r.severity)], "receiver": r.receiver, **_timing(r.settings)})
    receivers = [NULL_RECEIVER] + sorted({r.receiver for r in sr.routes} - {NULL_RECEIVER})
    spec: dict = {"route": {"receiver": NULL_RECEIVER, "groupBy": list(am.group_by),
                            "matchers": [_m("service", sr.service), _m("team", sr.team)]}}
    if routes:
        spec["route"]["routes"] = routes
    spec["receivers"] = [_receiver(n, am) for n in receivers]
    inhibit = [{"sourceMatch": [_names(i.sources), _m("service", i.service)],
                "targetMatch": [_names(i.targets), _m("service", i.service)], "equal": list(i.equal)}
               for i in inhibitions(rs, am)]
    if inhibit:
        spec["inhibitRules"] = inhibit
    if intervals:
        spec["muteTimeIntervals"] = [{"name": n, "timeIntervals": [_time_interval(t) for t in am.time_intervals[n]]}
                                     for n in intervals]
    labels = kubernetes_labels(rs.name, rs.env, alertmanager_config_name(rs.name), "routing")
    labels.update(am.config_labels)
    return [{"apiVersion": API_VERSION, "kind": "AlertmanagerConfig",
             "metadata": {"name": alertmanager_config_name(rs.name), "namespace": rs.namespace, "labels": labels},
             "spec": spec}]
