"""The per-service dashboard generators :mod:`generators.render` lists: the generated dashboard of each service
as ``grafana/<uid>.json`` and as a sidecar ConfigMap (hand-written dashboards: :mod:`.handwritten`)."""

from __future__ import annotations

from .configmap import configmap
from .service import dashboard


def service_dashboard(rs) -> dict:
    """The service's generated dashboard, built once per resolved service: the JSON file and its ConfigMap
    are the same object (a deterministic memo on the per-render view, not global state)."""
    memo = rs.extra
    if "grafana.dashboard" not in memo:
        memo["grafana.dashboard"] = dashboard(rs)
    return memo["grafana.dashboard"]


def dashboard_files(rs) -> dict:
    """``grafana/<uid>.json`` of the service's generated dashboard."""
    d = service_dashboard(rs)
    return {f"grafana/{d['uid']}.json": d}


def dashboard_configmaps(rs) -> list[dict]:
    """The generated dashboard as a Grafana sidecar ConfigMap."""
    return [configmap(service_dashboard(rs), rs)]
