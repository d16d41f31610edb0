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
from ..kindspec import PERCENT, KindSpec, MetricUse, alerts_of, as_written, legend, ratio_by, thresholds, value_is
from ..model import RatioMonitor
from ..prometheus import series as ps
from ..promql import by_clause, dur, matcher_op, num, sel
from ..resolve import Alert, ResolvedService
from ..signals import Level, Panel, Query, Signal, series_and_now

SLO_ERROR_RATIO = "mlmon_slo:error_ratio"
SLO_EVENTS_RATE = "mlmon_slo:events"
SLO_ERRORS_RATE = "mlmon_slo:errors"
"""Errors per second over the shortest window (what the period's error ratio sums)."""
SLO_PERIOD_ERROR_RATIO = "mlmon_slo:error_ratio:period"
"""The error ratio over the SLO's whole ``period`` (the SLI of the objective: 1 - it is the success ratio)."""
SLO_OBJECTIVE = "mlmon_slo:objective"
SLO_BUDGET_REMAINING = "mlmon_slo:error_budget_remaining"
"""The share of the period's error budget not yet spent: 1 untouched, 0 spent, below 0 overspent."""


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
    """Per window: the error ratio and the event rate (events per second) of one SLO. Then, for dashboards, the
    period's error ratio (traffic-weighted: the errors per second over the shortest window, summed over the
    period, divided by the events summed alike), the objective and the error budget remaining."""
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
    shortest = dur(min(slo_windows()))
    if m.bad is not None:
        errors = _sum_rate(rs, m.bad, shortest, by)
    else:
        errors = f"{_sum_rate(rs, m.total, shortest, by)}\n-\n{_sum_rate(rs, m.good, shortest, by)}"
    match = ",".join(f'{k}="{v}"' for k, v in labels.items())
    period = dur(m.period)
    rules.append({"record": f"{SLO_ERRORS_RATE}:rate{shortest}", "expr": errors, "labels": dict(labels)})
    rules.append({"record": SLO_PERIOD_ERROR_RATIO,
                  "expr": (f"sum_over_time({SLO_ERRORS_RATE}:rate{shortest}{{{match}}}[{period}])\n/\n"
                           f"sum_over_time({SLO_EVENTS_RATE}:rate{shortest}{{{match}}}[{period}])"),
                  "labels": dict(labels)})
    goal = objective(rs, m)
    rules.append({"record": SLO_OBJECTIVE, "expr": f"vector({num(goal)})", "labels": dict(labels)})
    rules.append({"record": SLO_BUDGET_REMAINING,
                  "expr": f"1 - {SLO_PERIOD_ERROR_RATIO}{{{match}}} / {num(round(1 - goal, 12))}",
                  "labels": dict(labels)})
    return rules


def recorded(rs: ResolvedService, m: RatioMonitor, kind: str, window: int | None) -> str:
    """Selector of one SLO recording (``kind``: ``SLO_ERROR_RATIO`` or ``SLO_EVENTS_RATE`` over ``window``, or a
    whole name with ``window`` None); a dashboard's variables (``rs.variables``) among the labels the recordings
    keep are matched too."""
    match = ",".join(f'{k}="{v}"' for k, v in slo_labels(rs, m).items())
    by = ratio_by(rs, m)
    extra = ",".join(f'{lbl}=~"${lbl}"' for lbl in by if lbl in rs.variables)
    name = kind if window is None else f"{kind}:rate{dur(window)}"
    return f"{name}{{{match}{',' + extra if extra else ''}}}"


ABSENT = "absent"
"""The variant of the SLO's automatic absent alert (``absent:``)."""
PRESENT = 3
"""Samples of its generated test before a total's series disappears."""


def burns(alerts) -> list[Alert]:
    """The burn-rate alerts among an SLO's alerts (not its absent alert)."""
    return [a for a in alerts if a.burn != ABSENT]


def absent_expr(rs: ResolvedService, m: RatioMonitor) -> str:
    """No series of some ``total`` selector: the SLO reads nothing (renamed metric, broken scrape)."""
    return "\nor\n".join(f"absent({sel(rs.service, s)})" for s in m.total)


def expr(a: Alert, rs: ResolvedService) -> str:
    m = a.monitor
    if a.burn == ABSENT:
        return absent_expr(rs, m)
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
    """Burn-rate factors of a ratio SLO's burn alerts with their severities."""
    return tuple(Level(a.name, a.severity, bw.factor(a.monitor.period))
                 for a in burns(alerts) for bw in burn_windows()[a.burn])


def success(rs: ResolvedService, m: RatioMonitor, windows: list[int], title: str) -> Signal:
    """The success ratio (1 - the recorded error ratio) over ``windows`` against the objective."""
    labels = ratio_by(rs, m)
    alerts = burns(alerts_of(rs, m)) or alerts_of(rs, m)
    goal = objective(rs, m)
    queries = tuple(Query(f"1 - {recorded(rs, m, SLO_ERROR_RATIO, w)}",
                          (f"{d(w)} {legend(labels)}".strip() if len(windows) > 1 else legend(labels) or m.name))
                    for w in windows)
    sev = alerts[0].severity if alerts else m.ticket_severity
    return Signal(title, queries, "percentunit", "below", (Level(alerts[0].name if alerts else m.name, sev, goal),))


def signals(m: RatioMonitor, rs: ResolvedService) -> tuple[Signal, ...]:
    """The burn rate (error ratio / error budget) over each long window against the alerts' factors, then the
    success ratio over the longest window against the objective, then the error budget remaining over the
    period (Prometheus)."""
    if not rs.is_prometheus:
        plans = [(a, cloudwatch(a, rs)) for a in burns(alerts_of(rs, m))]
        return (cw.signal("error ratio", "percentunit", plans),)
    budget = num(round(1 - objective(rs, m), 12))
    labels = ratio_by(rs, m)
    longs = sorted({bw.long for rows in burn_windows().values() for bw in rows})
    burn = tuple(Query(f"{recorded(rs, m, SLO_ERROR_RATIO, w)} / {budget}", f"{d(w)} {legend(labels)}".strip())
                 for w in longs)
    note = (f"Burn rate = error ratio / error budget ({budget}); 1 spends the budget exactly over "
            f"{d(m.period)}.")
    longest = max(slo_windows())
    remaining = Signal(f"Error budget remaining ({d(m.period)})",
                       (Query(recorded(rs, m, SLO_BUDGET_REMAINING, None), legend(labels) or m.name),),
                       "percentunit", "below", (),
                       note=(f"1 - the error ratio over the last {d(m.period)} / the error budget "
                             f"({budget}): 100 % untouched, 0 spent, below 0 overspent ({SLO_BUDGET_REMAINING})."))
    return (Signal(f"{m.name}: error-budget burn rate", burn, "short", "above", burn_levels(alerts_of(rs, m)),
                   note=note),
            success(rs, m, [longest], f"Success ratio ({d(longest)})"),
            remaining)


def panels(m: RatioMonitor, rs: ResolvedService) -> tuple[Panel, ...]:
    s = signals(m, rs)
    if not rs.is_prometheus:
        return series_and_now(s)
    goal = objective(rs, m)
    return (Panel(s[0]), Panel(s[1], "stat", description=f"Objective: {num(round(goal * 100, 6))}% over "
                                                        f"{d(m.period)}."),
            Panel(s[2], "stat", description=s[2].note))


def absent_scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    """The first ``total`` selector's series is there for a few samples, disappears (staleness marker) and
    comes back; every other total stays. Fires: absent() carries the selector's equality matchers."""
    m = a.monitor
    interval = rs.defaults.evaluation_interval
    names = [ps.series_name(s.metric, ps.base_labels(rs, s.metric, s.matchers)) for s in m.total]
    merged = dict(rs.service.source.selector)
    merged.update(m.total[0].matchers)
    eq = {k: v for k, v in merged.items() if matcher_op(v)[0] == "="}
    p = PRESENT

    def fires(r, total):
        first = [(names[0], ps.Values().const(1, p).stale().gap(r - p - 1).const(1, total - r))]
        return first + [(n, ps.Values().const(1, total)) for n in names[1:]]

    return ps.Scenario(fires=fires, inside=lambda total: [(n, ps.Values().const(1, total)) for n in names],
                       t_true=p * interval, clear=0, labels=eq, value=lambda t: 1.0)


def scenario(a: Alert, rs: ResolvedService) -> ps.Scenario:
    m = a.monitor
    if a.burn == ABSENT:
        return absent_scenario(a, rs)
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
    if a.burn == ABSENT:
        if len(m.total) > 1:
            raise cw.Unsupported(m, ("absent",), "an alarm watches one metric; with several `total` metrics, "
                                                 "use an absent monitor per metric")
        t = m.total[0]
        return cw.single(cw.metric_ref(rs, m, t.metric, t.matchers, ("total",)), cw.metric_resolution(rs, t.metric),
                         "SampleCount", {}, operator="LessThanThreshold", threshold=1.0,
                         treat_missing=cw.TREAT_MISSING["absent"], label=t.metric)
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
    if a.burn == ABSENT:
        return f"no samples of {' or '.join(as_written(s.metric, s.matchers) for s in m.total)} (the SLO's total)"
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
    part = m.bad if m.bad is not None else m.good
    if not ps.total_has_rest([(s.metric, s.matchers) for s in part], [(s.metric, s.matchers) for s in m.total]):
        which = "bad" if m.bad is not None else "good"
        yield (("total",), f"`total` selects no series beyond the `{which}` selectors, so the error ratio is always "
                           f"{1 if which == 'bad' else 0}: narrow `{which}` with a matcher some series fail "
                           f"(e.g. code: \"=~5..\")")
    for env, o in m.overrides.items():
        if o.severity is not None:
            yield (("overrides", env, "severity"),
                   "ratio monitors take page_severity/ticket_severity, not a severity override")


def warnings(m: RatioMonitor, svc):
    """A quiet service's SLO that the low-traffic guard keeps silent: at its quietest traffic (``expected_events``)
    fewer events arrive per minute than the guard wants (``min_events``), so no burn alert can fire then, even
    at 100 % errors."""
    if m.expected_events is None or m.min_events <= 0 or m.expected_events >= m.min_events:
        return
    yield ("min_events",), (
        f"at its quietest the service sees {num(m.expected_events)} events per minute (expected_events), fewer "
        f"than the low-traffic guard's {num(m.min_events)} (min_events): then no burn alert can fire, even at "
        f"100 % errors. Lower min_events to at most {num(m.expected_events)} (0 turns the guard off), or watch "
        "the errors with a failures monitor")


KIND = KindSpec(
    name="ratio", model=RatioMonitor, requires_threshold=True, expr=expr, recording_rules=recording_rules,
    signals=signals, panels=panels, scenario=scenario, cloudwatch=cloudwatch, condition=condition,
    value=value_is(PERCENT), metrics=metrics, check=check, warnings=warnings)
