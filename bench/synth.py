"""A synthetic catalog of N services shaped like the seeds, for ``bench/render_scale.py``.

Every service gets about ten monitors of mixed kinds (smoothed and plain thresholds, a flag, a trend, a
ratio threshold, failures, two-level queue depth, stalled, a ratio SLO, latency on a millisecond
histogram, absent), per-environment overrides, and whatever the *section builders* below add.

Extension point: ``SECTION_BUILDERS`` maps a top-level catalog key to ``fn(index, name, doc) -> value``;
a builder returning ``{}``/``None``/``[]`` adds nothing. The sections filled in:

* ``jobs`` (``generators/jobs/model.py``): like seeds 000/001, a weekly retraining CronJob (Secret-backed
  token, larger resources, own deadline) and a half-hourly evaluation CronJob;
* ``remediations``: like seeds 000/001/004, a rollback (``rollout-undo``), a ``trigger-job`` of the
  retraining job, a ``rollout-restart`` and a ``patch-configmap`` with restart; monitors name them
  (``REMEDIATED_MONITORS``), so every such alert carries the remediation annotations;
* dashboards: nothing to add. Every service gets its generated Grafana dashboard (``mlmon-<service>``,
  ``generators/grafana/``) and its sidecar ConfigMap automatically from its monitors; the catalog has no
  per-service dashboard section (only the catalog-wide ``dashboard_*`` settings of ``_defaults.yaml`` and
  ``links.dashboard``, a URL that would replace the generated dashboard's link). Hand-written dashboards are
  Python modules in ``dashboards/`` beside the catalog, tied to the seeds' metrics; the synthetic catalog
  has none (``dashboard_section`` returns ``None`` and is kept as the hook).

Every tenth service is a CloudWatch service (like seed 002, no jobs or remediations: it has no Kubernetes
workload); it renders CloudWatch alarms and a CloudWatch-datasource Grafana dashboard.
"""

from __future__ import annotations

from typing import Any, Callable

import yaml

ENVIRONMENTS = ("dev", "staging", "prod")
CLOUDWATCH_EVERY = 10


def camel(i: int) -> str:
    """Prefix that keeps alert names unique across the catalog (alert names are catalog-wide)."""
    return f"S{i:05d}"


def service_name(i: int) -> str:
    return f"ml-svc-{i:05d}"


def _prometheus_service(i: int, name: str) -> dict[str, Any]:
    p = camel(i)
    return {
        "service": name,
        "title": f"Synthetic ML service {i}",
        "team": f"team-{i % 17}",
        "namespace": f"ns-{i % 23}",
        "workload": {"kind": "Deployment", "name": f"{name}-api"},
        "labels": ["tenant"],
        "routing": {"warning": f"team-{i % 17}-slack", "critical": f"team-{i % 17}-pager",
                    "page": f"team-{i % 17}-pager", "ticket": f"team-{i % 17}-jira"},
        "metrics": {
            "model_quality_score": {"type": "gauge", "range": [0, 1], "labels": ["tenant"],
                                    "help": "Quality score of the served model."},
            "model_degradation_detected": {"type": "gauge", "range": [0, 1], "labels": ["tenant"]},
            "model_performance_score": {"type": "gauge", "range": [0, 1], "labels": ["tenant"]},
            "http_requests_total": {"type": "counter", "labels": ["tenant", "status"]},
            "jobs_processed_total": {"type": "counter", "labels": ["tenant"]},
            "jobs_failed_total": {"type": "counter", "labels": ["tenant"]},
            "queue_depth": {"type": "gauge", "range": [0, 100000], "labels": ["tenant"]},
            "batch_latency_ms": {"type": "histogram", "unit": "milliseconds", "labels": ["tenant"]},
            "model_heartbeat": {"type": "gauge", "labels": ["tenant"]},
        },
        "monitors": [
            {"name": f"{p}QualityLow", "kind": "threshold", "metric": "model_quality_score", "op": "below",
             "smoothing": {"function": "avg", "window": "5m"}, "threshold": 0.7, "for": "5m",
             "severity": "warning", "summary": "Quality of {{ $labels.tenant }} degraded",
             "overrides": {"dev": {"for": "15m", "severity": "info"}}},
            {"name": f"{p}ModelDegraded", "kind": "flag", "metric": "model_degradation_detected", "for": "5m",
             "severity": "warning"},
            {"name": f"{p}PerformanceLow", "kind": "threshold", "metric": "model_performance_score",
             "op": "below", "threshold": 0.65, "for": "10m", "severity": "warning",
             "overrides": {"staging": {"threshold": 0.6}}},
            {"name": f"{p}PerformanceDeclining", "kind": "trend", "metric": "model_performance_score",
             "window": "6h", "per": "hour", "threshold": -0.01, "for": "30m", "severity": "warning"},
            {"name": f"{p}ErrorRateHigh", "kind": "threshold", "metric": "http_requests_total",
             "matchers": {"status": "=~5.."}, "denominator": "http_requests_total",
             "smoothing": {"function": "rate", "window": "5m"}, "threshold": 0.01, "for": "5m",
             "severity": "critical", "overrides": {"dev": {"enabled": False}}},
            {"name": f"{p}ProcessingFailures", "kind": "failures", "metric": "jobs_failed_total",
             "window": "15m", "severity": "page"},
            {"name": f"{p}QueueDepth", "kind": "threshold", "metric": "queue_depth", "op": "above",
             "levels": [{"alert": f"{p}QueueDepthHigh", "threshold": 25, "for": "15m", "severity": "ticket"},
                        {"alert": f"{p}QueueDepthCritical", "threshold": 100, "for": "10m", "severity": "page",
                         "overrides": {"dev": {"threshold": 500}}}]},
            {"name": f"{p}ProcessingStalled", "kind": "stalled", "backlog": "queue_depth",
             "progress": "jobs_processed_total", "window": "30m", "severity": "page"},
            {"name": f"{p}SuccessRate", "kind": "ratio", "bad": "jobs_failed_total",
             "total": ["jobs_processed_total", "jobs_failed_total"], "threshold": 0.99, "period": "30d"},
            {"name": f"{p}BatchLatencyHigh", "kind": "latency", "histogram": "batch_latency_ms",
             "quantile": 0.95, "window": "10m", "threshold": 5, "for": "15m", "severity": "ticket"},
            {"name": f"{p}HeartbeatMissing", "kind": "absent", "metric": "model_heartbeat",
             "severity": "critical"},
        ],
    }


def _cloudwatch_service(i: int, name: str) -> dict[str, Any]:
    p = camel(i)
    return {
        "service": name,
        "title": f"Synthetic AWS classifier {i}",
        "team": f"team-{i % 17}",
        "source": {"type": "cloudwatch", "namespace": f"Synthetic/Svc{i}", "region": "us-east-1"},
        "routing": {"warning": f"team-{i % 17}-warning", "critical": f"team-{i % 17}-critical"},
        "metrics": {
            "classification_accuracy_7d": {"type": "gauge", "range": [0, 1]},
            "prediction_confidence": {"type": "gauge", "range": [0, 1]},
            "prediction_errors": {"type": "counter"},
            "predictions": {"type": "counter"},
            "response_latency": {"type": "histogram", "unit": "seconds"},
        },
        "monitors": [
            {"name": f"{p}Accuracy", "kind": "threshold", "metric": "classification_accuracy_7d", "op": "below",
             "levels": [{"alert": f"{p}AccuracyLow", "threshold": 0.9, "for": "15m", "severity": "warning"},
                        {"alert": f"{p}AccuracyCritical", "threshold": 0.85, "for": "15m", "severity": "critical"}]},
            {"name": f"{p}ConfidenceLow", "kind": "threshold", "metric": "prediction_confidence", "op": "below",
             "smoothing": {"function": "avg", "window": "1h"}, "threshold": 0.75, "for": "1h",
             "severity": "warning"},
            {"name": f"{p}PredictionErrorRate", "kind": "threshold", "metric": "prediction_errors",
             "denominator": "predictions", "smoothing": {"function": "rate", "window": "5m"}, "op": "above",
             "levels": [{"alert": f"{p}PredictionErrorRateHigh", "threshold": 0.05, "for": "10m",
                         "severity": "warning"},
                        {"alert": f"{p}PredictionErrorRateCritical", "threshold": 0.1, "for": "5m",
                         "severity": "critical"}]},
            {"name": f"{p}ResponseLatency", "kind": "latency", "histogram": "response_latency", "quantile": 0.95,
             "window": "5m", "levels": [{"alert": f"{p}ResponseLatencyHigh", "threshold": 3, "for": "10m",
                                         "severity": "warning"}]},
        ],
    }


# --- extension point: one builder per catalog section owned by another part of mlmon ------------------

REMEDIATED_MONITORS = {
    "QualityLow": ["rollback-model", "retrain-model"],
    "PerformanceLow": ["retrain-model"],
    "ProcessingStalled": ["restart-api"],
    "QueueDepth": ["restart-api", "shed-load"],
}
"""Monitor -> the remediations it names (both without their per-service prefixes ``camel(i)``/``short(i)``)."""


def short(i: int) -> str:
    """Prefix of job and remediation names: several services share a namespace (``ns-<i % 23>``), and
    CronJob names are unique per namespace."""
    return f"s{i:05d}"


def _is_cloudwatch(doc: dict) -> bool:
    return doc.get("source", {}).get("type") == "cloudwatch"


def jobs_section(i: int, name: str, doc: dict) -> list:
    """Scheduled jobs (issue 5): weekly retraining and half-hourly evaluation, like seeds 000 and 001."""
    if _is_cloudwatch(doc):
        return []
    registry, k = f"registry.example.com/team-{i % 17}", short(i)
    return [
        {"name": f"{k}-retraining", "purpose": "retraining",
         "description": f"Retrain {name} on the latest curated data and register the model.",
         "schedule": f"{i % 60} {i % 6} * * 0", "time_zone": "Etc/UTC",
         "image": f"{registry}/{name}-trainer:1.{i % 10}.0",
         "command": ["python", "-m", "training.retrain"], "args": ["--service", name, "--register-model"],
         "env": {"MLFLOW_TRACKING_URI": "http://mlflow.mlflow:5000",
                 "HF_TOKEN": {"secret": {"name": f"{name}-training", "key": "hf-token"}}},
         "resources": {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "16Gi"}},
         "deadline": "6h", "retries": 1, "tmp_size": "20Gi"},
        {"name": f"{k}-evaluation", "purpose": "evaluation",
         "description": "Evaluate the served model on the golden dataset.",
         "schedule": "*/30 * * * *", "image": f"{registry}/{name}-eval:1.{i % 10}.0",
         "command": ["python", "-m", "evaluation.quality"], "args": ["--alert-below", "0.8"],
         "env": {"MODEL_URL": f"http://{name}-api.ns-{i % 23}.svc:8080"},
         "deadline": "20m", "retries": 0},
    ]


def remediations_section(i: int, name: str, doc: dict) -> list:
    """Remediation templates (issue 5): rollback, retrain now, restart, config patch (seeds 000, 001, 004)."""
    if _is_cloudwatch(doc):
        return []
    k = short(i)
    return [
        {"name": f"{k}-rollback-model", "action": "rollout-undo",
         "description": "Roll back to the previous Deployment revision (previous model image)."},
        {"name": f"{k}-retrain-model", "action": "trigger-job", "job": f"{k}-retraining",
         "description": "Start a model-retraining run now."},
        {"name": f"{k}-restart-api", "action": "rollout-restart", "description": "Restart the API pods."},
        {"name": f"{k}-shed-load", "action": "patch-configmap", "configmap": f"{name}-config",
         "data": {"MAX_QUEUE_DEPTH": "50"}, "restart": True,
         "description": "Lower the admitted queue depth while the backlog drains."},
    ]


def dashboard_section(i: int, name: str, doc: dict) -> None:
    """Nothing: the generated Grafana dashboard of every service needs no catalog section (see the module
    docstring). Kept as the hook should the catalog grow per-service dashboard settings."""
    return None


SECTION_BUILDERS: dict[str, Callable[[int, str, dict], Any]] = {
    "jobs": jobs_section,
    "remediations": remediations_section,
    "dashboard": dashboard_section,
}
"""Top-level catalog key -> builder. Empty results are left out of the service file."""


def service_doc(i: int) -> dict[str, Any]:
    name = service_name(i)
    doc = _cloudwatch_service(i, name) if i % CLOUDWATCH_EVERY == CLOUDWATCH_EVERY - 1 else _prometheus_service(i, name)
    for key, build in SECTION_BUILDERS.items():
        value = build(i, name, doc)
        if value:
            doc[key] = value
    defined = {r["name"] for r in doc.get("remediations", ())}
    for monitor in doc["monitors"]:
        wanted = REMEDIATED_MONITORS.get(monitor["name"].removeprefix(camel(i)), ())
        names = [f"{short(i)}-{r}" for r in wanted if f"{short(i)}-{r}" in defined]
        if names:
            monitor["remediations"] = names
    return doc


DEFAULTS = {
    "environments": list(ENVIRONMENTS),
    "evaluation_interval": "1m",
    "rule_labels": {"release": "kube-prometheus-stack"},
}


def catalog_texts(n: int) -> dict[str, str]:
    """``{file name: YAML text}`` for ``generators.loader.load_catalog(root, texts=...)``."""
    dump = lambda d: yaml.dump(d, Dumper=yaml.CSafeDumper, sort_keys=False)  # noqa: E731
    texts = {"_defaults.yaml": dump(DEFAULTS)}
    for i in range(n):
        texts[f"{service_name(i)}.yaml"] = dump(service_doc(i))
    return texts


def write_catalog(n: int, root) -> None:
    from pathlib import Path

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name, text in catalog_texts(n).items():
        (root / name).write_text(text, encoding="utf-8")
