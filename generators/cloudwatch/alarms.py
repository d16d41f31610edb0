"""CloudWatch alarms: ``PutMetricAlarm`` and ``PutCompositeAlarm`` request bodies from each alert's plan.

Each kind's ``cloudwatch`` facet (``generators/kinds/<kind>.py``) says which series the alarm evaluates, at
which period, against which operator and threshold, and how missing data counts (:mod:`.plans`); this module
turns a plan and the alert's ``for`` into a body with its description, actions and tags, adds the opt-in
anomaly-band alarms and the service's roll-up composite, and lists the SNS topics the actions name.

What CloudWatch cannot express raises :class:`~.plans.Unsupported`, which the catalog check
:mod:`generators.checks.cloudwatch` turns into an error naming file and path. Pure: model in, dicts out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..alertmeta import condition, labels, remediations, runbook_url, summary
from ..durations import format_duration as dur
from ..kinds import cloudwatch_plan
from ..names import MANAGED_BY, alarm_name, cloudwatch_console_url, health_alarm_name, topic_name
from ..promql import num, side
from ..resolve import Alert, ResolvedService
from ..types import SEVERITIES
from .plans import TREAT_MISSING, BurnPlan, Plan, Unsupported, stat_query

BAND_OPERATOR = {"above": "GreaterThanUpperThreshold", "below": "LessThanLowerThreshold",
                 "both": "LessThanLowerOrGreaterThanUpperThreshold"}
MAX_DESCRIPTION = 1024
HEAD_ROOM = 300
"""Characters of an alarm description kept for its summary and condition before remediation commands."""
DAY, WEEK = 86400, 7 * 86400
SHORT_PERIOD_LIMIT = 3600  # periods under 1h may evaluate at most 1 day; longer ones at most 7 days


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


def plan(a: Alert, rs: ResolvedService) -> Plan | BurnPlan:
    """The alert's plan from its kind, with the monitor's ``cloudwatch.treat_missing_data`` applied."""
    p = cloudwatch_plan(a, rs)
    opts = a.monitor.cloudwatch
    if opts is None or not opts.treat_missing_data:
        return p
    if isinstance(p, BurnPlan):
        return BurnPlan(tuple(type(pair)(_missing(pair.long, opts), _missing(pair.short, opts), pair.long_window,
                                         pair.short_window) for pair in p.pairs))
    return _missing(p, opts)


def _missing(p: Plan, opts) -> Plan:
    return Plan(**{**p.__dict__, "treat_missing": opts.treat_missing_data})


def _for_path(m, a: Alert) -> tuple:
    if m.levels:
        for j, lvl in enumerate(m.levels):
            if lvl.alert == a.name:
                return ("levels", j, "for")
    return ("for",)


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
    tags.append({"Key": "managed-by", "Value": MANAGED_BY})
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
    links = f"\nRunbook: {runbook}\nDashboard: {cloudwatch_console_url(rs)}"
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


def _burn_specs(a: Alert, rs: ResolvedService, p: BurnPlan) -> list[AlarmSpec]:
    """A window alarm per window of every pair, then the composite that alarms while both of a pair do."""
    m = a.monitor
    head = summary(a, rs)
    url = runbook_url(a, rs)
    tags = _tags(labels(a, rs))
    specs: list[AlarmSpec] = []
    rule_parts = []
    for pair in p.pairs:
        names = []
        for which, w in (("long", pair.long), ("short", pair.short)):
            name = alarm_name(rs, f"{a.name}-{dur(pair.long_window)}-{dur(pair.short_window)}-{which}")
            desc = description(f"{head} ({which} window of the {dur(pair.long_window)}/{dur(pair.short_window)} "
                               f"pair; building block of {alarm_name(rs, a.name)})", w.condition, w.facts, rs, url)
            # each window alarm evaluates exactly one period (the window itself); the short window is what
            # makes the pair resolve quickly, so `for` adds nothing here
            body = _alarm(rs, name, w, m, ("for",), 0, actions=None, desc=desc, tags=tags)
            specs.append(AlarmSpec(name, body, m, "window", a.name, a.severity, w.facts, plan=w))
            names.append(name)
        rule_parts.append(f'(ALARM("{names[0]}") AND ALARM("{names[1]}"))')
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
        stat_q = stat_query("m1", ref, p.period, stat, {"Unit": f["Unit"]} if "Unit" in f else {})
    stat_q = {**stat_q, "ReturnData": True}
    direction = band.direction or side(getattr(m, "op", "above"))
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
            p = plan(a, rs)
            if isinstance(p, BurnPlan):
                specs.extend(_burn_specs(a, rs, p))
                continue
            name = alarm_name(rs, a.name)
            head = summary(a, rs) + (f". {m.description}" if m.description else "")
            facts = f"{p.facts}; alarms on {waits(a.for_, p.period, p.extra_periods)}"
            desc = description(head, p.condition or condition(a, rs), facts, rs, runbook_url(a, rs),
                               remediations(a, rs))
            body = _alarm(rs, name, p, m, _for_path(m, a), a.for_, actions=[topic_name(rs, a.severity)],
                          desc=desc, tags=_tags(labels(a, rs)))
            specs.append(AlarmSpec(name, body, m, "alert", a.name, a.severity, p.facts, plan=p))
        anomaly = _anomaly_spec(rs, m)
        if anomaly is not None:
            specs.append(anomaly)
    return specs


def _health(rs: ResolvedService, specs: list[AlarmSpec]) -> dict | None:
    members = [s.name for s in specs if s.role in ("alert", "anomaly", "composite")]
    if not members:
        return None
    title = rs.service.title or rs.name
    body: dict[str, Any] = {
        "AlarmName": health_alarm_name(rs),
        "AlarmDescription": (f"{title}: at least one of its {len(members)} alarms is in ALARM (service roll-up).\n"
                             f"Runbooks: {rs.runbook_base}\nDashboard: {cloudwatch_console_url(rs)}")[:MAX_DESCRIPTION],
        "ActionsEnabled": True,
    }
    sev = rs.service.source.composite_severity
    if sev:
        body["AlarmActions"] = [topic_name(rs, sev)]
        body["OKActions"] = [topic_name(rs, sev)]
    body["AlarmRule"] = " OR ".join(f'ALARM("{n}")' for n in members)
    body["Tags"] = [{"Key": "service", "Value": rs.name}, {"Key": "team", "Value": rs.service.team},
                    {"Key": "env", "Value": rs.env}, {"Key": "managed-by", "Value": MANAGED_BY}]
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
