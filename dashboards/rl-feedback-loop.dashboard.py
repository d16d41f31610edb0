"""Seed 004 — "RL Feedback Loop": processed/failed rates, success rate against its SLO, queue depth against
its ticket/page levels, queue-depth p95 and batch latency p95 against their SLOs, per tenant/workspace."""

from grafanalib.core import Dashboard, Time

from generators.grafana.helpers import (dashboard_link, monitor_panel, panel, row, selector, slo_panel, templates)

service = "rl-feedback-loop"

processed = selector(service, "rl_feedback_processed_total")
failed = selector(service, "rl_feedback_failed_total")

dashboard = Dashboard(
    title="RL Feedback Loop",
    uid="rl-feedback-loop",
    description="Trajectory feedback processing of crew-api (RL Feedback Loop runbook).",
    tags=["rl", "crew"],
    templating=templates(service),
    links=[dashboard_link(service)],
    time=Time("now-6h", "now"),
    refresh="30s",
    panels=[
        row("Throughput", 0),
        panel("Processed / failed per second", [
            (f"sum by (tenant, workspace) (rate({processed}[$__rate_interval]))", "processed {{tenant}}/{{workspace}}"),
            (f"sum by (tenant, workspace) (rate({failed}[$__rate_interval]))", "failed {{tenant}}/{{workspace}}"),
        ], (0, 1, 12, 8), unit="ops"),
        slo_panel(service, "RLFeedbackSuccessRate", (12, 1, 12, 8), title="Success rate vs SLO"),
        row("Queue", 9),
        monitor_panel(service, "RLFeedbackQueueDepth", (0, 10, 12, 8), title="Queue depth (ticket / page levels)"),
        monitor_panel(service, "RLFeedbackQueueDepthP95High", (12, 10, 12, 8), title="Queue depth p95 (1h) vs SLO"),
        row("Latency and failures", 18),
        monitor_panel(service, "RLFeedbackBatchLatencyHigh", (0, 19, 12, 8), title="Batch latency p95 vs SLO"),
        monitor_panel(service, "RLFeedbackProcessingFailures", (12, 19, 12, 8), title="Failures (15m)"),
    ],
)
