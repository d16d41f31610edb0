"""Hand-written dashboards: ``dashboards/*.dashboard.py`` beside the catalog directory.

grafanalib's convention: each module defines a module variable ``dashboard`` (a grafanalib ``Dashboard``).
mlmon adds one more: ``service = "<catalog service>"`` — the service the dashboard belongs to (its ConfigMap
goes into ``kubernetes/<service>.yaml``, its thresholds and queries come from that service).

Two stages, kept apart:
- :func:`.sources.read_sources` (I/O, when the catalog is loaded): reads and compiles every module into a
  :class:`DashboardSource` held by the :class:`~generators.model.Catalog`; a syntax error is a catalog error;
- :func:`render_handwritten` (called by ``render`` with the environment; no I/O): runs every loaded module with
  :mod:`.helpers` answering threshold/query questions from that catalog and environment, then turns the
  dashboards into current-schema JSON and ConfigMaps. Every problem (exception, missing ``dashboard`` or
  ``service``, unknown service, bad uid) is reported with the file (and line) as a
  :class:`~generators.errors.CatalogError`.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..errors import CatalogError, Problem

_UID = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class LoadedDashboard:
    file: str  # as reported in errors, e.g. dashboards/agent-quality.dashboard.py
    service: str
    dashboard: dict  # grafanalib's JSON (before modernize)


def _line_in(exc: BaseException, filename: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def run_sources(catalog, env: str) -> list[LoadedDashboard]:
    """Run every loaded dashboard module of ``catalog`` for ``env``, the helpers answering from them."""
    from grafanalib.core import Dashboard

    from . import helpers
    from .modern import to_json

    known = {s.service for s in catalog.services}
    problems: list[Problem] = []
    out: list[LoadedDashboard] = []
    with helpers.rendering(catalog, env):
        for src in catalog.dashboards:
            rel, fname = src.file, src.filename
            stem = Path(rel).name[: -len(".py")]
            ns: dict = {"__name__": "mlmon_dashboard_" + re.sub(r"\W", "_", stem), "__file__": fname}
            try:
                exec(src.code, ns)  # noqa: S102 - running the dashboard module is the point
            except Exception as exc:  # any error in user code: name the file and line
                msg = str(exc).strip() or exc.__class__.__name__
                problems.append(Problem(rel, "", f"raised {exc.__class__.__name__}: {msg} "
                                                 f"(building the dashboard for env {env})", _line_in(exc, fname)))
                continue
            service = ns.get("service")
            if "dashboard" not in ns:
                problems.append(Problem(rel, "dashboard", "no module variable `dashboard`: assign the grafanalib "
                                                          "Dashboard to `dashboard` (grafanalib's convention)"))
                continue
            dash = ns["dashboard"]
            if not isinstance(dash, Dashboard):
                problems.append(Problem(rel, "dashboard", f"expected a grafanalib Dashboard, got "
                                                          f"{type(dash).__name__}"))
                continue
            if not isinstance(service, str):
                problems.append(Problem(rel, "service", "no module variable `service`: name the catalog service "
                                                        f"this dashboard belongs to (one of {', '.join(sorted(known))})"))
                continue
            if service not in known:
                problems.append(Problem(rel, "service", f"unknown service {service!r}; the catalog has "
                                                        f"{', '.join(sorted(known))}"))
                continue
            if not isinstance(dash.uid, str) or len(dash.uid) > 40 or not _UID.fullmatch(dash.uid):
                problems.append(Problem(rel, "dashboard.uid", f"uid {dash.uid!r} must be set: lower-case letters, "
                                                              "digits and '-', at most 40 characters (stable URLs)"))
                continue
            if dash.rows:
                problems.append(Problem(rel, "dashboard.rows", "legacy `rows` are not supported: put RowPanel "
                                                               "and panels with gridPos in `panels`"))
                continue
            try:
                data = to_json(dash.auto_panel_ids())
            except Exception as exc:
                problems.append(Problem(rel, "dashboard", f"cannot serialise: {exc.__class__.__name__}: {exc}"))
                continue
            out.append(LoadedDashboard(rel, service, data))
    if problems:
        raise CatalogError(problems)
    return out


def render_handwritten(catalog, resolved: list) -> list:
    """``CATALOG_GENERATORS`` entry: current-schema JSON and a ConfigMap for every hand-written dashboard of a
    rendered service, its module run for the environment being rendered."""
    from ..names import dashboard_uid
    from ..artifact import Artifact
    from .build import CLOUDWATCH, PROMETHEUS
    from .configmap import configmap
    from .modern import modernize

    if not resolved or not catalog.dashboards:
        return []
    loaded = run_sources(catalog, resolved[0].env)
    by_name = {rs.name: rs for rs in resolved}
    generated = {dashboard_uid(s.service): s.service for s in catalog.services}
    seen: dict[str, str] = {}
    problems = []
    out = []
    for d in loaded:
        uid = d.dashboard["uid"]
        if uid in generated:
            problems.append(Problem(d.file, "dashboard.uid", f"uid {uid!r} is the generated dashboard of "
                                                             f"{generated[uid]}; choose another"))
            continue
        if uid in seen:
            problems.append(Problem(d.file, "dashboard.uid", f"uid {uid!r} is already used by {seen[uid]}"))
            continue
        seen[uid] = d.file
        rs = by_name.get(d.service)
        if rs is None:
            continue  # service not rendered (mlmon render --service ...)
        j = modernize(d.dashboard, PROMETHEUS if rs.is_prometheus else CLOUDWATCH)
        j["tags"] = list(dict.fromkeys(list(j.get("tags", [])) + ["mlmon", rs.name, rs.env]))
        out.append(Artifact(f"grafana/{uid}.json", j, rs.name))
        out.append(Artifact(f"kubernetes/{rs.name}.yaml", [configmap(j, rs)], rs.name, multi=True))
    if problems:
        raise CatalogError(problems)
    return out
