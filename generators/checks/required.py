"""Per-kind required fields: a threshold where the kind needs one, a severity on every single-level monitor."""

from ..model import RatioMonitor, RawMonitor

NEEDS_THRESHOLD = {"threshold", "trend", "latency", "ratio"}


def check(ctx):
    for src, svc, i, mon in ctx.monitors():
        base = ("monitors", i)
        if mon.levels:
            continue
        if mon.kind in NEEDS_THRESHOLD and mon.threshold is None:
            what = "the objective, e.g. 0.99" if mon.kind == "ratio" else "a number"
            yield src.problem(base + ("threshold",), f"required for kind {mon.kind}: {what}")
        if not isinstance(mon, (RatioMonitor,)) and mon.severity is None:
            yield src.problem(base + ("severity",), "required: one of info, ticket, warning, critical, page")
        if isinstance(mon, RatioMonitor):
            for env, o in mon.overrides.items():
                if o.severity is not None:
                    yield src.problem(base + ("overrides", env, "severity"),
                                      "ratio monitors take page_severity/ticket_severity, not a severity override")
        if isinstance(mon, RawMonitor):
            for env, o in mon.overrides.items():
                if o.threshold is not None:
                    yield src.problem(base + ("overrides", env, "threshold"),
                                      "a raw monitor's threshold is inside its expr; it cannot be overridden")
        if mon.kind == "absent":
            for env, o in mon.overrides.items():
                if o.threshold is not None:
                    yield src.problem(base + ("overrides", env, "threshold"), "absent monitors have no threshold")
