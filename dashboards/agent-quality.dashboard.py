"""Seed 000 — "Agent Quality" (https://grafana.example.com/d/agent-quality): the FunctionGemma agent's
reasoning quality against the ReasoningDriftHigh threshold, request volume and drift alerts."""

from grafanalib.core import Dashboard, Time

from generators.grafana.helpers import (alerts_selector, dashboard_link, monitor_panel, panel, row, selector, table,
                                        templates, thresholds_for)

service = "function-gemma-agent"

quality = selector(service, "agent_reasoning_quality_score")
requests = selector(service, "agent_requests_total")

dashboard = Dashboard(
    title="Agent Quality",
    uid="agent-quality",
    description="Reasoning quality of the FunctionGemma agent (runbook OPS-002: Reasoning Drift).",
    tags=["agent", "reasoning"],
    templating=templates(service),
    links=[dashboard_link(service)],
    time=Time("now-6h", "now"),
    refresh="1m",
    panels=[
        row("Reasoning quality", 0),
        monitor_panel(service, "ReasoningDriftHigh", (0, 1, 16, 8), title="Reasoning quality (5m average) vs threshold"),
        monitor_panel(service, "ReasoningDriftHigh", (16, 1, 8, 8), title="Reasoning quality now", stat=True),
        panel("Reasoning quality score (raw samples)", [(quality, "score")], (0, 9, 24, 7),
              steps=thresholds_for(service, "ReasoningDriftHigh")),
        row("Traffic", 16),
        panel("Request volume", [(f"sum(rate({requests}[$__rate_interval]))", "requests/s")], (0, 17, 24, 7),
              unit="reqps"),
        row("Drift alerts", 24),
        panel("ReasoningDriftHigh pending/firing",
              [(f"count by (alertstate) ({alerts_selector(service, alertname='ReasoningDriftHigh')})",
                "{{alertstate}}")], (0, 25, 12, 7)),
        table("Active drift alerts",
              f"max by (alertname, severity, alertstate) ({alerts_selector(service, alertname='ReasoningDriftHigh')})",
              (12, 25, 12, 7)),
    ],
)
