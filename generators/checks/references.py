"""Every metric a monitor names is declared under `metrics:` with a type that fits how it is used
(counters for rates and increases, histograms for latency, gauges for thresholds and flags)."""

from ..model import (AbsentMonitor, FailuresMonitor, FlagMonitor, LatencyMonitor, RatioMonitor, StalledMonitor,
                     ThresholdMonitor, TrendMonitor)


def _uses(mon):
    """(path, metric, allowed types) for each metric the monitor reads."""
    if isinstance(mon, ThresholdMonitor):
        counter = mon.denominator is not None or (mon.smoothing and mon.smoothing.function in ("rate", "increase"))
        yield ("metric",), mon.metric, ("counter",) if counter else ("gauge",)
        if mon.denominator is not None:
            yield ("denominator",), mon.denominator.metric, ("counter",)
    elif isinstance(mon, (FlagMonitor, TrendMonitor)):
        yield ("metric",), mon.metric, ("gauge",)
    elif isinstance(mon, FailuresMonitor):
        yield ("metric",), mon.metric, ("counter",)
    elif isinstance(mon, AbsentMonitor):
        yield ("metric",), mon.metric, ("gauge", "counter", "histogram")
    elif isinstance(mon, StalledMonitor):
        yield ("backlog",), mon.backlog.metric, ("gauge",)
        yield ("progress",), mon.progress.metric, ("counter",)
    elif isinstance(mon, LatencyMonitor):
        yield ("histogram",), mon.histogram, ("histogram",)
    elif isinstance(mon, RatioMonitor):
        for field in ("good", "bad", "total"):
            sels = getattr(mon, field) or ()
            for j, s in enumerate(sels):
                yield (field, j) if len(sels) > 1 else (field,), s.metric, ("counter",)


def check(ctx):
    for src, svc, i, mon in ctx.monitors():
        for path, metric, types in _uses(mon):
            decl = svc.metrics.get(metric)
            full = ("monitors", i) + path
            if decl is None:
                known = ", ".join(sorted(svc.metrics)) or "none"
                yield src.problem(full, f"metric {metric!r} is not declared under `metrics:` (declared: {known})")
            elif decl.type not in types:
                yield src.problem(full, f"metric {metric!r} is a {decl.type}; a {mon.kind} monitor needs "
                                        f"a {' or '.join(types)} here")
