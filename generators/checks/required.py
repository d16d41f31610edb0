"""Per-kind required fields: a threshold where the kind needs one, a severity on every single-level monitor."""

from ..kinds import kind_of


def check(ctx):
    for src, svc, i, mon in ctx.monitors():
        base = ("monitors", i)
        if mon.levels:
            continue
        if kind_of(mon).requires_threshold and mon.threshold is None:
            what = "the objective, e.g. 0.99" if mon.alert_variants() else "a number"
            yield src.problem(base + ("threshold",), f"required for kind {mon.kind}: {what}")
        if not mon.alert_variants() and mon.severity is None:
            yield src.problem(base + ("severity",), "required: one of info, ticket, warning, critical, page")
