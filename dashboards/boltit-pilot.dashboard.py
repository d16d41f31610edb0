"""Seed 002 — "BoltIT Pilot" on Grafana's CloudWatch datasource (namespace and region from the catalog):
classification accuracy, confidence, prediction error rate and p95 latency against their warning and
critical alarm levels."""

from grafanalib.core import Dashboard, Templating, Time

from generators.grafana.build import datasource_variable
from generators.grafana.helpers import cloudwatch_monitor_panel, cloudwatch_panel, dashboard_link, row

service = "boltit-pilot"

dashboard = Dashboard(
    title="BoltIT Pilot",
    uid="boltit-pilot",
    description="Model performance of the BoltIT pilot classifier (runbook: Model Performance Regression).",
    tags=["boltit", "cloudwatch"],
    templating=Templating([datasource_variable("cloudwatch")]),
    links=[dashboard_link(service)],
    time=Time("now-7d", "now"),
    refresh="5m",
    panels=[
        row("Model quality", 0),
        cloudwatch_monitor_panel(service, "PilotClassificationAccuracy", (0, 1, 12, 8),
                                 title="Classification accuracy (7-day rolling)"),
        cloudwatch_monitor_panel(service, "PilotConfidence", (12, 1, 12, 8), title="Prediction confidence (1h avg)"),
        row("Serving", 9),
        cloudwatch_monitor_panel(service, "PilotPredictionErrorRate", (0, 10, 8, 8), title="Prediction error rate"),
        cloudwatch_monitor_panel(service, "PilotResponseLatency", (8, 10, 8, 8), title="Response latency p95"),
        cloudwatch_panel(service, "Predictions served", [{"metric": "predictions", "stat": "Sum", "period": 300,
                                                          "id": "m1"}], (16, 10, 8, 8)),
    ],
)
