"""Seed 004 — "RL Feedback Loop": processed/failed rates, success rate against its SLO, queue depth against
its ticket/page levels, queue-depth p95 and batch latency p95 against their SLOs, per tenant/workspace."""

from grafanalib.core import Dashboard, Time

from generators.grafana.helpers import (dashboard_link, monitor_panel, panel, row, selector, slo_panel, templates,
                                       thresholds_for)

service = "rl-feedback-loop"

processed = selector(service, "rl_feedback_processed_total")
failed = selector(service, "rl_feedback_failed_total")
emitted = "trajectory_feedback_emissions_total"  # the evaluator's counter has no tenant/workspace labels
depth = selector(service, "rl_feedback_queue_depth")

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
        # the runbook's derived metrics: "Avg queue depth: avg_over_time(queue_depth[15m])", and processing
        # "Compare to emission rate (from evaluator): rate(trajectory_feedback_emissions_total[5m])"
        panel("Average queue depth (15m)", [
            (f"avg by (tenant, workspace) (avg_over_time({depth}[15m]))", "{{tenant}}/{{workspace}}"),
        ], (0, 18, 12, 8), steps=thresholds_for(service, "RLFeedbackQueueDepth"),
            description="avg_over_time(rl_feedback_queue_depth[15m]) against the ticket / page levels."),
        panel("Processing vs emission rate (5m)", [
            (f"sum(rate({processed}[5m]))", "processed"),
            (f"sum(rate({emitted}[5m]))", "emitted by the evaluator"),
        ], (12, 18, 12, 8), unit="ops",
            description="Checklist: processing rate matches emission rate. Emission consistently above "
                        "processing: sample evaluations or add workers (runbook, long-term mitigation)."),
        panel("Success rate (15m)", [
            (f"sum by (tenant, workspace) (rate({processed}[15m])) / (sum by (tenant, workspace) "
             f"(rate({processed}[15m])) + sum by (tenant, workspace) (rate({failed}[15m])))", "{{tenant}}/{{workspace}}"),
        ], (0, 26, 12, 8), unit="percentunit",
            description="processed / (processed + failed); the checklist wants > 95 % (alert RLFeedbackSuccessRateLow)."),
        row("Latency and failures", 34),
        monitor_panel(service, "RLFeedbackBatchLatencyHigh", (0, 35, 12, 8), title="Batch latency p95 vs SLO"),
        monitor_panel(service, "RLFeedbackProcessingFailures", (12, 35, 12, 8), title="Failures (15m)"),
    ],
)
