"""What a CloudWatch alarm evaluates, as data: :class:`Plan` (one alarm) and :class:`BurnPlan` (a ratio SLO's
window alarms under a composite), and the building blocks the kinds make them from.

Each kind's ``cloudwatch`` facet (``generators/kinds/<kind>.py``) returns a plan; :mod:`.alarms` turns plans
into ``PutMetricAlarm``/``PutCompositeAlarm`` bodies, and the dashboards (CloudWatch's and Grafana's) plot the
plan's own series (:func:`signal`), so a widget or panel always queries the series its alarm evaluates.
Kinds or fields that have no CloudWatch equivalent raise :class:`Unsupported`. Pure; no boto3/botocore.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..durations import format_duration as dur
from ..promql import matcher_op, num
from ..resolve import Alert, ResolvedService
from ..signals import CwQuery, Level, Signal, operator_side
from .model import STANDARD_RESOLUTION, valid_period  # noqa: F401  (valid_period: for the kinds)

OPERATOR = {"above": "GreaterThanThreshold", "below": "LessThanThreshold",
            "above_or_equal": "GreaterThanOrEqualToThreshold", "below_or_equal": "LessThanOrEqualToThreshold"}
"""A monitor's ``op`` as the alarm's ComparisonOperator."""

# TreatMissingData per kind (docs/cloudwatch.md explains each choice).
TREAT_MISSING = {
    "threshold": "missing",      # a gauge that stops reporting shows INSUFFICIENT_DATA, never a false OK
    "threshold_ratio": "notBreaching",  # no requests: no error rate to judge
    "flag": "missing",
    "trend": "missing",
    "failures": "notBreaching",  # counters published as deltas: no datapoint means no failures
    "stalled": "notBreaching",
    "ratio": "notBreaching",
    "latency": "notBreaching",   # no requests is not slow
    "absent": "breaching",       # the point of the monitor: silence is the alarm
    "anomaly": "missing",
}


class Unsupported(Exception):
    """A monitor (or one of its fields) cannot be expressed as a CloudWatch alarm."""

    def __init__(self, monitor, path: tuple, message: str):
        super().__init__(message)
        self.monitor = monitor
        self.path = tuple(path)
        self.message = message


@dataclass(frozen=True)
class Plan:
    """What one alarm evaluates: the metric fields of the body and how they compare."""

    fields: dict  # single metric (Namespace, MetricName, ... Period) or {"Metrics": [...]}
    period: int
    operator: str
    threshold: float | None
    treat_missing: str
    facts: str  # e.g. "Average, 1h periods"
    extra_periods: int = 0  # evaluation periods beyond the datapoints that must breach (RATE needs one)
    series: tuple = ()  # dashboard series: ((id, ref or None, stat, expression, label, visible), ...)
    condition: str = ""  # words for the alarm description when they differ from the alert's condition


@dataclass(frozen=True)
class WindowPair:
    """One long/short window pair of a burn-rate alert: it alarms while both windows breach."""

    long: Plan
    short: Plan
    long_window: int
    short_window: int


@dataclass(frozen=True)
class BurnPlan:
    """A multiwindow burn-rate alert: one alarm per window, and a composite that alarms when any pair does."""

    pairs: tuple[WindowPair, ...]


# --- metrics ----------------------------------------------------------------------------------------


def options(rs: ResolvedService, metric: str):
    decl = rs.service.metrics.get(metric)
    return decl.cloudwatch if decl is not None else None


def metric_resolution(rs: ResolvedService, metric: str) -> int:
    o = options(rs, metric)
    return o.period if o is not None else STANDARD_RESOLUTION


def metric_ref(rs: ResolvedService, mon, metric: str, matchers: dict[str, str], path: tuple) -> dict:
    """``{"Namespace", "MetricName", "Dimensions"}`` of a declared metric plus the monitor's matchers."""
    src = rs.service.source
    o = options(rs, metric)
    dims = dict(src.dimensions)
    if o is not None:
        dims.update(o.dimensions)
    for label in sorted(matchers):
        op, value = matcher_op(matchers[label])
        if op != "=":
            raise Unsupported(mon, path + ("matchers", label), (
                f"CloudWatch dimensions only match exactly; {op!r} matchers have no equivalent "
                "(use an exact value, or declare a separate metric)"))
        dims[label] = value
    if len(dims) > 30:
        raise Unsupported(mon, path, f"{len(dims)} dimensions; CloudWatch allows at most 30")
    return {
        "Namespace": (o.namespace if o is not None and o.namespace else src.namespace),
        "MetricName": (o.name if o is not None and o.name else metric),
        "Dimensions": [{"Name": k, "Value": dims[k]} for k in sorted(dims)],
    }


def unit(rs: ResolvedService, metric: str) -> dict:
    o = options(rs, metric)
    return {"Unit": o.unit} if o is not None and o.unit else {}


def statistic(rs: ResolvedService, metric: str, default: str) -> str:
    """The statistic a monitor reads ``metric`` with when it does not smooth it (``cloudwatch.statistic``)."""
    o = options(rs, metric)
    return o.statistic if o is not None and o.statistic else default


def period(rs, mon, seconds: int, metric: str, path: tuple, what: str) -> int:
    res = metric_resolution(rs, metric)
    if not valid_period(seconds):
        raise Unsupported(mon, path, (
            f"{what} of {dur(seconds)} is not a CloudWatch period: use 10s, 20s, 30s or a multiple of 1m"))
    if seconds < res or seconds % res:
        raise Unsupported(mon, path, (
            f"{what} of {dur(seconds)} does not fit {metric}'s {dur(res)} resolution "
            f"(metrics.{metric}.cloudwatch.period): use a multiple of {dur(res)}"))
    return seconds


def stat_query(mid: str, ref: dict, period: int, stat: str, unit: dict) -> dict:
    ms = {"Metric": ref, "Period": period, "Stat": stat}
    ms.update(unit)
    return {"Id": mid, "MetricStat": ms, "ReturnData": False}


def percentile(q: float) -> str:
    return "p" + num(round(q * 100, 6))


def single(ref: dict, period: int, stat: str, unit: dict, *, operator: str, threshold: float | None,
           treat_missing: str, label: str) -> Plan:
    """A plan that reads one metric statistic (``Namespace``/``MetricName``/... fields of the body)."""
    fields = dict(ref)
    fields["ExtendedStatistic" if stat.startswith("p") else "Statistic"] = stat
    fields["Period"] = period
    fields.update(unit)
    return Plan(fields, period, operator, threshold, treat_missing, f"{stat}, {dur(period)} periods",
                series=(("m1", ref, stat, None, label, True),))


def math(queries: list[dict], expression: str, label: str, *, period: int, operator: str,
         threshold: float | None, treat_missing: str, facts: str, extra_periods: int = 0,
         condition: str = "") -> Plan:
    """A plan that evaluates metric math ``expression`` (id ``e1``) over hidden ``queries``."""
    fields = {"Metrics": queries + [{"Id": "e1", "Expression": expression, "Label": label[:255], "ReturnData": True}]}
    series = [(q["Id"], q["MetricStat"]["Metric"], q["MetricStat"]["Stat"], None, q["Id"], False) for q in queries]
    series.append(("e1", None, None, expression, label, True))
    return Plan(fields, period, operator, threshold, treat_missing, facts, extra_periods, tuple(series), condition)


def threshold_path(m, a: Alert) -> tuple:
    if m.levels:
        for j, lvl in enumerate(m.levels):
            if lvl.alert == a.name:
                return ("levels", j, "threshold")
    return ("threshold",)


def no_by(m, advice: str = "; use the metric's dimensions instead") -> None:
    if m.by:
        raise Unsupported(m, ("by",), f"per-label aggregation (`by`) has no CloudWatch alarm equivalent{advice}")
    if getattr(m, "without", None):
        raise Unsupported(m, ("without",), f"per-label aggregation (`without`) has no CloudWatch alarm equivalent{advice}")


# --- what dashboards plot -------------------------------------------------------------------------------


def shown(plans: list[tuple[Alert, Plan | BurnPlan]]) -> list[tuple[Alert, Plan]]:
    """The alarms a monitor's panel shows: every alert's plan; of a burn-rate alert the shortest window's
    alarms (the fastest view of the error ratio)."""
    flat: list[tuple[Alert, Plan]] = []
    for a, p in plans:
        if isinstance(p, BurnPlan):
            flat.extend((a, w) for pair in p.pairs for w in (pair.long, pair.short))
        else:
            flat.append((a, p))
    windows = [(a, p) for a, p in plans if isinstance(p, BurnPlan)]
    if windows:
        least = min(w.period for _, w in flat)
        flat = [(a, w) for a, w in flat if w.period == least]
    return flat


def alarm_signal(title: str, unit_: str, m, rs: ResolvedService, plan) -> Signal:
    """The signal of monitor ``m`` on CloudWatch: its enabled alerts' plans (``plan``: the kind's
    ``cloudwatch`` facet) as :func:`signal`."""
    return signal(title, unit_, [(a, plan(a, rs)) for a in rs.alerts if a.monitor is m])


def signal(title: str, unit_: str, plans: list[tuple[Alert, Plan | BurnPlan]], *, lo=None, hi=None,
           note: str = "") -> Signal:
    """The series the monitor's alarms evaluate (the first shown plan's metric queries), with each shown
    alarm's threshold as a level: what the Grafana CloudWatch panel plots."""
    flat = shown(plans)
    first = flat[0][1]
    queries = []
    for sid, ref, stat, expression, label, visible in first.series:
        if expression is not None:
            queries.append(CwQuery(sid, expression=expression, legend=label, period=first.period))
            continue
        dims = tuple((d["Name"], d["Value"]) for d in ref["Dimensions"])
        queries.append(CwQuery(sid, ref["MetricName"], stat, first.period, not visible, legend=label if visible else "",
                               namespace=ref["Namespace"], dimensions=dims))
    levels = tuple(Level(a.name, a.severity, p.threshold) for a, p in flat if p.threshold is not None)
    what = f"{first.series[0][2]}, " if len(first.series) == 1 else ""
    return Signal(f"{title} ({what}{dur(first.period)})", tuple(queries), unit_, operator_side(first.operator),
                  levels, lo, hi, note)
