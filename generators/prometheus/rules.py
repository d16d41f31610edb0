"""The Prometheus rule file of one service in one environment (``prometheus/<service>.rules.yaml``)."""

from __future__ import annotations

from .. import alertmeta
from ..durations import format_duration
from ..kinds import alert_expr, recording_rules
from ..names import DEFAULT_NAMESPACE, kubernetes_labels, prometheus_rule_name
from ..promql import tidy
from ..resolve import ResolvedService


def rule_groups(rs: ResolvedService) -> list[dict]:
    """One group per monitor with recording rules (``<service>.slo.<name>``: a ratio SLO's recordings, then its
    burn alerts; ``<service>.recorded.<name>``: a raw monitor's recordings, then its alert. Rules in a group run
    in order, so an alert never reads a recording from the previous evaluation), then one group of all other
    alerts."""
    interval = format_duration(rs.defaults.evaluation_interval)
    groups = []
    plain = []
    for mon in rs.monitors():
        mine = [alert_rule(a, rs) for a in rs.alerts if a.monitor is mon]
        recordings = [{**r, "expr": tidy(r["expr"])} for r in recording_rules(mon, rs)]
        if recordings:
            what = "slo" if mon.alert_variants() else "recorded"  # an SLO's burn-rate alerts, or a raw monitor's
            groups.append({"name": f"{rs.name}.{what}.{mon.name}", "interval": interval, "rules": recordings + mine})
        else:
            plain.extend(mine)
    if plain:
        groups.append({"name": f"{rs.name}.alerts", "interval": interval, "rules": plain})
    return groups


def alert_rule(a, rs: ResolvedService) -> dict:
    rule = {"alert": a.name, "expr": tidy(alert_expr(a, rs))}
    if a.for_:
        rule["for"] = format_duration(a.for_)
    rule["labels"] = alertmeta.labels(a, rs)
    rule["annotations"] = alertmeta.annotations(a, rs)
    return rule


def rule_file(rs: ResolvedService) -> dict:
    return {"groups": rule_groups(rs)}


def prometheus_rule(rs: ResolvedService) -> dict:
    """The same groups as a prometheus-operator ``PrometheusRule`` object."""
    labels = kubernetes_labels(rs.name, rs.env, rs.name)
    labels.update(rs.deployment.rule_labels)
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": prometheus_rule_name(rs.name), "namespace": rs.namespace or
                     rs.deployment.namespace(DEFAULT_NAMESPACE), "labels": labels},
        "spec": {"groups": rule_groups(rs)},
    }
