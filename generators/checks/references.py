"""Every metric a monitor names is declared under `metrics:` with a type that fits how it is used
(counters for rates and increases, histograms for latency, gauges for thresholds and flags)."""

from ..kinds import kind_of


def check(ctx):
    for src, svc, i, mon in ctx.monitors():
        for path, metric, types in kind_of(mon).metrics(mon):
            decl = svc.metrics.get(metric)
            full = ("monitors", i) + tuple(path)
            if decl is None:
                known = ", ".join(sorted(svc.metrics)) or "none"
                yield src.problem(full, f"metric {metric!r} is not declared under `metrics:` (declared: {known})")
            elif decl.type not in types:
                yield src.problem(full, f"metric {metric!r} is a {decl.type}; a {mon.kind} monitor needs "
                                        f"a {' or '.join(types)} here")
