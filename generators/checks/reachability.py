"""Thresholds and slopes the metric's declared `range` can never reach, in any environment.

Examples: a score in [0, 1] "below -0.1"; a trend of `deriv(score[6h]) < -0.01` (deriv is per second,
so a [0, 1] score would have to fall by 216 in six hours); an SLO whose objective is so low that the page
burn rate needs an error ratio above 100 %.
"""

from ..model import FlagMonitor, RatioMonitor, RawMonitor, ThresholdMonitor, TrendMonitor
from ..prometheus.expressions import PER_SECONDS, burn_windows
from ..promql import num


def _thresholds(mon):
    """(path, value) for the monitor's base threshold(s) and every override of them."""
    if mon.levels:
        for j, lvl in enumerate(mon.levels):
            yield ("levels", j, "threshold"), lvl.threshold
            for env, o in lvl.overrides.items():
                if o.threshold is not None:
                    yield ("levels", j, "overrides", env, "threshold"), o.threshold
    else:
        if mon.threshold is not None:
            yield ("threshold",), mon.threshold
        for env, o in mon.overrides.items():
            if o.threshold is not None:
                yield ("overrides", env, "threshold"), o.threshold


def _range(svc, mon):
    if isinstance(mon, ThresholdMonitor):
        if mon.denominator is not None:
            return (0.0, 1.0)
        sm = mon.smoothing
        if sm and sm.function in ("rate", "increase"):
            return None
    decl = svc.metrics.get(getattr(mon, "metric", None) or "")
    return decl.range if decl else None


def check(ctx):
    for src, svc, i, mon in ctx.monitors():
        base = ("monitors", i)
        if isinstance(mon, RatioMonitor):
            yield from _ratio(src, base, mon)
            continue
        if isinstance(mon, RawMonitor):
            yield from _raw(src, base, svc, mon)
            continue
        rng = _range(svc, mon)
        if rng is None:
            continue
        lo, hi = rng
        for path, t in _thresholds(mon):
            if isinstance(mon, TrendMonitor):
                per = PER_SECONDS[mon.per]
                possible = (hi - lo) / mon.window * per  # steepest sustained slope, in units per `per`
                if abs(t) > possible or (mon.op == "below" and t <= -possible) or (mon.op == "above" and t >= possible):
                    yield src.problem(base + path, (
                        f"a slope of {num(t)} per {mon.per} over {mon.window // 3600 or mon.window}"
                        f"{'h' if mon.window >= 3600 else 's'} can never be reached: {mon.metric} ranges over "
                        f"[{num(lo)}, {num(hi)}], so it changes by at most {num(round(possible, 6))} per {mon.per} "
                        f"across that window (deriv() is per second; use `per:` to state the unit)"))
                continue
            op = getattr(mon, "op", "above")
            if isinstance(mon, FlagMonitor):
                if not lo <= t <= hi:
                    yield src.problem(base + path, f"flag value {num(t)} is outside the metric's range "
                                                   f"[{num(lo)}, {num(hi)}]; it can never match")
            elif (op == "below" and t <= lo) or (op == "above" and t >= hi):
                yield src.problem(base + path, (
                    f"{'below' if op == 'below' else 'above'} {num(t)} can never happen: "
                    f"the metric ranges over [{num(lo)}, {num(hi)}]"))


def _ratio(src, base, mon):
    top = max(b.factor(mon.period) for rows in burn_windows().values() for b in rows)
    for path, t in _thresholds(mon):
        if (1 - t) * top >= 1:
            yield src.problem(base + path, (
                f"objective {num(t)} leaves an error budget of {num(round(1 - t, 6))}; the {num(top)}x burn rate "
                f"would need an error ratio above 100 %, so the page alert can never fire "
                f"(objectives must exceed {num(round(1 - 1 / top, 6))})"))


def _raw(src, base, svc, mon):
    """The seed's own mistake written as raw PromQL: `deriv(m[w]) < c` on a bounded metric."""
    import promql_parser

    try:
        node = promql_parser.parse(mon.expr)
    except Exception:
        return  # reported by the expressions check
    if type(node).__name__ != "BinaryExpr":
        return
    call, lit = node.lhs, node.rhs
    if type(call).__name__ != "Call" or type(lit).__name__ != "NumberLiteral":
        return
    if getattr(call.func, "name", None) != "deriv" or not call.args:
        return
    ms = call.args[0]
    if type(ms).__name__ != "MatrixSelector":
        return
    metric = ms.vector_selector.name
    decl = svc.metrics.get(metric)
    if not decl or not decl.range:
        return
    window = ms.range.total_seconds()
    possible = (decl.range[1] - decl.range[0]) / window
    if abs(lit.val) > possible:
        yield src.problem(base + ("expr",), (
            f"deriv() is per second: {metric} ranges over [{num(decl.range[0])}, {num(decl.range[1])}], so over "
            f"{int(window)}s its slope is at most {possible:.3g}/s and {num(lit.val)} can never be reached; "
            f"use a trend monitor with `per: hour` (e.g. threshold {num(lit.val)} per hour)"))
