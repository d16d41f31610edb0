"""Shared helpers of the scheduled-jobs / remediation tests (imported by tests/test_kubernetes_*.py)."""

from __future__ import annotations

import functools
import shutil
import textwrap
from pathlib import Path

import yaml

from generators.errors import CatalogError
from generators.loader import load_catalog
from generators.render import render

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "tests" / "fixtures" / "seeds"
ALERTS = SEEDS / "alerts"

MINIMAL = """\
service: svc
team: team-a
namespace: ns-a
workload: {kind: Deployment, name: api}
metrics:
  score: {type: gauge, range: [0, 1]}
monitors:
  - name: ScoreLow
    kind: threshold
    metric: score
    op: below
    threshold: 0.5
    for: 5m
    severity: warning
"""


@functools.lru_cache(maxsize=None)
def repo_catalog():
    return load_catalog(ALERTS)


@functools.lru_cache(maxsize=None)
def rendered(env: str) -> dict[str, list[dict]]:
    """The repository catalog rendered for ``env``: kubernetes file name -> documents."""
    out = {}
    for a in render(repo_catalog(), env):
        if a.path.startswith("kubernetes/"):
            out[a.path] = list(yaml.safe_load_all(a.serialize().decode()))
    return out


def all_docs(env: str | None = None) -> list[tuple[str, dict]]:
    envs = [env] if env else list(repo_catalog().defaults.environments)
    return [(e, d) for e in envs for docs in rendered(e).values() for d in docs]


def find(env: str, kind: str, name: str, namespace: str | None = None) -> dict:
    for _, d in all_docs(env):
        md = d["metadata"]
        if d["kind"] == kind and md["name"] == name and (namespace is None or md.get("namespace") == namespace):
            return d
    raise AssertionError(f"no {kind} {name} rendered for {env}")


def pod_spec(cronjob: dict) -> dict:
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(cronjob: dict) -> list[dict]:
    spec = pod_spec(cronjob)
    return [*spec.get("initContainers", []), *spec["containers"]]


def service_catalog(tmp_path: Path, body: str, name: str = "svc", with_repo: bool = False) -> Path:
    """A catalog directory with one service file ``<name>.yaml`` (optionally beside the repo catalog)."""
    root = tmp_path / "alerts"
    if with_repo:
        shutil.copytree(ALERTS, root)
    else:
        root.mkdir()
    (root / f"{name}.yaml").write_text(textwrap.dedent(body))
    return root


def load(root: Path):
    return load_catalog(root)


def problems(root: Path) -> list:
    try:
        load_catalog(root)
    except CatalogError as exc:
        return exc.problems
    raise AssertionError("the catalog loaded without problems")


def render_one(root: Path, env: str = "dev") -> list[dict]:
    cat = load_catalog(root)
    out = []
    for a in render(cat, env):
        if a.path.startswith("kubernetes/"):
            out.extend(yaml.safe_load_all(a.serialize().decode()))
    return out
