"""Shared helpers of the deploy tests (imported by tests/test_deploy_*.py).

The tests run the real stack program against the real render of the seed fixture catalog
(``tests/fixtures/seeds/alerts``, a copy of the shipped one); these helpers load that render, run the program
with the committed stack configs pointed at it, and build catalog variants on disk (environments renamed,
overrides stripped) for the per-environment comparisons.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
ENVS = ("dev", "staging", "prod")

KUBE_TOKENS = {  # written out independently of generators/deploy/mapping.py
    "PrometheusRule": "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    "AlertmanagerConfig": "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
    "Secret": "kubernetes:core/v1:Secret",
    "ConfigMap": "kubernetes:core/v1:ConfigMap",
    "ServiceAccount": "kubernetes:core/v1:ServiceAccount",
    "CronJob": "kubernetes:batch/v1:CronJob",
    "Job": "kubernetes:batch/v1:Job",
    "Role": "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "RoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
}
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
CW_DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
GRAFANA_DASHBOARD = "grafana:oss/dashboard:Dashboard"
GRAFANA_FOLDER = "grafana:oss/folder:Folder"
SERVICE = "mlmon:index:Service"
COMPONENT = "app.kubernetes.io/component"


def rendered(env: str, catalog_dir: Path = SEEDS / "alerts"):
    """``(catalog, artifacts)`` of ``mlmon render --env ENV`` (cached for the seed fixture)."""
    if Path(catalog_dir) == SEEDS / "alerts":
        return _rendered_seed(env)
    return _render(env, Path(catalog_dir))


@functools.lru_cache(maxsize=None)
def _rendered_seed(env: str):
    return _render(env, SEEDS / "alerts")


def run_stack(env: str, catalog_dir: Path = SEEDS / "alerts", overrides: dict | None = None, record=None):
    """The stack program under mocks with the committed ``stacks/Pulumi.<env>.yaml``, deploying ``catalog_dir``."""
    from generators.deploy import mocks

    return mocks.run_stack_file(env, overrides={"mlmon:catalog": str(catalog_dir), **(overrides or {})},
                                record=record)


def _render(env: str, catalog_dir: Path):
    from generators.loader import load_catalog
    from generators.render import render

    catalog = load_catalog(catalog_dir)
    return catalog, render(catalog, env)


def stack_config(env: str) -> dict:
    """The ``config:`` mapping of the committed ``stacks/Pulumi.<env>.yaml``."""
    import yaml

    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{env}.yaml").read_text())["config"]


def copy_catalog(src: Path, dst: Path, rename: dict[str, str] | None = None, strip: bool = False) -> Path:
    """Copy a catalog directory. ``rename`` renames environments everywhere they are named (the
    ``environments`` lists, the keys of ``overrides``); ``strip`` drops every per-environment difference:
    ``overrides`` mappings and the ``environments`` selectors of services' entries (e.g. a staging-only job)."""
    import yaml

    rename = rename or {}

    def walk(v, top=False):
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if k == "overrides":
                    if not strip:
                        out[k] = {rename.get(e, e): walk(o) for e, o in x.items()}
                elif k == "environments" and isinstance(x, list):
                    if top or not strip:
                        out[k] = [rename.get(e, e) for e in x]
                else:
                    out[k] = walk(x)
            return out
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.yaml")):
        doc = yaml.safe_load(f.read_text())
        (dst / f.name).write_text(yaml.safe_dump(walk(doc, top=f.name == "_defaults.yaml"), sort_keys=False))
    return dst


@contextlib.contextmanager
def registered(name: str, fn):
    """Add a (test-only) generator to one of generators.render's generator lists (``name``) for the block."""
    from generators import render as render_mod

    before = getattr(render_mod, name)
    setattr(render_mod, name, before + (fn,))
    try:
        yield
    finally:
        setattr(render_mod, name, before)
