"""The CloudWatch dashboard of a service: the ``PutDashboard`` body.

A text header (what the dashboard is, links), then one metric widget per monitor showing exactly the series
its alarms evaluate (same metrics, statistics, periods and metric math) with a horizontal annotation at
every alarm threshold, and the anomaly-detection band where the monitor has one. Two widgets per row.
"""

from __future__ import annotations

import json
from pathlib import PurePath

from ..durations import format_duration as dur
from ..promql import num
from ..resolve import ResolvedService
from ..names import cloudwatch_dashboard_name
from .alarms import AlarmSpec, alarm_specs

SEVERITY_COLOR = {"page": "#d62728", "critical": "#d62728", "warning": "#ff7f0e", "ticket": "#ff7f0e",
                  "info": "#1f77b4"}
WIDTH, HEIGHT, HEADER_HEIGHT = 12, 6, 3


def _metric_row(sid, ref, stat, expr, label, visible) -> list:
    if expr is not None:
        return [{"expression": expr, "label": label, "id": sid}]
    row: list = [ref["Namespace"], ref["MetricName"]]
    for d in ref["Dimensions"]:
        row += [d["Name"], d["Value"]]
    opts = {"id": sid, "stat": stat, "label": label}
    if not visible:
        opts["visible"] = False
    return row + [opts]


def _annotations(shown: AlarmSpec, specs: list[AlarmSpec]) -> list[dict]:
    out = []
    for s in specs:
        if s.plan is None or s.plan.threshold is None or s.role not in ("alert", "window"):
            continue
        if s.role == "window" and s.plan.period != shown.plan.period:
            continue  # only the window pair that is on screen
        ann = {"label": f"{s.alert} ({s.severity}) {num(s.plan.threshold)}", "value": s.plan.threshold,
               "color": SEVERITY_COLOR.get(s.severity, "#7f7f7f")}
        if s.plan.operator.startswith("Greater"):
            ann["fill"] = "above"
        elif s.plan.operator.startswith("Less"):
            ann["fill"] = "below"
        out.append(ann)
    return out


def _widget(rs: ResolvedService, mon, specs: list[AlarmSpec], x: int, y: int) -> dict:
    planned = [s for s in specs if s.plan is not None and s.plan.series]
    window = [s for s in planned if s.role == "window"]
    # a ratio SLO shows its shortest window: the fastest view of the error ratio
    shown = min(window, key=lambda s: s.plan.period) if window else planned[0]
    metrics = [_metric_row(*row) for row in shown.plan.series]
    anomaly = next((s for s in specs if s.role == "anomaly"), None)
    if anomaly is not None and shown.plan.series[0][0] == "m1" and shown.plan.series[0][5]:
        band = anomaly.body["Metrics"][1]
        metrics.append([{"expression": band["Expression"], "label": band["Label"], "id": "ad1"}])
    title = mon.summary or mon.name
    props: dict = {
        "title": f"{title} ({dur(shown.plan.period)})"[:200],
        "view": "timeSeries",
        "stacked": False,
        "region": rs.service.source.region,
        "period": shown.plan.period,
        "metrics": metrics,
    }
    ann = _annotations(shown, specs)
    if ann:
        props["annotations"] = {"horizontal": ann}
    metric = getattr(mon, "metric", None)
    decl = rs.service.metrics.get(metric) if metric else None
    if decl is not None and decl.range and shown.plan.series[0][5] and len(shown.plan.series) == 1:
        props["yAxis"] = {"left": {"min": decl.range[0], "max": decl.range[1]}}
    return {"type": "metric", "x": x, "y": y, "width": WIDTH, "height": HEIGHT, "properties": props}


def dashboard_body(rs: ResolvedService) -> dict:
    specs = alarm_specs(rs)
    title = rs.service.title or rs.name
    src = rs.service.source
    alarms = [s for s in specs if s.role in ("alert", "anomaly", "composite")]
    lines = [
        f"# {title}",
        f"Alarms of **{rs.name}** ({rs.env}) on namespace `{src.namespace}` in {src.region}, rendered by mlmon "
        f"from `{PurePath(rs.file).name if rs.file else 'the catalog'}`: change the catalog, not this dashboard.",
        "Runbooks: " + (" · ".join(f"[{s.alert}]({_runbook(s, rs)})" for s in alarms) or "none"),
    ]
    widgets: list[dict] = [{"type": "text", "x": 0, "y": 0, "width": 24, "height": HEADER_HEIGHT,
                            "properties": {"markdown": "\n\n".join(lines)}}]
    i = 0
    for mon in rs.monitors():
        mine = [s for s in specs if s.monitor is mon]
        if not any(s.plan is not None and s.plan.series for s in mine):
            continue
        widgets.append(_widget(rs, mon, mine, (i % 2) * WIDTH, HEADER_HEIGHT + (i // 2) * HEIGHT))
        i += 1
    return {"widgets": widgets}


def _runbook(s: AlarmSpec, rs: ResolvedService) -> str:
    for line in s.body.get("AlarmDescription", "").splitlines():
        if line.startswith("Runbook: "):
            return line[len("Runbook: "):]
    return rs.runbook_base


def dashboard(rs: ResolvedService) -> dict:
    """``cloudwatch/<service>.dashboard.json``: ``{"DashboardName", "DashboardBody"}`` (body as a JSON string)."""
    return {
        "DashboardName": cloudwatch_dashboard_name(rs),
        "DashboardBody": json.dumps(dashboard_body(rs), ensure_ascii=False, separators=(",", ":")),
    }

