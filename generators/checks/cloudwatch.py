"""CloudWatch-sourced services render into valid alarms in every environment: kinds and fields CloudWatch
cannot express (raw PromQL, `by`, regex matchers, odd periods, too long `for`) are errors; `cloudwatch:`
blocks only appear on CloudWatch services; SNS topic names and anomaly alert names are valid and unique."""

import re

from ..cloudwatch.alarms import alarm_specs
from ..cloudwatch.plans import Unsupported
from ..names import topic_name
from ..cloudwatch.validate import alarm_rules, composite_rules
from ..resolve import alert_names, resolve_service

TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _cloudwatch_blocks(src, svc):
    """`cloudwatch:` settings on a service whose metrics are not in CloudWatch would be silently ignored."""
    for name, decl in svc.metrics.items():
        if decl.cloudwatch is not None:
            yield src.problem(("metrics", name, "cloudwatch"), (
                f"only services with `source.type: cloudwatch` read this; {svc.service} is {svc.source.type}"))
    for i, mon in enumerate(svc.monitors):
        if mon.cloudwatch is not None:
            yield src.problem(("monitors", i, "cloudwatch"), (
                f"only services with `source.type: cloudwatch` read this; {svc.service} is {svc.source.type}"))


def check(ctx):
    catalog_alerts = {}
    for src, svc in ctx.services:
        for mon in svc.monitors:
            for n in alert_names(mon):
                catalog_alerts.setdefault(n, src.rel)
    bands: dict[str, str] = {}
    for src, svc in ctx.services:
        if svc.source.type != "cloudwatch":
            yield from _cloudwatch_blocks(src, svc)
            continue
        for i, mon in enumerate(svc.monitors):
            for field in ("summary", "description"):
                text = getattr(mon, field)
                if text and "{{" in text:
                    yield src.problem(("monitors", i, field), (
                        "CloudWatch alarm descriptions are plain text: template actions such as {{ $value }} "
                        "would appear literally; write the text without them"))
            band = mon.cloudwatch.anomaly_band if mon.cloudwatch else None
            if band is not None:
                path = ("monitors", i, "cloudwatch", "anomaly_band", "alert")
                if band.alert in catalog_alerts:
                    yield src.problem(path, f"alert name {band.alert!r} is already used in "
                                            f"{catalog_alerts[band.alert]}; alert names must be unique")
                elif band.alert in bands:
                    yield src.problem(path, f"alert name {band.alert!r} is already used in {bands[band.alert]}")
                bands.setdefault(band.alert, src.rel)
        yield from _render_problems(ctx, src, svc)


def _render_problems(ctx, src, svc):
    """Render every environment; map generator refusals and invalid bodies onto the catalog."""
    for env in ctx.defaults.environments:
        rs = resolve_service(svc, env, ctx.defaults, src.rel)
        try:
            specs = alarm_specs(rs)
        except Unsupported as exc:
            idx = _index(svc, exc.monitor)
            yield src.problem(("monitors", idx) + exc.path, f"cannot be rendered to CloudWatch: {exc.message}")
            continue
        known = set()
        for s in specs:
            rules = composite_rules(s.body, known) if s.role == "composite" else alarm_rules(s.body)
            for field, msg in rules:
                yield src.problem(("monitors", _index(svc, s.monitor)),
                                  f"alarm {s.name} ({env}): {field}: {msg}")
            known.add(s.name)
        for sev in sorted({s.severity for s in specs if s.severity}):
            name = topic_name(rs, sev)
            if not TOPIC.fullmatch(name):
                yield src.problem(("routing", sev) if sev in svc.routing else ("service",), (
                    f"{name!r} would name the SNS topic of {sev} alarms: letters, digits, '-' and '_' only "
                    "(at most 256)"))


def _index(svc, monitor) -> int:
    for i, m in enumerate(svc.monitors):
        if m is monitor:
            return i
    return svc.monitors.index(monitor)
