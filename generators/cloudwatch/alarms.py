"""CloudWatch alarms for each monitor kind: ``PutMetricAlarm`` and ``PutCompositeAlarm`` request bodies.

One plan function per kind (the same kinds as :mod:`generators.prometheus.expressions`) says which series
the alarm evaluates (one metric, or metric math), at which period, against which operator and threshold,
and how missing data counts. :func:`_alarm` turns a plan and an alert's ``for`` into a body.

Kinds or fields that have no CloudWatch equivalent raise :class:`Unsupported`, which the catalog check
:mod:`generators.checks.cloudwatch` turns into an error naming file and path. Pure: model in, dicts out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..alertmeta import condition, labels, remediations, runbook_url, summary
from ..durations import format_duration as dur
from ..model import (AbsentMonitor, FailuresMonitor, FlagMonitor, LatencyMonitor, RatioMonitor, RawMonitor,
                     StalledMonitor, ThresholdMonitor, TrendMonitor)
from ..promql import matcher_op, num
from ..resolve import Alert, ResolvedService
from ..types import SEVERITIES

PER_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
UNIT_SCALE = {"milliseconds": 1000.0, "seconds": 1.0}
OPERATOR = {"above": "GreaterThanThreshold", "below": "LessThanThreshold"}
BAND_OPERATOR = {"above": "GreaterThanUpperThreshold", "below": "LessThanLowerThreshold",
                 "both": "LessThanLowerOrGreaterThanUpperThreshold"}
SMOOTHING_STAT = {"avg": "Average", "min": "Minimum", "max": "Maximum", "increase": "Sum"}

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

MAX_DESCRIPTION = 1024
HEAD_ROOM = 300
"""Characters of an alarm description kept for its summary and condition before remediation commands."""
DAY, WEEK = 86400, 7 * 86400
SHORT_PERIOD_LIMIT = 3600  # periods under 1h may evaluate at most 1 day; longer ones at most 7 days


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


@dataclass(frozen=True)
class AlarmSpec:
    """One rendered alarm and where it came from."""

    name: str
    body: dict
    monitor: Any
    role: str  # "alert" (notifies), "window" (building block of a ratio composite), "anomaly", "composite"
    alert: str = ""
    severity: str = ""
    facts: str = ""
    children: tuple = field(default=())
    plan: Plan | None = None


# --- names ----------------------------------------------------------------------------------------


def _suffix(rs: ResolvedService) -> str:
    return f"-{rs.env}" if rs.service.source.env_suffix else ""


def alarm_name(rs: ResolvedService, base: str) -> str:
    return f"{rs.name}-{base}{_suffix(rs)}"


def topic_name(rs: ResolvedService, severity: str) -> str:
    """SNS topic of a severity: the service's ``routing`` entry, else ``<service>-<severity>``."""
    return (rs.service.routing.get(severity) or f"{rs.name}-{severity}") + _suffix(rs)


def dashboard_name(rs: ResolvedService) -> str:
    src = rs.service.source
    if src.dashboard:
        base = src.dashboard
    else:
        title = rs.service.title or rs.name
        base = "".join(c if c.isalnum() or c in "-_" else "-" for c in title.strip())
    return (base + _suffix(rs))[:255]


def console_url(rs: ResolvedService) -> str:
    if rs.service.links.dashboard:
        return rs.service.links.dashboard
    region = rs.service.source.region
    return f"https://console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={dashboard_name(rs)}"


# --- metrics ----------------------------------------------------------------------------------------


def _options(rs: ResolvedService, metric: str):
    decl = rs.service.metrics.get(metric)
    return decl.cloudwatch if decl is not None else None


def metric_resolution(rs: ResolvedService, metric: str) -> int:
    o = _options(rs, metric)
    return o.period if o is not None else 60


def metric_ref(rs: ResolvedService, mon, metric: str, matchers: dict[str, str], path: tuple) -> dict:
    """``{"Namespace", "MetricName", "Dimensions"}`` of a declared metric plus the monitor's matchers."""
    src = rs.service.source
    o = _options(rs, metric)
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


def _unit(rs: ResolvedService, metric: str) -> dict:
    o = _options(rs, metric)
    return {"Unit": o.unit} if o is not None and o.unit else {}


def valid_period(p: int) -> bool:
    return p in (10, 20, 30) or (p > 0 and p % 60 == 0)


def _period(rs, mon, seconds: int, metric: str, path: tuple, what: str) -> int:
    res = metric_resolution(rs, metric)
    if not valid_period(seconds):
        raise Unsupported(mon, path, (
            f"{what} of {dur(seconds)} is not a CloudWatch period: use 10s, 20s, 30s or a multiple of 1m"))
    if seconds < res or seconds % res:
        raise Unsupported(mon, path, (
            f"{what} of {dur(seconds)} does not fit {metric}'s {dur(res)} resolution "
            f"(metrics.{metric}.cloudwatch.period): use a multiple of {dur(res)}"))
    return seconds


def _stat(mid: str, ref: dict, period: int, stat: str, unit: dict) -> dict:
    ms = {"Metric": ref, "Period": period, "Stat": stat}
    ms.update(unit)
    return {"Id": mid, "MetricStat": ms, "ReturnData": False}


def _single(ref: dict, period: int, stat: str, unit: dict) -> dict:
    out = dict(ref)
    out["ExtendedStatistic" if stat.startswith("p") else "Statistic"] = stat
    out["Period"] = period
    out.update(unit)
    return out


def _math(queries: list[dict], expression: str, label: str) -> dict:
    return {"Metrics": queries + [{"Id": "e1", "Expression": expression, "Label": label[:255], "ReturnData": True}]}


def percentile(q: float) -> str:
    return "p" + num(round(q * 100, 6))


def _series_single(ref, stat, label):
    return (("m1", ref, stat, None, label, True),)


def _series_math(queries: list[dict], expression: str, label: str):
    out = [(q["Id"], q["MetricStat"]["Metric"], q["MetricStat"]["Stat"], None, q["Id"], False) for q in queries]
    out.append(("e1", None, None, expression, label, True))
    return tuple(out)


# --- one plan per kind --------------------------------------------------------------------------------


def _threshold(a: Alert, rs: ResolvedService, m: ThresholdMonitor) -> Plan:
    if m.by:
        raise Unsupported(m, ("by",), (
            "per-label aggregation (`by`) has no CloudWatch alarm equivalent: an alarm watches one series; "
            "set the metric's dimensions (metrics.<name>.cloudwatch.dimensions) or exact matchers instead"))
    sm = m.smoothing
    op = OPERATOR[m.op]
    ref = metric_ref(rs, m, m.metric, m.matchers, ())
    unit = _unit(rs, m.metric)
    if m.denominator is not None:
        p = _period(rs, m, sm.window if sm else 300, m.metric, ("smoothing", "window"), "the smoothing window")
        den = metric_ref(rs, m, m.denominator.metric, m.denominator.matchers, ("denominator",))
        queries = [_stat("m1", ref, p, "Sum", {}), _stat("m2", den, p, "Sum", {})]
        label = f"{m.metric} / {m.denominator.metric}"
        expr, summary = "m1 / m2", f"Sum(m1) / Sum(m2), {dur(p)} periods"
        if m.guard > 0:  # low-traffic guard: no datapoint (not breaching) while too few events arrive
            least = num(round(m.guard * p / 60, 9))
            expr, summary = f"IF(m2 >= {least}, m1 / m2)", f"{summary}, judged while Sum(m2) >= {least}"
        return Plan(_math(queries, expr, label), p, op, a.threshold, TREAT_MISSING["threshold_ratio"],
                    summary, series=_series_math(queries, expr, label))
    res = metric_resolution(rs, m.metric)
    if sm is None:
        o = _options(rs, m.metric)
        stat = (o.statistic if o is not None and o.statistic else "Average")
        return Plan(_single(ref, res, stat, unit), res, op, a.threshold, TREAT_MISSING["threshold"],
                    f"{stat}, {dur(res)} periods", series=_series_single(ref, stat, m.metric))
    p = _period(rs, m, sm.window, m.metric, ("smoothing", "window"), "the smoothing window")
    if sm.function == "rate":
        queries = [_stat("m1", ref, p, "Sum", unit)]
        expr = "m1 / PERIOD(m1)"
        label = f"{m.metric} per second"
        return Plan(_math(queries, expr, label), p, op, a.threshold, TREAT_MISSING["threshold_ratio"],
                    f"Sum / period, {dur(p)} periods", series=_series_math(queries, expr, label))
    stat = percentile(sm.quantile) if sm.function == "quantile" else SMOOTHING_STAT[sm.function]
    return Plan(_single(ref, p, stat, unit), p, op, a.threshold, TREAT_MISSING["threshold"],
                f"{stat}, {dur(p)} periods", series=_series_single(ref, stat, m.metric))


def _flag(a: Alert, rs: ResolvedService, m: FlagMonitor) -> Plan:
    decl = rs.service.metrics.get(m.metric)
    hi = decl.range[1] if decl is not None and decl.range else 1.0
    if a.threshold != hi:
        raise Unsupported(m, _threshold_path(m, a), (
            f"CloudWatch has no equality operator: a flag alarm is `Maximum >= {num(hi)}`, so its value must be "
            f"the top of the metric's range ({num(hi)}), got {num(a.threshold)}"))
    res = metric_resolution(rs, m.metric)
    o = _options(rs, m.metric)
    stat = o.statistic if o is not None and o.statistic else "Maximum"
    ref = metric_ref(rs, m, m.metric, m.matchers, ())
    return Plan(_single(ref, res, stat, _unit(rs, m.metric)), res, "GreaterThanOrEqualToThreshold", a.threshold,
                TREAT_MISSING["flag"], f"{stat}, {dur(res)} periods", series=_series_single(ref, stat, m.metric))


def _trend(a: Alert, rs: ResolvedService, m: TrendMonitor) -> Plan:
    p = m.window // 2
    if m.window % 2 or not valid_period(p) or p < metric_resolution(rs, m.metric):
        raise Unsupported(m, ("window",), (
            f"a trend over {dur(m.window)} compares the averages of its two halves, so half the window "
            f"({dur(m.window // 2) if m.window % 2 == 0 else str(m.window / 2) + 's'}) must be a CloudWatch period "
            "(10s, 20s, 30s or a multiple of 1m) no shorter than the metric's resolution"))
    _period(rs, m, p, m.metric, ("window",), "half the trend window")
    ref = metric_ref(rs, m, m.metric, m.matchers, ())
    queries = [_stat("m1", ref, p, "Average", _unit(rs, m.metric))]
    scale = PER_SECONDS[m.per]
    expr = "RATE(m1)" + (f" * {scale}" if scale != 1 else "")
    label = f"slope of {m.metric} per {m.per}"
    return Plan(_math(queries, expr, label), p, OPERATOR[m.op], a.threshold, TREAT_MISSING["trend"],
                f"RATE of {dur(p)} averages", extra_periods=1, series=_series_math(queries, expr, label))


def _failures(a: Alert, rs: ResolvedService, m: FailuresMonitor) -> Plan:
    p = _period(rs, m, m.window, m.metric, ("window",), "the window")
    ref = metric_ref(rs, m, m.metric, m.matchers, ())
    return Plan(_single(ref, p, "Sum", _unit(rs, m.metric)), p, "GreaterThanThreshold", a.threshold,
                TREAT_MISSING["failures"], f"Sum, {dur(p)} periods", series=_series_single(ref, "Sum", m.metric))


def _stalled(a: Alert, rs: ResolvedService, m: StalledMonitor) -> Plan:
    p = _period(rs, m, m.window, m.backlog.metric, ("window",), "the window")
    _period(rs, m, m.window, m.progress.metric, ("window",), "the window")
    backlog = metric_ref(rs, m, m.backlog.metric, m.backlog.matchers, ("backlog",))
    progress = metric_ref(rs, m, m.progress.metric, m.progress.matchers, ("progress",))
    queries = [_stat("m1", backlog, p, "Minimum", {}), _stat("m2", progress, p, "Sum", {})]
    expr = f"IF(m1 > {num(a.threshold)} AND FILL(m2, 0) == 0, 1, 0)"
    label = f"{m.backlog.metric} waiting, no {m.progress.metric}"
    return Plan(_math(queries, expr, label), p, "GreaterThanOrEqualToThreshold", 1.0, TREAT_MISSING["stalled"],
                f"Minimum backlog and Sum of progress, {dur(p)} periods", series=_series_math(queries, expr, label))


def _latency(a: Alert, rs: ResolvedService, m: LatencyMonitor) -> Plan:
    if m.by:
        raise Unsupported(m, ("by",), "per-label aggregation (`by`) has no CloudWatch alarm equivalent; "
                                      "use the metric's dimensions instead")
    p = _period(rs, m, m.window, m.histogram, ("window",), "the window")
    ref = metric_ref(rs, m, m.histogram, m.matchers, ())
    decl = rs.service.metrics.get(m.histogram)
    bound = a.threshold * (UNIT_SCALE.get(decl.unit, 1.0) if decl else 1.0)
    stat = percentile(m.quantile)
    return Plan(_single(ref, p, stat, _unit(rs, m.histogram)), p, OPERATOR[m.op], bound, TREAT_MISSING["latency"],
                f"{stat}, {dur(p)} periods", series=_series_single(ref, stat, m.histogram))


def _absent(a: Alert, rs: ResolvedService, m: AbsentMonitor) -> Plan:
    res = metric_resolution(rs, m.metric)
    ref = metric_ref(rs, m, m.metric, m.matchers, ())
    return Plan(_single(ref, res, "SampleCount", {}), res, "LessThanThreshold", 1.0, TREAT_MISSING["absent"],
                f"SampleCount, {dur(res)} periods", series=_series_single(ref, "SampleCount", m.metric))


def _raw(a: Alert, rs: ResolvedService, m: RawMonitor) -> Plan:
    raise Unsupported(m, ("kind",), (
        "a raw PromQL expression cannot be evaluated by CloudWatch; express it with a threshold, flag, trend, "
        "failures, stalled, ratio, latency or absent monitor"))


KIND_PLAN = {
    "threshold": _threshold, "flag": _flag, "trend": _trend, "failures": _failures, "stalled": _stalled,
    "latency": _latency, "absent": _absent, "raw": _raw,
}


def _threshold_path(m, a: Alert) -> tuple:
    if m.levels:
        for j, lvl in enumerate(m.levels):
            if lvl.alert == a.name:
                return ("levels", j, "threshold")
    return ("threshold",)


def _for_path(m, a: Alert) -> tuple:
    if m.levels:
        for j, lvl in enumerate(m.levels):
            if lvl.alert == a.name:
                return ("levels", j, "for")
    return ("for",)


def plan(a: Alert, rs: ResolvedService) -> Plan:
    p = KIND_PLAN[a.kind](a, rs, a.monitor)
    opts = a.monitor.cloudwatch
    if opts is not None and opts.treat_missing_data:
        p = Plan(**{**p.__dict__, "treat_missing": opts.treat_missing_data})
    return p


# --- bodies ----------------------------------------------------------------------------------------------


def _periods(mon, path: tuple, for_: int, period: int, extra: int) -> tuple[int, int]:
    """(EvaluationPeriods, DatapointsToAlarm): the condition must hold for ``for`` (at least one period)."""
    k = max(1, math.ceil(for_ / period))
    n = k + extra
    limit = DAY if period < SHORT_PERIOD_LIMIT else WEEK
    if n * period > limit:
        raise Unsupported(mon, path, (
            f"`for` {dur(for_)} at a {dur(period)} period needs {n} evaluation periods ({dur(n * period)}); "
            f"CloudWatch evaluates at most {dur(limit)} for periods {'under' if limit == DAY else 'of'} 1h"
            f"{'' if limit == DAY else ' or more'}"))
    return n, k


def _tags(a_labels: dict[str, str]) -> list[dict]:
    tags = [{"Key": k, "Value": v} for k, v in a_labels.items()]
    tags.append({"Key": "managed-by", "Value": "mlmon"})
    return tags


def waits(for_: int, period: int, extra: int = 0) -> str:
    """What the alarm really waits: ``for`` in whole periods (CloudWatch has no ``for`` of its own)."""
    n, k = max(1, math.ceil(for_ / period)) + extra, max(1, math.ceil(for_ / period))
    text = f"{k} of {n} {dur(period)} periods breaching = {dur(k * period)}"
    if k * period != for_:
        text += f" (the catalog's `for` {dur(for_)} rounded up to whole {dur(period)} periods)"
    return text


def description(head: str, cond: str, facts: str, rs: ResolvedService, runbook: str,
                commands: list[tuple[str, str]] | None = None) -> str:
    """Summary, condition, remediation commands and links, at most 1024 characters (the summary/condition
    shrink; links never; remediation commands stay whole or give way to their names)."""
    links = f"\nRunbook: {runbook}\nDashboard: {console_url(rs)}"
    tail = links
    if commands:
        budget = MAX_DESCRIPTION - len(links) - HEAD_ROOM
        shown, rest = "", []
        for name, cmd in commands:  # whole commands in the catalog's order while they fit, then names
            line = f"\nRemediation {name}: {cmd}"
            if not rest and len(shown) + len(line) <= budget:
                shown += line
            else:
                rest.append(name)
        if rest:
            shown += f"\nMore remediations (runbook, `mlmon remediations`): {', '.join(rest)}"
        tail = shown + links
    text = f"{head.rstrip('.')}.\nFires when {cond} ({facts})."
    room = MAX_DESCRIPTION - len(tail)
    if len(text) > room:
        text = text[: max(0, room - 1)] + "…"
    return (text + tail)[:MAX_DESCRIPTION]


def _alarm(rs: ResolvedService, name: str, p: Plan, mon, for_path: tuple, for_: int, *,
           actions: list[str] | None, desc: str, tags: list[dict], extra: dict | None = None) -> dict:
    n, k = _periods(mon, for_path, for_, p.period, p.extra_periods)
    body: dict[str, Any] = {"AlarmName": name, "AlarmDescription": desc, "ActionsEnabled": True}
    if actions:
        body["AlarmActions"] = list(actions)
        body["OKActions"] = list(actions)
    body.update(p.fields)
    body["EvaluationPeriods"] = n
    body["DatapointsToAlarm"] = k
    if p.threshold is not None:
        body["Threshold"] = float(p.threshold)
    body["ComparisonOperator"] = p.operator
    body["TreatMissingData"] = p.treat_missing
    if extra:
        body.update(extra)
    body["Tags"] = tags
    return body


def _ratio_specs(a: Alert, rs: ResolvedService, m: RatioMonitor) -> list[AlarmSpec]:
    from ..prometheus.expressions import burn_windows

    if m.by:
        raise Unsupported(m, ("by",), "per-label aggregation (`by`) has no CloudWatch alarm equivalent; "
                                      "use the metrics' dimensions instead")
    budget = 1 - a.threshold
    head = summary(a, rs)
    url = runbook_url(a, rs)
    tags = _tags(labels(a, rs))
    specs: list[AlarmSpec] = []
    rule_parts = []
    for bw in burn_windows()[a.burn]:
        factor = bw.factor(m.period)
        bound = round(factor * budget, 12)
        pair = []
        for which, window in (("long", bw.long), ("short", bw.short)):
            queries, ids = [], {}
            for fld in ("bad", "good", "total"):
                sels = getattr(m, fld) or ()
                ids[fld] = []
                for j, s in enumerate(sels):
                    metric = s.metric
                    path = (fld, j) if len(sels) > 1 else (fld,)
                    p = _period(rs, m, window, metric, ("period",), f"the {dur(window)} burn-rate window")
                    mid = f"{fld[0]}{j + 1}"
                    queries.append(_stat(mid, metric_ref(rs, m, metric, s.matchers, path), p, "Sum", {}))
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
            expr = f"IF({total_g} >= {guard}, {ratio}, 0)"
            label = f"error ratio over {dur(window)}"
            p = Plan(_math(queries, expr, label), window, "GreaterThanThreshold", bound, TREAT_MISSING["ratio"],
                     f"error ratio over {dur(window)}", series=_series_math(queries, expr, label))
            if m.cloudwatch is not None and m.cloudwatch.treat_missing_data:
                p = Plan(**{**p.__dict__, "treat_missing": m.cloudwatch.treat_missing_data})
            name = alarm_name(rs, f"{a.name}-{dur(bw.long)}-{dur(bw.short)}-{which}")
            cond = f"the error ratio over {dur(window)} > {num(bound)} ({num(factor)}x the {num(round(budget, 12))} budget)"
            desc = description(f"{head} ({which} window of the {dur(bw.long)}/{dur(bw.short)} pair; "
                               f"building block of {alarm_name(rs, a.name)})", cond, p.facts, rs, url)
            # each window alarm evaluates exactly one period (the window itself); the short window is what
            # makes the pair resolve quickly, so `for` adds nothing here
            body = _alarm(rs, name, p, m, ("for",), 0, actions=None, desc=desc, tags=tags)
            specs.append(AlarmSpec(name, body, m, "window", a.name, a.severity, p.facts, plan=p))
            pair.append(name)
        rule_parts.append(f'(ALARM("{pair[0]}") AND ALARM("{pair[1]}"))')
    cname = alarm_name(rs, a.name)
    topic = topic_name(rs, a.severity)
    composite = {
        "AlarmName": cname,
        "AlarmDescription": description(head, condition(a, rs), "composite of the window alarms", rs, url),
        "ActionsEnabled": True,
        "AlarmActions": [topic],
        "OKActions": [topic],
        "AlarmRule": " OR ".join(rule_parts),
        "Tags": tags,
    }
    specs.append(AlarmSpec(cname, composite, m, "composite", a.name, a.severity,
                           f"composite of {len(rule_parts)} window pairs",
                           children=tuple(s.name for s in specs)))
    return specs


def _anomaly_spec(rs: ResolvedService, m) -> AlarmSpec | None:
    opts = m.cloudwatch
    if opts is None or opts.anomaly_band is None:
        return None
    band = opts.anomaly_band
    path = ("cloudwatch", "anomaly_band")
    first = next(a for a in rs.alerts if a.monitor is m)
    if m.kind not in ("threshold", "latency", "trend") or (m.kind == "threshold" and m.denominator is not None):
        raise Unsupported(m, path, (
            "an anomaly band watches one metric: it is available on threshold monitors without a denominator, "
            "latency and trend monitors"))
    p = plan(first, rs)
    if m.kind == "trend":
        ref = p.fields["Metrics"][0]["MetricStat"]["Metric"]
        stat_q = dict(p.fields["Metrics"][0])
    elif "Metrics" in p.fields:
        raise Unsupported(m, path, "an anomaly band watches one metric; this monitor's series is metric math "
                                   "(a rate), which CloudWatch anomaly alarms on this path do not support")
    else:
        f = p.fields
        ref = {"Namespace": f["Namespace"], "MetricName": f["MetricName"], "Dimensions": f["Dimensions"]}
        stat = f.get("Statistic") or f.get("ExtendedStatistic")
        stat_q = _stat("m1", ref, p.period, stat, {"Unit": f["Unit"]} if "Unit" in f else {})
    stat_q = {**stat_q, "ReturnData": True}
    direction = band.direction or getattr(m, "op", "above")
    width = num(band.width)
    label = f"expected {ref['MetricName']} ({width} std dev)"
    queries = [stat_q, {"Id": "ad1", "Expression": f"ANOMALY_DETECTION_BAND(m1, {width})", "Label": label[:255],
                        "ReturnData": True}]
    treat = opts.treat_missing_data or TREAT_MISSING["anomaly"]
    facts = f"anomaly band of {width} std dev on {stat_q['MetricStat']['Stat']}, {dur(p.period)} periods"
    ap = Plan({"Metrics": queries}, p.period, BAND_OPERATOR[direction], None, treat, facts)
    name = alarm_name(rs, band.alert)
    where = {"above": "above", "below": "below", "both": "outside"}[direction]
    cond = f"{ref['MetricName']} is {where} the band CloudWatch's anomaly model expects"
    head = (m.summary or f"{rs.service.title or rs.name}: {ref['MetricName']} anomalous")
    a = Alert(name=band.alert, monitor=m, threshold=None, for_=band.for_, severity=band.severity,
              remediations=m.remediations)
    desc = description(f"{head} (anomaly detection)", cond, f"{facts}; alarms on {waits(band.for_, p.period)}",
                       rs, runbook_url(a, rs), remediations(a, rs))
    body = _alarm(rs, name, ap, m, path + ("for",), band.for_, actions=[topic_name(rs, band.severity)], desc=desc,
                  tags=_tags(labels(a, rs)), extra={"ThresholdMetricId": "ad1"})
    return AlarmSpec(name, body, m, "anomaly", band.alert, band.severity, facts, plan=ap)


def alarm_specs(rs: ResolvedService) -> list[AlarmSpec]:
    """Every alarm of the service in catalog order: per monitor its alerts, then its anomaly alarm."""
    specs: list[AlarmSpec] = []
    for m in rs.monitors():
        for a in (x for x in rs.alerts if x.monitor is m):
            if isinstance(m, RatioMonitor):
                specs.extend(_ratio_specs(a, rs, m))
                continue
            p = plan(a, rs)
            name = alarm_name(rs, a.name)
            head = summary(a, rs) + (f". {m.description}" if m.description else "")
            facts = f"{p.facts}; alarms on {waits(a.for_, p.period, p.extra_periods)}"
            desc = description(head, condition(a, rs), facts, rs, runbook_url(a, rs), remediations(a, rs))
            body = _alarm(rs, name, p, m, _for_path(m, a), a.for_, actions=[topic_name(rs, a.severity)],
                          desc=desc, tags=_tags(labels(a, rs)))
            specs.append(AlarmSpec(name, body, m, "alert", a.name, a.severity, p.facts, plan=p))
        anomaly = _anomaly_spec(rs, m)
        if anomaly is not None:
            specs.append(anomaly)
    return specs


def health_name(rs: ResolvedService) -> str:
    return alarm_name(rs, "health")


def _health(rs: ResolvedService, specs: list[AlarmSpec]) -> dict | None:
    members = [s.name for s in specs if s.role in ("alert", "anomaly", "composite")]
    if not members:
        return None
    title = rs.service.title or rs.name
    body: dict[str, Any] = {
        "AlarmName": health_name(rs),
        "AlarmDescription": (f"{title}: at least one of its {len(members)} alarms is in ALARM (service roll-up).\n"
                             f"Runbooks: {rs.runbook_base}\nDashboard: {console_url(rs)}")[:MAX_DESCRIPTION],
        "ActionsEnabled": True,
    }
    sev = rs.service.source.composite_severity
    if sev:
        body["AlarmActions"] = [topic_name(rs, sev)]
        body["OKActions"] = [topic_name(rs, sev)]
    body["AlarmRule"] = " OR ".join(f'ALARM("{n}")' for n in members)
    body["Tags"] = [{"Key": "service", "Value": rs.name}, {"Key": "team", "Value": rs.service.team},
                    {"Key": "env", "Value": rs.env}, {"Key": "managed-by", "Value": "mlmon"}]
    return body


def metric_alarms(rs: ResolvedService) -> list[dict]:
    """``cloudwatch/<service>.json``: every ``PutMetricAlarm`` body."""
    return [s.body for s in alarm_specs(rs) if s.role != "composite"]


def composite_alarms(rs: ResolvedService) -> list[dict]:
    """``cloudwatch/<service>.composite.json``: ratio composites, then the service roll-up (children first)."""
    specs = alarm_specs(rs)
    out = [s.body for s in specs if s.role == "composite"]
    health = _health(rs, specs)
    if health is not None:
        out.append(health)
    return out


def topics(rs: ResolvedService) -> list[dict]:
    """``cloudwatch/<service>.topics.json``: one SNS topic per severity the alarms notify."""
    used = {s.severity for s in alarm_specs(rs) if s.role in ("alert", "anomaly", "composite")}
    if rs.service.source.composite_severity and used:
        used.add(rs.service.source.composite_severity)
    out, seen = [], set()
    for sev in SEVERITIES:
        name = topic_name(rs, sev)
        if sev in used and name not in seen:  # two severities routed to one topic: listed once
            seen.add(name)
            out.append({"Name": name, "Severity": sev})
    return out


def threshold_rows(rs: ResolvedService) -> tuple[dict[str, str], list[dict]]:
    """For ``mlmon thresholds``: alert name -> the CloudWatch alarm behind it (name, statistic, period,
    datapoints, operator), and one extra row per anomaly-detection alarm (not a catalog alert)."""
    facts: dict[str, str] = {}
    extra: list[dict] = []
    for s in alarm_specs(rs):
        b = s.body
        if s.role == "alert":
            facts[s.alert] = (f"{s.name}: {s.facts}, {b['DatapointsToAlarm']} of {b['EvaluationPeriods']} "
                              f"{b['ComparisonOperator']} {num(b['Threshold'])}, missing={b['TreatMissingData']}")
        elif s.role == "composite":
            facts[s.alert] = f"{s.name}: composite of {len(s.children)} window alarms ({s.facts})"
        elif s.role == "anomaly":
            facts[s.alert] = (f"{s.name}: {s.facts}, {b['DatapointsToAlarm']} of {b['EvaluationPeriods']} "
                              f"{b['ComparisonOperator']}, missing={b['TreatMissingData']}")
            extra.append({"alert": s.alert, "kind": "anomaly", "severity": s.severity,
                          "for": dur(s.monitor.cloudwatch.anomaly_band.for_), "threshold": None,
                          "condition": f"{b['Metrics'][0]['MetricStat']['Metric']['MetricName']} outside its "
                                       f"anomaly band ({s.facts})"})
    return facts, extra
