"""Seed 001 — "Orchestrator ML Predictions" (https://grafana.neural-hive.local/d/orchestrator-ml-predictions):
F1, precision and recall, performance score and degradation flag per `specialist_type`."""

from grafanalib.core import Dashboard, Time

from generators.grafana.helpers import (alerts_selector, dashboard_link, monitor_panel, panel, row, selector, table,
                                        templates)

service = "neural-hive-specialists"


def per_specialist(metric):
    return [(selector(service, metric), "{{specialist_type}}")]


dashboard = Dashboard(
    title="Orchestrator ML Predictions",
    uid="orchestrator-ml-predictions",
    description="Model quality of the neural-hive specialists (runbook: Model Degraded).",
    tags=["neural-hive", "specialists"],
    templating=templates(service),
    links=[dashboard_link(service)],
    time=Time("now-24h", "now"),
    refresh="1m",
    panels=[
        row("Model quality per specialist", 0),
        monitor_panel(service, "MLModelLowF1Score", (0, 1, 8, 8), title="F1 score"),
        panel("Precision", per_specialist("neural_hive_mlflow_model_precision"), (8, 1, 8, 8), unit="percentunit"),
        panel("Recall", per_specialist("neural_hive_mlflow_model_recall"), (16, 1, 8, 8), unit="percentunit"),
        row("Performance", 9),
        monitor_panel(service, "MLModelLowPerformance", (0, 10, 12, 8), title="Performance score"),
        monitor_panel(service, "MLModelPerformanceDeclining", (12, 10, 12, 8),
                      title="Performance score trend (per hour, over 6h)"),
        row("Degradation", 18),
        monitor_panel(service, "MLModelDegraded", (0, 19, 12, 7), title="Degradation detected"),
        table("Active model alerts", f"max by (alertname, severity, alertstate, specialist_type) "
                                     f"({alerts_selector(service)})", (12, 19, 12, 7)),
    ],
)
