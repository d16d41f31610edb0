"""Render the catalog for one environment into artifacts, and write them atomically.

:func:`render` is the single path from model to artifacts: ``mlmon render`` writes them to disk and the
Pulumi program (``stacks/``) declares resources from the very same objects.

Generators contribute per-service content through two registries:
- ``FILE_GENERATORS``: ``fn(rs) -> {relative path: content}`` (content: dict/list for YAML/JSON);
- ``KUBERNETES_GENERATORS``: ``fn(rs) -> [manifest, ...]``, collected into ``kubernetes/<service>.yaml``.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import yamlio
from .model import Catalog
from .resolve import ResolvedService, resolve


@dataclass(frozen=True)
class Artifact:
    path: str  # relative, with forward slashes, e.g. "prometheus/rl-feedback-loop.rules.yaml"
    content: Any  # a dict/list (JSON or YAML document), or a list of documents for multi-document YAML
    service: str = ""
    multi: bool = False

    def serialize(self) -> bytes:
        if self.path.endswith(".json"):
            return (json.dumps(self.content, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode()
        if self.multi:
            return yamlio.dump_all(self.content).encode()
        if isinstance(self.content, str):
            return self.content.encode()
        return yamlio.dump(self.content).encode()


def _prometheus_files(rs: ResolvedService) -> dict[str, Any]:
    if not rs.is_prometheus:
        return {}
    from .prometheus.rules import rule_file
    from .prometheus.unittests import test_file

    return {
        f"prometheus/{rs.name}.rules.yaml": rule_file(rs),
        f"prometheus/{rs.name}.tests.yaml": test_file(rs),
    }


def _prometheus_rule(rs: ResolvedService) -> list[dict]:
    if not rs.is_prometheus or not rs.alerts:
        return []
    from .prometheus.rules import prometheus_rule

    return [prometheus_rule(rs)]


def _cloudwatch_files(rs: ResolvedService) -> dict[str, Any]:
    if rs.service.source.type != "cloudwatch":
        return {}
    from .cloudwatch import files

    return files(rs)


def _ssm_files(rs: ResolvedService) -> dict[str, Any]:
    from .ssm import files

    return files(rs)


FILE_GENERATORS: list[Callable[[ResolvedService], dict[str, Any]]] = [_prometheus_files, _cloudwatch_files, _ssm_files]
KUBERNETES_GENERATORS: list[Callable[[ResolvedService], list[dict]]] = [_prometheus_rule]
from .kubernetes.jobs import remediation_templates, scheduled_jobs  # noqa: E402  (issue 5: CronJobs, RBAC)
KUBERNETES_GENERATORS += [scheduled_jobs, remediation_templates]
CATALOG_GENERATORS: list[Callable[[Catalog, list[ResolvedService]], list[Artifact]]] = []
"""Generators that need the whole catalog at once (e.g. hand-written dashboards)."""


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


def write_atomic(files: dict[str, bytes], out_dir: str | os.PathLike) -> None:
    """Replace ``out_dir`` with exactly ``files``, all or nothing.

    Everything is written into a sibling temporary directory first; only then is the old directory
    moved aside and the new one renamed into place. A failure at any point leaves ``out_dir`` as it was.
    """
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for rel, data in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out.exists():
            if not out.is_dir():
                raise NotADirectoryError(f"{out} exists and is not a directory")
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            old.rmdir()
            os.rename(out, old)
            try:
                os.rename(tmp, out)
            except OSError:
                os.rename(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# Grafana dashboards (generated per service, hand-written in dashboards/): see generators/grafana/.
from .grafana import register as _register_grafana  # noqa: E402

_register_grafana()
