"""PromQL for each monitor kind: ``alert_expr(alert, rs)`` and the SLO recording rules.

One small function per kind, in the order of the catalog docs. Pure: model in, strings out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .. import yamlio
from ..durations import parse_duration
from ..model import (AbsentMonitor, FailuresMonitor, FlagMonitor, LatencyMonitor, RatioMonitor, RawMonitor,
                     StalledMonitor, ThresholdMonitor, TrendMonitor)
from ..promql import CMP, by_clause, dur, num, sel, selector
from ..resolve import Alert, ResolvedService

PER_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
UNIT_SCALE = {"milliseconds": 1000.0, "seconds": 1.0}


@dataclass(frozen=True)
class BurnWindow:
    long: int
    short: int
    budget_share: float

    def factor(self, period: int) -> float:
        return round(self.budget_share * period / self.long, 6)


@lru_cache(maxsize=1)
def burn_windows() -> dict[str, tuple[BurnWindow, ...]]:
    """The burn-rate window table (``generators/data/burn_rates.yaml``)."""
    text = resources.files("generators.data").joinpath("burn_rates.yaml").read_text(encoding="utf-8")
    data, _ = yamlio.load_with_lines(text)
    return {
        speed: tuple(BurnWindow(parse_duration(w["long"]), parse_duration(w["short"]), float(w["budget_share"]))
                     for w in rows)
        for speed, rows in data.items()
    }


def slo_windows() -> list[int]:
    return sorted({w for rows in burn_windows().values() for b in rows for w in (b.long, b.short)})


def threshold_in_metric_units(rs: ResolvedService, metric: str, value: float) -> float:
    """Latency thresholds are written in seconds; histograms in milliseconds need scaling."""
    decl = rs.service.metrics.get(metric)
    scale = UNIT_SCALE.get(decl.unit, 1.0) if decl else 1.0
    return value * scale


def ratio_by(rs: ResolvedService, mon) -> tuple[str, ...]:
    return tuple(mon.by) if mon.by is not None else tuple(rs.service.labels)


# --- one function per kind ---------------------------------------------------------------------


def threshold_lhs(rs: ResolvedService, m: ThresholdMonitor) -> str:
    """What a threshold monitor compares against its threshold (dashboards plot it)."""
    s = selector(rs.service, m.metric, m.matchers)
    sm = m.smoothing
    if m.denominator is not None:
        window = dur(sm.window if sm else 300)
        by = by_clause(ratio_by(rs, m))
        return (f"sum {by}(rate({s}[{window}]))\n/\n"
                f"sum {by}(rate({sel(rs.service, m.denominator)}[{window}]))")
    if sm is None:
        lhs = s
    elif sm.function in ("rate", "increase"):
        lhs = f"{sm.function}({s}[{dur(sm.window)}])"
    elif sm.function == "quantile":
        lhs = f"quantile_over_time({num(sm.quantile)}, {s}[{dur(sm.window)}])"
    else:
        lhs = f"{sm.function}_over_time({s}[{dur(sm.window)}])"
    if m.by:
        lhs = f"max {by_clause(m.by)}({lhs})" if m.op == "above" else f"min {by_clause(m.by)}({lhs})"
    return lhs


def ratio_events(rs: ResolvedService, m: ThresholdMonitor) -> str:
    """Events per second in a ratio's denominator over its window (what the low-traffic guard reads)."""
    window = dur(m.smoothing.window if m.smoothing else 300)
    return f"sum {by_clause(ratio_by(rs, m))}(rate({sel(rs.service, m.denominator)}[{window}]))"


def _threshold(a: Alert, rs: ResolvedService, m: ThresholdMonitor) -> str:
    lhs = threshold_lhs(rs, m)
    if m.denominator is None:
        return f"{lhs} {CMP[m.op]} {num(a.threshold)}"
    cond = f"(\n{lhs}\n) {CMP[m.op]} {num(a.threshold)}"
    if m.guard > 0:  # low-traffic guard: a handful of requests must not decide the ratio
        cond += f"\nand\n{ratio_events(rs, m)} * 60 >= {num(m.guard)}"
    return cond


def _flag(a: Alert, rs: ResolvedService, m: FlagMonitor) -> str:
    return f"{selector(rs.service, m.metric, m.matchers)} == {num(a.threshold)}"


def trend_lhs(rs: ResolvedService, m: TrendMonitor) -> str:
    """The slope, scaled to units per ``m.per``."""
    s = selector(rs.service, m.metric, m.matchers)
    scale = PER_SECONDS[m.per]
    return f"deriv({s}[{dur(m.window)}])" + (f" * {scale}" if scale != 1 else "")


def _trend(a: Alert, rs: ResolvedService, m: TrendMonitor) -> str:
    return f"{trend_lhs(rs, m)} {CMP[m.op]} {num(a.threshold)}"


def failures_lhs(rs: ResolvedService, m: FailuresMonitor) -> str:
    return f"increase({selector(rs.service, m.metric, m.matchers)}[{dur(m.window)}])"


def _failures(a: Alert, rs: ResolvedService, m: FailuresMonitor) -> str:
    return f"{failures_lhs(rs, m)} > {num(a.threshold)}"


def _stalled(a: Alert, rs: ResolvedService, m: StalledMonitor) -> str:
    """Backlog above the threshold, watched for a whole window, and no progress within it.

    "Nothing processed in 30m" can only be judged after 30m of observation: ``increase()`` of a counter
    with a single sample (the first scrape after a deployment or a Prometheus restart) is empty, so
    without the ``offset`` guard the alert paged at the first evaluation of every new series.
    (Found by ``bench/alert_quality.py``.)"""
    on = f"on ({', '.join(rs.service.labels)}) " if rs.service.labels else "on () "
    backlog = sel(rs.service, m.backlog)
    return (f"(\n  {backlog} > {num(a.threshold)}\n  and {on}\n  {backlog} offset {dur(m.window)}\n)\n"
            f"unless {on}(\n  increase({sel(rs.service, m.progress)}[{dur(m.window)}]) > 0\n)")


def latency_lhs(rs: ResolvedService, m: LatencyMonitor) -> str:
    """``histogram_quantile`` in the histogram's own unit (compare with ``threshold_in_metric_units``)."""
    s = selector(rs.service, m.histogram, m.matchers, suffix="_bucket")
    by = ("le",) + ratio_by(rs, m)
    return f"histogram_quantile({num(m.quantile)}, sum {by_clause(by)}(rate({s}[{dur(m.window)}])))"


def _latency(a: Alert, rs: ResolvedService, m: LatencyMonitor) -> str:
    bound = threshold_in_metric_units(rs, m.histogram, a.threshold)
    return f"{latency_lhs(rs, m)} {CMP[m.op]} {num(bound)}"


def _absent(a: Alert, rs: ResolvedService, m: AbsentMonitor) -> str:
    return f"absent({selector(rs.service, m.metric, m.matchers)})"


def _raw(a: Alert, rs: ResolvedService, m: RawMonitor) -> str:
    return m.expr.strip()


# --- ratio SLOs ----------------------------------------------------------------------------------

SLO_ERROR_RATIO = "mlmon_slo:error_ratio"
SLO_EVENTS_RATE = "mlmon_slo:events"


def slo_labels(rs: ResolvedService, m: RatioMonitor) -> dict[str, str]:
    return {"service": rs.name, "slo": m.name}


def _sum_rate(rs: ResolvedService, sels, window: str, by: str) -> str:
    parts = [f"sum {by}(rate({sel(rs.service, s)}[{window}]))" for s in sels]
    return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"


def slo_recording_rules(rs: ResolvedService, m: RatioMonitor) -> list[dict]:
    """Per window: the error ratio and the event rate (events per second) of one SLO."""
    by = by_clause(ratio_by(rs, m))
    labels = slo_labels(rs, m)
    rules = []
    for w in slo_windows():
        window = dur(w)
        total = _sum_rate(rs, m.total, window, by)
        if m.bad is not None:
            ratio = f"{_sum_rate(rs, m.bad, window, by)}\n/\n{total}"
        else:
            ratio = f"1 - (\n{_sum_rate(rs, m.good, window, by)}\n/\n{total}\n)"
        rules.append({"record": f"{SLO_ERROR_RATIO}:rate{window}", "expr": ratio, "labels": dict(labels)})
        rules.append({"record": f"{SLO_EVENTS_RATE}:rate{window}", "expr": total, "labels": dict(labels)})
    return rules


def slo_recorded(rs: ResolvedService, m: RatioMonitor, kind: str, window: int, extra: str = "") -> str:
    """Selector of one SLO recording (``kind``: ``SLO_ERROR_RATIO`` or ``SLO_EVENTS_RATE``); ``extra`` is
    appended to its matchers (e.g. dashboard variables)."""
    match = ",".join(f'{k}="{v}"' for k, v in slo_labels(rs, m).items())
    return f"{kind}:rate{dur(window)}{{{match}{',' + extra if extra else ''}}}"


def _ratio(a: Alert, rs: ResolvedService, m: RatioMonitor) -> str:
    budget = 1 - a.threshold
    match = ",".join(f'{k}="{v}"' for k, v in slo_labels(rs, m).items())
    guard = m.min_events / 60.0
    pairs = []
    for bw in burn_windows()[a.burn]:
        f = num(bw.factor(m.period))
        b = num(round(budget, 12))
        pairs.append(
            f"  (\n"
            f"    {SLO_ERROR_RATIO}:rate{dur(bw.long)}{{{match}}} > ({f} * {b})\n"
            f"    and\n"
            f"    {SLO_ERROR_RATIO}:rate{dur(bw.short)}{{{match}}} > ({f} * {b})\n"
            f"    and\n"
            f"    {SLO_EVENTS_RATE}:rate{dur(bw.short)}{{{match}}} >= {num(round(guard, 9))}\n"
            f"  )"
        )
    return "(\n" + "\nor\n".join(pairs) + "\n)"


KIND_EXPR = {
    "threshold": _threshold,
    "flag": _flag,
    "trend": _trend,
    "failures": _failures,
    "stalled": _stalled,
    "ratio": _ratio,
    "latency": _latency,
    "absent": _absent,
    "raw": _raw,
}


def alert_expr(a: Alert, rs: ResolvedService) -> str:
    return KIND_EXPR[a.kind](a, rs, a.monitor)
