"""Seed 003 — the RAG enterprise pipeline's five-row operations dashboard: errors (< 1 % 5xx), injection
blocks, retrieval quality (cosine p50, empty results, embedding drift), hallucination (HHEM >= 0.85),
feedback and annotation backlog."""

from grafanalib.core import Dashboard, Time

from generators.grafana.helpers import (dashboard_link, monitor_panel, panel, row, selector, templates, threshold,
                                        thresholds_for)

service = "rag-enterprise-pipeline"

http = selector(service, "rag_http_requests_total")
blocked = selector(service, "rag_injection_blocked_total")
hhem = selector(service, "rag_hhem_score", suffix="_bucket")
feedback = selector(service, "rag_feedback_total")
# numbers in titles come from the catalog too
max_5xx = threshold(service, "RAGPipelineHighErrorRate")
min_hhem = threshold(service, "RAGHallucinationScoreLow")

dashboard = Dashboard(
    title="RAG Pipeline Operations",
    uid="rag-pipeline-operations",
    description="Daily health check of the RAG enterprise pipeline: review all five rows.",
    tags=["rag"],
    templating=templates(service),
    links=[dashboard_link(service)],
    time=Time("now-24h", "now"),
    refresh="1m",
    panels=[
        row(f"Row 1 — Errors (target < {max_5xx * 100:g} % 5xx)", 0),
        monitor_panel(service, "RAGPipelineHighErrorRate", (0, 1, 12, 8), title="5xx ratio"),
        panel("Requests by status", [(f"sum by (status) (rate({http}[$__rate_interval]))", "{{status}}")],
              (12, 1, 12, 8), unit="reqps"),
        row("Row 2 — Injection blocks", 9),
        monitor_panel(service, "RAGInjectionBlockSpike", (0, 10, 12, 8), title="Blocked injections (15m)"),
        panel("Blocks by layer", [(f"sum by (layer) (rate({blocked}[$__rate_interval]))", "{{layer}}")],
              (12, 10, 6, 8), unit="ops"),
        monitor_panel(service, "RAGPIILeakDetected", (18, 10, 6, 8), title="PII leaks (10m)"),
        row("Row 3 — Retrieval quality and embedding drift", 18),
        monitor_panel(service, "RAGRetrievalQualityDegraded", (0, 19, 8, 8), title="Retrieval cosine similarity p50"),
        monitor_panel(service, "RAGEmptyRetrievalRateHigh", (8, 19, 8, 8), title="Empty retrieval ratio"),
        monitor_panel(service, "RAGEmbeddingDriftDetected", (16, 19, 8, 8), title="Embedding drift detected"),
        row(f"Row 4 — Hallucination (HHEM >= {min_hhem:g})", 27),
        monitor_panel(service, "RAGHallucinationScoreLow", (0, 28, 8, 8), title="HHEM score p10 (9 in 10 answers above)"),
        panel("HHEM score distribution",
              [(f"histogram_quantile({q}, sum by (le) (rate({hhem}[$__rate_interval])))", f"p{int(q * 100)}")
               for q in (0.1, 0.5, 0.9)], (8, 28, 8, 8),
              steps=thresholds_for(service, "RAGHallucinationScoreLow")),
        monitor_panel(service, "RAGHallucinationRateSpike", (16, 28, 8, 8),
                      title="Share of answers under 0.85 (15m): hallucination rate"),
        row("Row 5 — Feedback and annotation backlog", 36),
        panel("Feedback rate by rating", [(f"sum by (rating) (rate({feedback}[$__rate_interval]))", "{{rating}}")],
              (0, 37, 12, 8), unit="ops"),
        monitor_panel(service, "RAGAnnotationBacklogHigh", (12, 37, 12, 8), title="Annotation backlog"),
    ],
)
