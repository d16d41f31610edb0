"""Grafana dashboards: one generated per service from its monitors, plus hand-written ones
(``dashboards/*.dashboard.py``), each as ``grafana/<uid>.json`` and as a sidecar ConfigMap in
``kubernetes/<service>.yaml``. See ``docs/dashboards.md``.

Modules:
- :mod:`.thresholds` — catalog thresholds -> Grafana threshold steps (the only source of numbers);
- :mod:`.queries` — what each monitor kind plots (PromQL from :mod:`generators.prometheus.expressions`);
- :mod:`.build` — grafanalib building blocks; :mod:`.modern` — grafanalib JSON -> current schema;
- :mod:`.service` — the generated dashboard; :mod:`.cloudwatch` — panels of CloudWatch-sourced services;
- :mod:`.handwritten` — loading ``*.dashboard.py`` modules (I/O) and rendering them (pure);
- :mod:`.helpers` — the API hand-written dashboards use; :mod:`.checks` — the ``mlmon check`` step.

grafanalib is imported only when a dashboard is built, never by ``import generators``.
"""

from __future__ import annotations


def service_dashboard(rs) -> dict:
    """The service's generated dashboard, built once per resolved service: the JSON file and its ConfigMap
    are the same object (a deterministic memo on the per-render view, not global state)."""
    from .service import dashboard

    memo = rs.extra
    if "grafana.dashboard" not in memo:
        memo["grafana.dashboard"] = dashboard(rs)
    return memo["grafana.dashboard"]


def dashboard_files(rs) -> dict:
    """``FILE_GENERATORS`` entry: ``grafana/<uid>.json`` of the service's generated dashboard."""
    d = service_dashboard(rs)
    return {f"grafana/{d['uid']}.json": d}


def dashboard_configmaps(rs) -> list[dict]:
    """``KUBERNETES_GENERATORS`` entry: the generated dashboard as a Grafana sidecar ConfigMap."""
    from .configmap import configmap

    return [configmap(service_dashboard(rs), rs.name, rs.service.team, rs.env, rs.defaults)]


def handwritten_dashboards(catalog, resolved) -> list:
    """``CATALOG_GENERATORS`` entry: load ``dashboards/*.dashboard.py`` for this environment (I/O, in
    :func:`.handwritten.load_dashboards`), then render them (pure, :func:`.handwritten.render_handwritten`)."""
    if not resolved:
        return []
    from .handwritten import dashboards_dir, load_dashboards, render_handwritten

    loaded = load_dashboards(dashboards_dir(catalog), catalog, resolved[0].env)
    return render_handwritten(catalog, resolved, loaded)


def register() -> None:
    """Add the dashboard generators to :mod:`generators.render`'s registries (idempotent)."""
    from .. import render

    for registry, fn in ((render.FILE_GENERATORS, dashboard_files),
                         (render.KUBERNETES_GENERATORS, dashboard_configmaps),
                         (render.CATALOG_GENERATORS, handwritten_dashboards)):
        if fn not in registry:
            registry.append(fn)
