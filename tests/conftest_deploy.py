"""Shared helpers of the deploy tests (imported by tests/test_deploy_*.py).

Synthetic generators stand in for the artifact kinds other issues are building in parallel (dashboard
ConfigMaps and Grafana JSON: issue 3; CloudWatch alarms, composites, dashboards, topics: issue 4; CronJobs,
Jobs, ServiceAccounts, Roles, RoleBindings: issue 5). They are registered in the real render registries
(``generators.render``), so the stack program sees them exactly as it will see the real ones: through
``render(catalog, env)``. Their content is derived from each ResolvedService, so per-environment overrides
flow through them too.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
import types
from pathlib import Path

from generators import render as render_mod
from generators.render import Artifact

ROOT = Path(__file__).resolve().parents[1]
ENVS = ("dev", "staging", "prod")


def ensure_resolve_actions() -> str:
    """Make ``generators.cloudwatch.actions.resolve_actions`` importable; returns "real" or "stand-in"."""
    try:
        if importlib.util.find_spec("generators.cloudwatch.actions") is not None:
            return "real"
    except ModuleNotFoundError:
        pass
    sys.path.insert(0, str(Path(__file__).parent))
    import deploy_actions_standin

    if importlib.util.find_spec("generators.cloudwatch") is None:
        pkg = types.ModuleType("generators.cloudwatch")
        pkg.__path__ = []
        sys.modules["generators.cloudwatch"] = pkg
    sys.modules["generators.cloudwatch.actions"] = deploy_actions_standin
    return "stand-in"


def topic_name(service: str, severity: str) -> str:
    return f"mlmon-{service}-{severity}"


def _cw_alarm(rs, alert) -> dict:
    src = rs.service.source
    mon = alert.monitor
    dims = [{"Name": k, "Value": v} for k, v in src.dimensions.items()]
    op = getattr(mon, "op", "above")
    body = {
        "AlarmName": f"{rs.name}-{alert.name}",
        "AlarmDescription": f"{mon.summary or alert.name}. Runbook: {rs.runbook_base}/{alert.name}",
        "ActionsEnabled": True,
        "AlarmActions": [topic_name(rs.name, alert.severity)],
        "OKActions": [topic_name(rs.name, alert.severity)],
        "EvaluationPeriods": max(1, alert.for_ // 300),
        "DatapointsToAlarm": max(1, alert.for_ // 300),
        "Threshold": alert.threshold,
        "ComparisonOperator": "GreaterThanThreshold" if op == "above" else "LessThanThreshold",
        "TreatMissingData": "missing" if mon.kind == "threshold" else "notBreaching",
        "Tags": [{"Key": "severity", "Value": alert.severity}, {"Key": "env", "Value": rs.env}],
    }
    if mon.kind == "latency":
        body.update({"Namespace": src.namespace, "MetricName": mon.histogram, "Dimensions": dims,
                     "ExtendedStatistic": f"p{int(mon.quantile * 100)}", "Period": 300, "Unit": "Seconds"})
    elif getattr(mon, "denominator", None) is not None:
        def stat(i, metric):
            return {"Id": i, "ReturnData": False,
                    "MetricStat": {"Metric": {"Namespace": src.namespace, "MetricName": metric, "Dimensions": dims},
                                   "Period": 300, "Stat": "Sum"}}
        body["Metrics"] = [stat("errors", mon.metric), stat("total", mon.denominator.metric),
                           {"Id": "rate", "Expression": "errors / total", "Label": "error rate", "ReturnData": True}]
    else:
        body.update({"Namespace": src.namespace, "MetricName": mon.metric, "Statistic": "Average", "Period": 300})
        if dims:
            body["Dimensions"] = dims
    return body


def synthetic_cloudwatch(rs) -> dict:
    if rs.service.source.type != "cloudwatch" or not rs.alerts:
        return {}
    alarms = [_cw_alarm(rs, a) for a in rs.alerts]
    severities = sorted({a.severity for a in rs.alerts})
    top = "critical" if "critical" in severities else severities[-1]
    composite = {
        "AlarmName": f"{rs.name}-health",
        "AlarmRule": " OR ".join(f'ALARM("{a["AlarmName"]}")' for a in alarms),
        "AlarmDescription": f"{rs.name}: any alarm",
        "AlarmActions": [topic_name(rs.name, top)],
        "ActionsSuppressor": alarms[0]["AlarmName"],
        "ActionsSuppressorWaitPeriod": 120,
        "ActionsSuppressorExtensionPeriod": 60,
    }
    dashboard = {"DashboardName": f"mlmon-{rs.name}",
                 "DashboardBody": json.dumps({"widgets": [
                     {"type": "metric", "properties": {"title": a["AlarmName"],
                                                       "annotations": {"horizontal": [{"value": a["Threshold"]}]}}}
                     for a in alarms]})}
    return {
        f"cloudwatch/{rs.name}.json": alarms,
        f"cloudwatch/{rs.name}.composite.json": [composite],
        f"cloudwatch/{rs.name}.dashboard.json": dashboard,
        f"cloudwatch/{rs.name}.topics.json": [{"Name": topic_name(rs.name, s), "Severity": s} for s in severities],
    }


def synthetic_kubernetes(rs) -> list[dict]:
    if not rs.is_prometheus or not rs.alerts:
        return []
    ns = rs.service.namespace or "monitoring"
    first = rs.alerts[0]
    labels = {"app.kubernetes.io/name": rs.name, "app.kubernetes.io/managed-by": "mlmon"}
    sa = f"{rs.name}-remediation"
    container = {"name": "monitor", "image": "ghcr.io/example/monitor:1.4.2", "args": ["--check", first.name],
                 "env": [{"name": "THRESHOLD", "value": str(first.threshold)}],
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                 "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                     "capabilities": {"drop": ["ALL"]}}}
    pod = {"spec": {"restartPolicy": "Never", "serviceAccountName": sa, "containers": [container]}}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": f"{rs.name}-dashboard", "namespace": ns, "labels": {**labels, "grafana_dashboard": "1"}},
         "data": {f"{rs.name}.json": json.dumps({"uid": f"mlmon-{rs.name}", "title": rs.name})}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns, "labels": labels},
         "automountServiceAccountToken": False},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": sa, "namespace": ns, "labels": labels},
         "rules": [{"apiGroups": ["apps"], "resources": ["deployments"],
                    "resourceNames": [rs.service.workload.name if rs.service.workload else rs.name],
                    "verbs": ["get", "patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": sa, "namespace": ns, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
         "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": f"{rs.name}-monitor", "namespace": ns,
                                                                    "labels": labels},
         "spec": {"schedule": "*/15 * * * *", "concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 300,
                  "successfulJobsHistoryLimit": 3, "jobTemplate": {"spec": {"backoffLimit": 1, "template": pod}}}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": f"{rs.name}-rollback", "namespace": ns,
                                                                    "labels": labels},
         "spec": {"schedule": "0 0 31 2 *", "suspend": True, "jobTemplate": {"spec": {"template": pod}}}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": f"{rs.name}-smoke", "namespace": ns,
                                                                "labels": labels},
         "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 3600, "template": pod}},
    ]


def synthetic_grafana(catalog, resolved) -> list[Artifact]:
    out = []
    for rs in resolved:
        if not rs.alerts:
            continue
        uid = f"mlmon-{rs.name}"
        out.append(Artifact(f"grafana/{uid}.json", {
            "uid": uid, "title": rs.service.title or rs.name, "schemaVersion": 39,
            "panels": [{"type": "timeseries", "title": a.name,
                        "fieldConfig": {"defaults": {"thresholds": {"steps": [{"value": a.threshold}]}}}}
                       for a in rs.alerts]}, rs.name))
    return out


@contextlib.contextmanager
def synthetic_artifacts():
    """Register the synthetic generators in the render registries for the duration of the block."""
    ensure_resolve_actions()
    added = [(render_mod.FILE_GENERATORS, synthetic_cloudwatch),
             (render_mod.KUBERNETES_GENERATORS, synthetic_kubernetes),
             (render_mod.CATALOG_GENERATORS, synthetic_grafana)]
    for registry, fn in added:
        registry.append(fn)
    try:
        yield
    finally:
        for registry, fn in added:
            registry.remove(fn)


def rendered(env: str, catalog_dir: Path = ROOT / "alerts"):
    from generators.loader import load_catalog
    from generators.render import render

    catalog = load_catalog(catalog_dir)
    return catalog, render(catalog, env)


def strip_overrides(src: Path, dst: Path) -> Path:
    """Copy a catalog directory, dropping every ``overrides`` mapping (monitors and levels)."""
    import yaml

    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k != "overrides"}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.yaml")):
        (dst / f.name).write_text(yaml.safe_dump(strip(yaml.safe_load(f.read_text())), sort_keys=False))
    return dst
