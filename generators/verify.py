"""Checks of rendered artifacts by the engines that consume them, run by ``mlmon check``.

Each step of ``STEPS`` is ``fn(out_dir, catalog, env) -> list[str]`` (failure messages; empty = passed) on the
render of one environment; each of ``CATALOG_STEPS`` is ``fn(catalog) -> list[str]``, run once. A step may raise
:class:`~generators.errors.Skipped` with a reason (e.g. a tool is not installed).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .errors import Skipped


def promtool_steps(out: Path, catalog, env: str) -> list[str]:
    """``promtool check rules`` and ``promtool test rules`` on every rendered rule and test file."""
    promtool = shutil.which("promtool")
    if promtool is None:
        raise Skipped("promtool not found on PATH (install Debian's `prometheus` package): rule files and "
                      "unit tests were not checked")
    failures = []
    prom = out / "prometheus"
    rules = sorted(prom.glob("*.rules.yaml")) if prom.is_dir() else []
    if rules:
        r = subprocess.run([promtool, "check", "rules", *map(str, rules)], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"promtool check rules ({env}):\n{(r.stdout + r.stderr).strip()}")
    for tests in sorted(prom.glob("*.tests.yaml")) if prom.is_dir() else []:
        r = subprocess.run([promtool, "test", "rules", tests.name], capture_output=True, text=True, cwd=prom)
        if r.returncode != 0:
            failures.append(f"promtool test rules {tests.name} ({env}):\n{(r.stdout + r.stderr).strip()}")
    return failures


def cloudwatch_step(out: Path, catalog, env: str) -> list[str]:
    """CloudWatch alarm, composite and dashboard bodies against botocore's service model and CloudWatch's rules."""
    try:
        import botocore  # noqa: F401
    except ImportError:
        raise Skipped("botocore is not installed: CloudWatch bodies were not checked against its service model")
    from .cloudwatch.validate import verify_step

    return verify_step(out, catalog, env)


def ssm_step(out: Path, catalog, env: str) -> list[str]:
    """SSM Command documents against botocore's SSM model and the schema 2.2 rules; on-call's IAM policy."""
    try:
        import botocore  # noqa: F401
    except ImportError:
        raise Skipped("botocore is not installed: SSM documents were not checked against its service model")
    from .ssm.validate import verify_step

    return verify_step(out, catalog, env)


def kubernetes_step(out: Path, catalog, env: str) -> list[str]:
    """Every rendered manifest against the Kubernetes OpenAPI schemas (strict) and the PrometheusRule CRD."""
    from .kubernetes.validate import kubernetes_step as step

    return step(out, catalog, env)


def operator_models_step(out: Path, catalog, env: str) -> list[str]:
    """PrometheusRule and AlertmanagerConfig objects against the operator community's typed models."""
    from .kubernetes.operator_models import operator_models_step as step

    return step(out, catalog, env)


def policy_step(out: Path, catalog, env: str) -> list[str]:
    """Least privilege and restricted pods in every rendered Kubernetes file."""
    from .kubernetes.policy import policy_step as step

    return step(out, catalog, env)


def grafana_step(out: Path, catalog, env: str) -> list[str]:
    """Dashboards: PromQL parses, metrics declared, unique uids and panel ids, no overlapping panels."""
    from .grafana.checks import grafana_step as step

    return step(out, catalog, env)


def grafana_types_step(out: Path, catalog, env: str) -> list[str]:
    """Dashboards against Grafana's published dashboard types (@grafana/schema, every targeted version)."""
    from .grafana.published import published_types_step as step

    return step(out, catalog, env)


def alertmanager_step(out: Path, catalog, env: str) -> list[str]:
    """``amtool check-config`` on alertmanager.yaml; every alert routed to exactly its catalog receiver (amtool)."""
    from .alertmanager.verify import alertmanager_step as step

    return step(out, catalog, env)


def runbooks_step(catalog) -> list[str]:
    """Hand-written runbooks embed up-to-date generated sections (`mlmon runbooks --update`)."""
    from .handwritten_runbooks import embedded_runbooks_step

    return embedded_runbooks_step(catalog)


STEPS: list[tuple[str, object]] = [
    ("promtool", promtool_steps),
    ("cloudwatch", cloudwatch_step),
    ("ssm", ssm_step),
    ("kubernetes", kubernetes_step),
    ("k8s-policy", policy_step),
    ("operator-models", operator_models_step),
    ("grafana", grafana_step),
    ("grafana-types", grafana_types_step),
    ("alertmanager", alertmanager_step),
]
"""Steps run on the render of each environment."""
CATALOG_STEPS: list[tuple[str, object]] = [
    ("runbooks", runbooks_step),
]
"""Steps run once per catalog: ``fn(catalog) -> [failure]`` (what covers every environment at once)."""
