"""Every PromQL expression mlmon will write parses (promql-parser), in every environment, and a raw
expression only reads metrics the service declares (or lists under `external_metrics`)."""

from ..kinds import alert_expr, recording_rules
from ..model import RawMonitor
from ..promql import metric_names, parse_error
from ..resolve import resolve_service


def check(ctx):
    for src, svc in ctx.services:
        if svc.source.type != "prometheus":
            continue
        for i, mon in enumerate(svc.monitors):
            if isinstance(mon, RawMonitor):
                err = parse_error(mon.expr)
                if err:
                    yield src.problem(("monitors", i, "expr"), f"not valid PromQL: {err}")
                    continue
                known = set(svc.metrics) | set(svc.external_metrics) | {"ALERTS", "ALERTS_FOR_STATE", "up"}
                for name in sorted(metric_names(mon.expr)):
                    base = name
                    for suffix in ("_bucket", "_sum", "_count"):
                        if name.endswith(suffix) and name[: -len(suffix)] in svc.metrics:
                            base = name[: -len(suffix)]
                    if base not in known:
                        yield src.problem(("monitors", i, "expr"), (
                            f"metric {name!r} is neither declared under `metrics:` nor listed in `external_metrics`"))
        # generated expressions: a generator bug or an odd matcher must surface here, not in Prometheus
        seen = set()
        for env in ctx.defaults.environments:
            rs = resolve_service(svc, env, ctx.defaults)
            for a in rs.alerts:
                if isinstance(a.monitor, RawMonitor) or (a.threshold is None and a.kind != "absent"):
                    continue  # a missing threshold is reported by the `required` check
                expr = alert_expr(a, rs)
                if expr in seen:
                    continue
                seen.add(expr)
                err = parse_error(expr)
                if err:
                    idx = svc.monitors.index(a.monitor)
                    yield src.problem(("monitors", idx), f"generated PromQL for {a.name} does not parse: {err}: {expr}")
            for mon in rs.monitors():
                for rule in recording_rules(mon, rs):
                    err = parse_error(rule["expr"])
                    if err and rule["expr"] not in seen:
                        seen.add(rule["expr"])
                        idx = svc.monitors.index(mon)
                        yield src.problem(("monitors", idx), f"generated recording rule does not parse: {err}")
