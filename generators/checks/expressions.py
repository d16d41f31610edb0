"""Every PromQL expression mlmon will write parses (promql-parser), in every environment, and a raw
expression (or raw recording rule) only reads metrics the service declares (or lists under `external_metrics`)
or records itself."""

import re

from ..kinds import alert_expr, recording_rules
from ..model import RawMonitor
from ..promql import metric_names, parse_error
from ..resolve import resolve_service


def check(ctx):
    for src, svc in ctx.services:
        if svc.source.type != "prometheus":
            continue
        recorded = {r.record for mon in svc.monitors if isinstance(mon, RawMonitor) for r in mon.recordings}
        for i, mon in enumerate(svc.monitors):
            if isinstance(mon, RawMonitor):
                for field in ("expr", "plot"):
                    text = getattr(mon, field)
                    if text is not None:
                        yield from _raw_problems(src, svc, ("monitors", i, field), text, recorded)
                for j, r in enumerate(mon.recordings):
                    yield from _raw_problems(src, svc, ("monitors", i, "recordings", j, "expr"), r.expr, recorded)
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
                if isinstance(mon, RawMonitor):
                    continue  # the catalog's own text: reported above, with its path
                for rule in recording_rules(mon, rs):
                    err = parse_error(rule["expr"])
                    if err and rule["expr"] not in seen:
                        seen.add(rule["expr"])
                        idx = svc.monitors.index(mon)
                        yield src.problem(("monitors", idx), f"generated recording rule does not parse: {err}")


_LE = re.compile(r'(?P<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)_bucket\{[^}]*\ble\s*=\s*"(?P<le>[^"]*)"')


def _raw_problems(src, svc, path, text, recorded=frozenset()):
    err = parse_error(text)
    if err:
        yield src.problem(path, f"not valid PromQL: {err}")
        return
    known = set(svc.metrics) | set(svc.external_metrics) | set(recorded) | {"ALERTS", "ALERTS_FOR_STATE", "up"}
    for name in sorted(metric_names(text)):
        base = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in svc.metrics:
                base = name[: -len(suffix)]
        if base not in known:
            yield src.problem(path, f"metric {name!r} is neither declared under `metrics:` nor listed in "
                                    "`external_metrics`")
    # a bucket read by its le must be one the histogram is declared with: a missing boundary reads no series
    for m in _LE.finditer(text):
        decl = svc.metrics.get(m.group("metric"))
        if decl is None or decl.type != "histogram" or m.group("le") == "+Inf":
            continue
        bounds = {repr(float(b)) for b in decl.buckets or ()} | {str(b) for b in decl.buckets or ()}
        if m.group("le") not in bounds:
            yield src.problem(path, f'{m.group("metric")}_bucket{{le="{m.group("le")}"}}: declare that boundary in '
                                    f'metrics.{m.group("metric")}.buckets (the histogram is exported with it)')
