"""Human-readable conditions, one per kind: what `mlmon thresholds`, runbooks and summaries print."""

from __future__ import annotations

from .durations import format_duration as d
from .promql import matcher_op, num
from .resolve import Alert, ResolvedService

SIGN = {"above": ">", "below": "<"}


def _s(metric: str, matchers: dict[str, str]) -> str:
    """A selector as the catalog states it (without the service-wide selector)."""
    if not matchers:
        return metric
    parts = []
    for label in sorted(matchers):
        op, val = matcher_op(matchers[label])
        parts.append(f'{label}{op}"{val}"')
    return f"{metric}{{{','.join(parts)}}}"


def describe_condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    k = m.kind
    if k == "threshold":
        subject = _s(m.metric, m.matchers)
        if m.denominator is not None:
            w = d(m.smoothing.window if m.smoothing else 300)
            subject = f"rate({subject}[{w}]) / rate({_s(m.denominator.metric, m.denominator.matchers)}[{w}])"
        elif m.smoothing is not None:
            fn = m.smoothing.function
            if fn == "quantile":
                subject = f"quantile_over_time({num(m.smoothing.quantile)}, {subject}[{d(m.smoothing.window)}])"
            elif fn in ("rate", "increase"):
                subject = f"{fn}({subject}[{d(m.smoothing.window)}])"
            else:
                subject = f"{fn}_over_time({subject}[{d(m.smoothing.window)}])"
        guard = f" (with at least {num(m.guard)} {m.denominator.metric} per minute)" if m.guard > 0 else ""
        return f"{subject} {SIGN[m.op]} {num(a.threshold)}{guard}"
    if k == "flag":
        return f"{m.metric} == {num(a.threshold)}"
    if k == "trend":
        return f"slope of {m.metric} over {d(m.window)} {SIGN[m.op]} {num(a.threshold)} per {m.per}"
    if k == "failures":
        return f"increase({m.metric}[{d(m.window)}]) > {num(a.threshold)}"
    if k == "stalled":
        return (f"{m.backlog.metric} > {num(a.threshold)} and no increase of {m.progress.metric} "
                f"in {d(m.window)}")
    if k == "ratio":
        from .prometheus.expressions import burn_windows

        pairs = " or ".join(f"{num(b.factor(m.period))}x over {d(b.long)} and {d(b.short)}"
                            for b in burn_windows()[a.burn])
        return f"error budget of {num(round(a.threshold * 100, 6))}% over {d(m.period)} burning at {pairs}"
    if k == "latency":
        bound = f"{num(a.threshold)}s" if rs.service.metrics.get(m.histogram) and \
            rs.service.metrics[m.histogram].unit in ("seconds", "milliseconds") else num(a.threshold)
        return f"p{num(m.quantile * 100)} of {m.histogram} over {d(m.window)} {SIGN[m.op]} {bound}"
    if k == "absent":
        return f"no samples of {m.metric}"
    return " ".join(m.expr.split())
