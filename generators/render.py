"""Render the catalog for one environment into artifacts, and write them atomically.

:func:`render` is the single path from model to artifacts: ``mlmon render`` writes them to disk and the
Pulumi program (``stacks/``) declares resources from the very same objects. It is a pure function of the
loaded catalog (hand-written dashboards included: they are loaded with it) and the environment.

The generators are listed here, explicitly:
- ``FILE_GENERATORS``: ``fn(rs) -> {relative path: content}`` (content: dict/list for YAML/JSON);
- ``KUBERNETES_GENERATORS``: ``fn(rs) -> [manifest, ...]``, collected into ``kubernetes/<service>.yaml``;
- ``CATALOG_GENERATORS``: ``fn(catalog, [rs]) -> [Artifact]`` for outputs needing the whole catalog.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

from .alertmanager.config import alertmanager_files
from .alertmanager.operator import alertmanager_config_objects
from .artifact import Artifact
from .cloudwatch.files import files as cloudwatch_files
from .grafana.generate import dashboard_configmaps, dashboard_files
from .grafana.handwritten import render_handwritten
from .kubernetes.jobs import remediation_templates, scheduled_jobs
from .model import Catalog
from .prometheus.rules import prometheus_rule, rule_file
from .prometheus.unittests import test_file
from .resolve import ResolvedService, resolve
from .ssm.documents import files as ssm_files

__all__ = ["Artifact", "render", "serialize_all", "write_atomic", "FILE_GENERATORS", "KUBERNETES_GENERATORS",
           "CATALOG_GENERATORS"]


def prometheus_files(rs: ResolvedService) -> dict[str, Any]:
    """``prometheus/<service>.rules.yaml`` and the promtool tests of its alerts."""
    if not rs.is_prometheus:
        return {}
    return {
        f"prometheus/{rs.name}.rules.yaml": rule_file(rs),
        f"prometheus/{rs.name}.tests.yaml": test_file(rs),
    }


def prometheus_rules(rs: ResolvedService) -> list[dict]:
    """The same rule groups as a prometheus-operator ``PrometheusRule``."""
    if not rs.is_prometheus or not rs.alerts:
        return []
    return [prometheus_rule(rs)]


FILE_GENERATORS: tuple[Callable[[ResolvedService], dict[str, Any]], ...] = (
    prometheus_files, cloudwatch_files, ssm_files, dashboard_files)
KUBERNETES_GENERATORS: tuple[Callable[[ResolvedService], list[dict]], ...] = (
    prometheus_rules, alertmanager_config_objects, scheduled_jobs, remediation_templates, dashboard_configmaps)
CATALOG_GENERATORS: tuple[Callable[[Catalog, list[ResolvedService]], list[Artifact]], ...] = (
    render_handwritten, alertmanager_files)
"""Generators that need the whole catalog at once (the hand-written dashboards; the Alertmanager configuration)."""


@contextmanager
def _cyclic_gc_paused():
    """Rendering allocates millions of small, acyclic dicts and strings that reference counting frees; the
    cyclic collector's full passes over the ever larger heap made render time grow faster than the
    catalog (2,000 services took 2.4x the time of 1,000; bench/render_scale.py). Pause it meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def render(catalog: Catalog, env: str, services: list[str] | None = None) -> list[Artifact]:
    """Every artifact for ``env``, sorted by path. Pure: same catalog, same artifacts."""
    with _cyclic_gc_paused():
        return _render(catalog, env, services)


def _render(catalog: Catalog, env: str, services: list[str] | None) -> list[Artifact]:
    resolved = resolve(catalog, env, services)
    out: list[Artifact] = []
    for rs in resolved:
        for gen in FILE_GENERATORS:
            for path, content in gen(rs).items():
                out.append(Artifact(path, content, rs.name))
        manifests: list[dict] = []
        for gen in KUBERNETES_GENERATORS:
            manifests.extend(gen(rs))
        if manifests:
            out.append(Artifact(f"kubernetes/{rs.name}.yaml", manifests, rs.name, multi=True))
    for gen in CATALOG_GENERATORS:
        out.extend(gen(catalog, resolved))
    merged: dict[str, Artifact] = {}
    for a in out:
        if a.path in merged and a.multi and merged[a.path].multi:
            prev = merged[a.path]
            merged[a.path] = Artifact(a.path, list(prev.content) + list(a.content), prev.service, multi=True)
        elif a.path in merged:
            raise ValueError(f"two generators wrote {a.path}")
        else:
            merged[a.path] = a
    return [merged[p] for p in sorted(merged)]


def serialize_all(artifacts: list[Artifact]) -> dict[str, bytes]:
    with _cyclic_gc_paused():
        return {a.path: a.serialize() for a in artifacts}


def write_atomic(files: dict[str, bytes], out_dir: str | os.PathLike, *, protect: tuple = (),
                 keep_existing: bool = False, label: str = "--out") -> Path:
    """Replace ``out_dir`` with exactly ``files``, all or nothing, refusing to replace anything that is not
    mlmon's: :func:`generators.output.write_tree` (the one writer of every ``--out``)."""
    from .output import write_tree

    return write_tree(files, out_dir, protect=protect, keep_existing=keep_existing, label=label)
