"""``kind: ratio``: a ratio SLO; ``threshold`` is the objective (e.g. 0.99) over ``period``.

Rendered as multiwindow, multi-burn-rate alerts (``<name>FastBurn`` pages, ``<name>SlowBurn`` tickets) over
recording rules per window; the windows are data (``generators/data/burn_rates.yaml``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from ..cloudwatch import plans as cw
from ..durations import format_duration as d
from ..durations import parse_duration
from ..kindspec import KindSpec, MetricUse, alerts_of, legend, ratio_by, thresholds
from ..model import RatioMonitor
from ..prometheus import series as ps
from ..promql import by_clause, dur, num, sel
from ..resolve import Alert, ResolvedService
from ..signals import Level, Panel, Query, Signal, series_and_now

SLO_ERROR_RATIO = "mlmon_slo:error_ratio"
SLO_EVENTS_RATE = "mlmon_slo:events"


@dataclass(frozen=True)
class BurnWindow:
    long: int
    short: int
    budget_share: float

    def factor(self, period: int) -> float:
        return round(self.budget_share * period / self.long, 6)


@lru_cache(maxsize=1)
def burn_windows() -> dict[str, tuple[BurnWindow, ...]]:
    """The burn-rate window table (``generators/data/burn_rates.yaml``): speed (``fast``/``slow``) -> windows."""
    text = resources.files("generators.data").joinpath("burn_rates.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when built with it
    return {
        speed: tuple(BurnWindow(parse_duration(w["long"]), parse_duration(w["short"]), float(w["budget_share"]))
                     for w in rows)
        for speed, rows in data.items()
    }


def slo_windows() -> list[int]:
    """Every window an SLO records (long and short), shortest first."""
    return sorted({w for rows in burn_windows().values() for b in rows for w in (b.long, b.short)})


def objective(rs: ResolvedService, m: RatioMonitor) -> float:
    """The objective in this environment (overrides applied); the catalog's when the SLO is disabled here."""
    alerts = alerts_of(rs, m)
    return alerts[0].threshold if alerts else m.threshold


# --- Prometheus -------------------------------------------------------------------------------------------


def slo_labels(rs: ResolvedService, m: RatioMonitor) -> dict[str, str]:
    return {"service": rs.name, "slo": m.name}


def _sum_rate(rs: ResolvedService, sels, window: str, by: str) -> str:
    parts = [f"sum {by}(rate({sel(rs.service, s)}[{window}]))" for s in sels]
    return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"


def recording_rules(m: RatioMonitor, rs: ResolvedService) -> list[dict]:
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


def recorded(rs: ResolvedService, m: RatioMonitor, kind: str, window: int) -> str:
    """Selector of one SLO recording (``kind``: ``SLO_ERROR_RATIO`` or ``SLO_EVENTS_RATE``); a dashboard's
    variables (``rs.variables``) among the labels the recordings keep are matched too."""
    match = ",".join(f'{k}="{v}"' for k, v in slo_labels(rs, m).items())
    by = ratio_by(rs, m)
    extra = ",".join(f'{lbl}=~"${lbl}"' for lbl in by if lbl in rs.variables)
    return f"{kind}:rate{dur(window)}{{{match}{',' + extra if extra else ''}}}"


def expr(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    budget = 1 - a.threshold
    guard = m.min_events / 60.0
    pairs = []
    for bw in burn_windows()[a.burn]:
        f = num(bw.factor(m.period))
        b = num(round(budget, 12))
        pairs.append(
            f"  (\n"
            f"    {recorded(rs, m, SLO_ERROR_RATIO, bw.long)} > ({f} * {b})\n"
            f"    and\n"
            f"    {recorded(rs, m, SLO_ERROR_RATIO, bw.short)} > ({f} * {b})\n"
            f"    and\n"
            f"    {recorded(rs, m, SLO_EVENTS_RATE, bw.short)} >= {num(round(guard, 9))}\n"
            f"  )"
        )
    return "(\n" + "\nor\n".join(pairs) + "\n)"


def burn_levels(alerts: list[Alert]) -> tuple[Level, ...]:
    """Burn-rate factors of a ratio SLO's alerts with their severities."""
    return tuple(Level(a.name, a.severity, bw.factor(a.monitor.period))
                 for a in alerts for bw in burn_windows()[a.burn])


def success(rs: ResolvedService, m: RatioMonitor, windows: list[int], title: str) -> Signal:
    """The success ratio (1 - the recorded error ratio) over ``windows`` against the objective."""
    labels = ratio_by(rs, m)
    alerts = alerts_of(rs, m)
    goal = objective(rs, m)
    queries = tuple(Query(f"1 - {recorded(rs, m, SLO_ERROR_RATIO, w)}",
                          (f"{d(w)} {legend(labels)}".strip() if len(windows) > 1 else legend(labels) or m.name))
                    for w in windows)
    sev = alerts[0].severity if alerts else m.ticket_severity
    return Signal(title, queries, "percentunit", "below", (Level(alerts[0].name if alerts else m.name, sev, goal),))


def signals(m: RatioMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    """The burn rate (error ratio / error budget) over each long window against the alerts' factors, then the
    success ratio over the longest window against the objective."""
    if not rs.is_prometheus:
        plans = [(a, cloudwatch(a, rs)) for a in alerts_of(rs, m)]
        return (cw.signal("error ratio", "percentunit", plans),)
    budget = num(round(1 - objective(rs, m), 12))
    labels = ratio_by(rs, m)
    longs = sorted({bw.long for rows in burn_windows().values() for bw in rows})
    burn = tuple(Query(f"{recorded(rs, m, SLO_ERROR_RATIO, w)} / {budget}", f"{d(w)} {legend(labels)}".strip())
                 for w in longs)
    note = (f"Burn rate = error ratio / error budget ({budget}); 1 spends the budget exactly over "
            f"{d(m.period)}.")
    longest = max(slo_windows())
    return (Signal(f"{m.name}: error-budget burn rate", burn, "short", "above", burn_levels(alerts_of(rs, m)),
                   note=note),
            success(rs, m, [longest], f"Success ratio ({d(longest)})"))


def panels(m: RatioMonitor, rs: ResolvedService) -> tuple[Panel, ...]:
    s = signals(m, rs)
    if not rs.is_prometheus:
        return series_and_now(s)
    goal = objective(rs, m)
    return (Panel(s[0]), Panel(s[1], "stat", description=f"Objective: {num(round(goal * 100, 6))}% over "
                                                        f"{d(m.period)}."))


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    budget = 1 - a.threshold
    factors = [b.factor(m.period) for rows in burn_windows().values() for b in rows]
    bad_ratio = min(1.0, max(factors) * budget * 1.5)
    if bad_ratio <= max(factors) * budget:
        bad_ratio = 1.0
    inside_ratio = min(factors) * budget * 0.9
    part = m.bad if m.bad is not None else m.good
    part_sels = [(s.metric, s.matchers) for s in part]
    total_sels = [(s.metric, s.matchers) for s in m.total]
    series = ps.split_counters(rs, part_sels, total_sels)
    per_step = 600.0
    as_part = (lambda r: r) if m.bad is not None else (lambda r: 1 - r)
    error_ratio = as_part  # the recorded error ratio from the part's realized share (1 - good share)
    labels = dict(slo_labels(rs, m))
    first = ps.base_labels(rs, part[0].metric, part[0].matchers)
    labels.update({k: v for k, v in first.items() if k in ratio_by(rs, m)})
    trickle = ps.dyadic(m.min_events * interval / 60 * 0.5, math.floor)  # half the guard's events per interval

    def low_traffic(total):
        return ps.counter_phases(series, [(as_part(1.0), total)], trickle)

    lowest = min(factors) * budget  # the lowest burn threshold of any window

    def fires(r, total):
        # Recovery: error-free traffic heavy enough that from its first sample on, every window's error ratio
        # (even a window reaching back to t=0 over the whole bad phase) is under a quarter of the lowest burn
        # threshold, which leaves room for rate()'s extrapolation (at most 2x between two counters). So the
        # alert must resolve at the next evaluation, instead of waiting for its longest short window (6h) to
        # slide past the bad phase, which made the test hundreds of evaluation steps long.
        surge = math.ceil(max(0, r - 1) * (bad_ratio / (0.25 * lowest) - 1)) + 1
        return ps.counter_phases(series, [(as_part(bad_ratio), r), (as_part(0.0), total - r, per_step * surge)],
                                 per_step)

    return ps.Scenario(
        fires=fires,
        inside=lambda total: ps.counter_phases(series, [(as_part(inside_ratio), total)], per_step),
        t_true=interval, clear=interval, labels=labels,
        value=lambda t: error_ratio(ps.realized_ratio(series, as_part(bad_ratio), per_step)),
        extra_groups=[("stays quiet on low traffic (guard)", low_traffic)] if m.min_events > 0 else [])


# --- CloudWatch -------------------------------------------------------------------------------------------


def cloudwatch(a: Alert, rs: ResolvedService) -> cw.BurnPlan:
    """One alarm per window of each burn-rate pair (metric math over the counters' Sums); the composite
    alarms while both windows of any pair do."""
    m = a.monitor
    cw.no_by(m, "; use the metrics' dimensions instead")
    budget = 1 - a.threshold
    pairs = []
    for bw in burn_windows()[a.burn]:
        factor = bw.factor(m.period)
        limit = round(factor * budget, 12)
        plans = []
        for window in (bw.long, bw.short):
            queries, ids = [], {}
            for fld in ("bad", "good", "total"):
                sels = getattr(m, fld) or ()
                ids[fld] = []
                for j, s in enumerate(sels):
                    path = (fld, j) if len(sels) > 1 else (fld,)
                    p = cw.period(rs, m, window, s.metric, ("period",), f"the {d(window)} burn-rate window")
                    mid = f"{fld[0]}{j + 1}"
                    queries.append(cw.stat_query(mid, cw.metric_ref(rs, m, s.metric, s.matchers, path), p, "Sum", {}))
                    ids[fld].append(mid)
            total = " + ".join(ids["total"])
            total_g = f"({total})" if len(ids["total"]) > 1 else total
            if m.bad is not None:
                bad = " + ".join(ids["bad"])
                ratio = f"({bad}) / {total_g}" if len(ids["bad"]) > 1 else f"{bad} / {total_g}"
            else:
                good = " + ".join(ids["good"])
                ratio = f"1 - ({good}) / {total_g}" if len(ids["good"]) > 1 else f"1 - {good} / {total_g}"
            guard = num(round(m.min_events * window / 60, 6))
            plans.append(cw.math(
                queries, f"IF({total_g} >= {guard}, {ratio}, 0)", f"error ratio over {d(window)}", period=window,
                operator="GreaterThanThreshold", threshold=limit, treat_missing=cw.TREAT_MISSING["ratio"],
                facts=f"error ratio over {d(window)}",
                condition=(f"the error ratio over {d(window)} > {num(limit)} "
                           f"({num(factor)}x the {num(round(budget, 12))} budget)")))
        pairs.append(cw.WindowPair(plans[0], plans[1], bw.long, bw.short))
    return cw.BurnPlan(tuple(pairs))


# --- words and checks -------------------------------------------------------------------------------------


def condition(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    pairs = " or ".join(f"{num(b.factor(m.period))}x over {d(b.long)} and {d(b.short)}" for b in burn_windows()[a.burn])
    return f"error budget of {num(round(a.threshold * 100, 6))}% over {d(m.period)} burning at {pairs}"


def metrics(m: RatioMonitor):
    for field in ("good", "bad", "total"):
        sels = getattr(m, field) or ()
        for j, s in enumerate(sels):
            yield MetricUse((field, j) if len(sels) > 1 else (field,), s.metric, ("counter",))


def check(m: RatioMonitor, svc):
    top = max(b.factor(m.period) for rows in burn_windows().values() for b in rows)
    for path, t in thresholds(m):
        if (1 - t) * top >= 1:
            yield path, (
                f"objective {num(t)} leaves an error budget of {num(round(1 - t, 6))}; the {num(top)}x burn rate "
                f"would need an error ratio above 100 %, so the page alert can never fire "
                f"(objectives must exceed {num(round(1 - 1 / top, 6))})")
    for env, o in m.overrides.items():
        if o.severity is not None:
            yield (("overrides", env, "severity"),
                   "ratio monitors take page_severity/ticket_severity, not a severity override")


KIND = KindSpec(
    name="ratio", model=RatioMonitor, requires_threshold=True, expr=expr, recording_rules=recording_rules,
    signals=signals, panels=panels, scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    metrics=metrics, check=check)
