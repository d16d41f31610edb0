"""Validate rendered CloudWatch bodies the way CloudWatch would, before anything is deployed.

moto accepts almost any alarm, so every body is checked here against

1. botocore's own service model for CloudWatch (``PutMetricAlarm``, ``PutCompositeAlarm``, ``PutDashboard``
   input shapes): unknown members, required members, types, enums, numeric ranges, lengths, patterns;
2. CloudWatch's documented rules the model does not encode: Period 10, 20, 30 or a multiple of 60;
   Period x EvaluationPeriods at most 1 day (periods under 1 hour) or 7 days; DatapointsToAlarm <=
   EvaluationPeriods; a single metric XOR ``Metrics``; exactly one query with ReturnData true (two for an
   anomaly-detection alarm: the metric and its band); ids start with a lower-case letter and are unique;
   every metric math expression parses (:mod:`.mathexpr`) and only references ids of its own alarm;
   at most 10 metrics per metric math alarm; composite rules parse and reference alarms that exist first;
   dashboard widgets fit the 24-column grid and their metrics are well formed;
3. mlmon's contract: every action names a topic listed in ``<service>.topics.json``.

Every message names the file, the service, the alarm (and its monitor where known) and the field.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache

from .mathexpr import ID_RE, ExprError, math_error, parse_math, parse_rule
from .model import STATISTICS, TREAT_MISSING, valid_period

DAY, WEEK = 86400, 7 * 86400
BAND_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold")
PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,10})?|100)$")
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DASHBOARD = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
ACTION_FIELDS = ("AlarmActions", "OKActions", "InsufficientDataActions")
MAX_METRICS = 10
WIDGET_TYPES = ("metric", "text", "alarm", "log", "explorer", "custom")


@lru_cache(maxsize=1)
def service_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("cloudwatch")


def input_shape(operation: str):
    return service_model().operation_model(operation).input_shape


# --- 1. botocore's model ------------------------------------------------------------------------------


def _join(path: str, part) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def shape_errors(value, shape, path: str = "") -> list[tuple[str, str]]:
    """(field path, problem) for everything in ``value`` that ``shape`` (a botocore Shape) does not allow."""
    t = shape.type_name
    meta = shape.metadata
    out: list[tuple[str, str]] = []
    if t == "structure":
        if not isinstance(value, dict):
            return [(path, f"expected a structure ({shape.name}), got {type(value).__name__}")]
        for k in value:
            if k not in shape.members:
                out.append((_join(path, k), f"unknown member of {shape.name}"))
        for r in shape.required_members:
            if r not in value:
                out.append((_join(path, r), f"required by {shape.name}"))
        if meta.get("union") and len([k for k in value if k in shape.members]) != 1:
            out.append((path, f"{shape.name} is a union: set exactly one member"))
        for k, v in value.items():
            if k in shape.members:
                out.extend(shape_errors(v, shape.members[k], _join(path, k)))
        return out
    if t == "list":
        if not isinstance(value, list):
            return [(path, f"expected a list, got {type(value).__name__}")]
        if "min" in meta and len(value) < meta["min"]:
            out.append((path, f"at least {meta['min']} item(s) required, got {len(value)}"))
        if "max" in meta and len(value) > meta["max"]:
            out.append((path, f"at most {meta['max']} item(s) allowed, got {len(value)}"))
        for i, v in enumerate(value):
            out.extend(shape_errors(v, shape.member, _join(path, i)))
        return out
    if t == "map":
        if not isinstance(value, dict):
            return [(path, f"expected a map, got {type(value).__name__}")]
        for k, v in value.items():
            out.extend(shape_errors(k, shape.key, _join(path, str(k))))
            out.extend(shape_errors(v, shape.value, _join(path, str(k))))
        return out
    if t == "string":
        if not isinstance(value, str):
            return [(path, f"expected a string, got {type(value).__name__} {value!r}")]
        enum = getattr(shape, "enum", None) or meta.get("enum")
        if enum and value not in enum:
            out.append((path, f"{value!r} is not one of {', '.join(enum)}"))
        if "min" in meta and len(value) < meta["min"]:
            out.append((path, f"at least {meta['min']} character(s) required, got {len(value)}"))
        if "max" in meta and len(value) > meta["max"]:
            out.append((path, f"at most {meta['max']} characters allowed, got {len(value)}"))
        pattern = meta.get("pattern")
        if pattern:
            try:
                if not re.fullmatch(pattern, value, re.DOTALL):
                    out.append((path, f"{value!r} does not match the pattern {pattern}"))
            except re.error:
                pass  # a Java-only regex construct: botocore does not check it either
        return out
    if t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [(path, f"expected an integer, got {type(value).__name__} {value!r}")]
    elif t in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return [(path, f"expected a finite number, got {type(value).__name__} {value!r}")]
    elif t == "boolean":
        if not isinstance(value, bool):
            return [(path, f"expected true or false, got {type(value).__name__} {value!r}")]
        return out
    else:
        return out
    if "min" in meta and value < meta["min"]:
        out.append((path, f"must be at least {meta['min']}, got {value}"))
    if "max" in meta and value > meta["max"]:
        out.append((path, f"must be at most {meta['max']}, got {value}"))
    return out


# --- 2. CloudWatch's documented rules ---------------------------------------------------------------


def _valid_stat(stat) -> bool:
    return isinstance(stat, str) and (stat in STATISTICS or bool(PERCENTILE.fullmatch(stat)) and
                                      float(stat[1:]) <= 100)


def _period_rule(field: str, p) -> list[tuple[str, str]]:
    if isinstance(p, int) and not isinstance(p, bool) and not valid_period(p):
        return [(field, f"{p} is not a valid period: use 10, 20, 30 or a multiple of 60 seconds")]
    return []


def _metrics_rules(body: dict) -> tuple[list[tuple[str, str]], int | None]:
    out: list[tuple[str, str]] = []
    metrics = body["Metrics"]
    if not isinstance(metrics, list):
        return out, None
    if not metrics:
        return [("Metrics", "empty: give at least one metric and the expression to alarm on")], None
    ids, periods = [], set()
    queries = [q for q in metrics if isinstance(q, dict)]
    n_metrics = sum(1 for q in queries if "MetricStat" in q)
    if n_metrics > MAX_METRICS:
        out.append(("Metrics", f"{n_metrics} metrics; a metric math alarm may use at most {MAX_METRICS}"))
    for i, q in enumerate(queries):
        qid = q.get("Id")
        where = f"Metrics[{i}]"
        if isinstance(qid, str):
            if not ID_RE.fullmatch(qid):
                out.append((f"{where}.Id", f"{qid!r}: ids start with a lower-case letter and contain only "
                                           "letters, digits and '_'"))
            if qid in ids:
                out.append((f"{where}.Id", f"duplicate id {qid!r}"))
            ids.append(qid)
        has_stat, has_expr = "MetricStat" in q, "Expression" in q
        if has_stat == has_expr:
            out.append((where, "give exactly one of MetricStat or Expression"))
        if has_stat and isinstance(q["MetricStat"], dict):
            ms = q["MetricStat"]
            out.extend(_period_rule(f"{where}.MetricStat.Period", ms.get("Period")))
            if isinstance(ms.get("Period"), int):
                periods.add(ms["Period"])
            if "Stat" in ms and not _valid_stat(ms["Stat"]):
                out.append((f"{where}.MetricStat.Stat", f"{ms['Stat']!r} is not a statistic "
                                                       f"({', '.join(STATISTICS)} or a percentile like p95)"))
    known = set(ids)
    for i, q in enumerate(queries):
        expr = q.get("Expression")
        if isinstance(expr, str):
            err = math_error(expr, known - {q.get("Id")})
            if err is None and q.get("Id") in parse_math(expr):
                err = "references itself"
            if err:
                out.append((f"Metrics[{i}].Expression", f"{expr!r}: {err}"))
    if len(periods) > 1:
        out.append(("Metrics", f"metrics use different periods ({', '.join(map(str, sorted(periods)))}); "
                               "mlmon keeps one period per alarm"))
    returning = [q for q in queries if q.get("ReturnData", True) is not False]
    band_id = body.get("ThresholdMetricId")
    if band_id is not None:
        band = next((q for q in queries if q.get("Id") == band_id), None)
        if band is None:
            out.append(("ThresholdMetricId", f"{band_id!r} is not an id in Metrics"))
        elif not str(band.get("Expression", "")).startswith("ANOMALY_DETECTION_BAND("):
            out.append(("ThresholdMetricId", f"{band_id!r} must be an ANOMALY_DETECTION_BAND expression"))
        if len(returning) != 2 or (band is not None and band not in returning):
            out.append(("Metrics", "an anomaly-detection alarm returns exactly two queries (ReturnData true): "
                                   f"the metric and its band; got {len(returning)}"))
    elif len(returning) != 1:
        out.append(("Metrics", f"exactly one query must have ReturnData true (omitted counts as true); "
                               f"got {len(returning)}: {', '.join(str(q.get('Id')) for q in returning) or 'none'}"))
    return out, (periods.pop() if len(periods) == 1 else None)


SINGLE_FIELDS = ("MetricName", "Namespace", "Dimensions", "Statistic", "ExtendedStatistic", "Period", "Unit")


def alarm_rules(body: dict) -> list[tuple[str, str]]:
    """CloudWatch's documented rules for a PutMetricAlarm body (beyond the service model)."""
    out: list[tuple[str, str]] = []
    if "Metrics" in body:
        clash = [f for f in SINGLE_FIELDS if f in body]
        if clash:
            out.append((clash[0], f"with Metrics, {', '.join(clash)} must not be set (they go in MetricStat)"))
        errs, period = _metrics_rules(body)
        out.extend(errs)
    else:
        period = body.get("Period")
        for f in ("MetricName", "Namespace", "Period", "EvaluationPeriods"):
            if f not in body:
                out.append((f, "required for an alarm on a single metric"))
        if ("Statistic" in body) == ("ExtendedStatistic" in body):
            out.append(("Statistic", "give exactly one of Statistic or ExtendedStatistic"))
        ext = body.get("ExtendedStatistic")
        if ext is not None and not (isinstance(ext, str) and PERCENTILE.fullmatch(ext) and float(ext[1:]) <= 100):
            out.append(("ExtendedStatistic", f"{ext!r} is not a percentile such as p95 or p99.9"))
        out.extend(_period_rule("Period", period))
        if "ThresholdMetricId" in body:
            out.append(("ThresholdMetricId", "only valid with Metrics (an anomaly-detection band)"))
    if "EvaluationPeriods" not in body:
        if "Metrics" in body:
            out.append(("EvaluationPeriods", "required"))
    op = body.get("ComparisonOperator")
    if op is None:
        out.append(("ComparisonOperator", "required"))
    elif op in BAND_OPERATORS and "ThresholdMetricId" not in body:
        out.append(("ComparisonOperator", f"{op} needs ThresholdMetricId (an anomaly-detection band)"))
    elif op not in BAND_OPERATORS and "ThresholdMetricId" in body:
        out.append(("ComparisonOperator", f"{op} compares with a static Threshold; an anomaly-detection alarm "
                                          f"uses one of {', '.join(BAND_OPERATORS)}"))
    if "ThresholdMetricId" in body:
        if "Threshold" in body:
            out.append(("Threshold", "must not be set with ThresholdMetricId"))
    elif "Threshold" not in body:
        out.append(("Threshold", "required for a static-threshold alarm"))
    n, m = body.get("EvaluationPeriods"), body.get("DatapointsToAlarm")
    if isinstance(n, int) and isinstance(m, int) and m > n:
        out.append(("DatapointsToAlarm", f"{m} exceeds EvaluationPeriods {n}"))
    if isinstance(n, int) and valid_period(period):
        limit = DAY if period < 3600 else WEEK
        if n * period > limit:
            out.append(("EvaluationPeriods", f"{n} x {period}s = {n * period}s; CloudWatch allows at most "
                                             f"{limit}s for a {'period under 1 hour' if limit == DAY else 'period'}"))
    tmd = body.get("TreatMissingData")
    if tmd is not None and tmd not in TREAT_MISSING:
        out.append(("TreatMissingData", f"{tmd!r} is not one of {', '.join(TREAT_MISSING)}"))
    elsc = body.get("EvaluateLowSampleCountPercentile")
    if elsc is not None:
        if elsc not in ("evaluate", "ignore"):
            out.append(("EvaluateLowSampleCountPercentile", f"{elsc!r} is not one of evaluate, ignore"))
        if "ExtendedStatistic" not in body:
            out.append(("EvaluateLowSampleCountPercentile", "only valid with a percentile ExtendedStatistic"))
    out.extend(_tag_rules(body))
    return out


def _tag_rules(body: dict) -> list[tuple[str, str]]:
    keys = [t.get("Key") for t in body.get("Tags", []) or [] if isinstance(t, dict)]
    dup = sorted({k for k in keys if keys.count(k) > 1 and isinstance(k, str)})
    return [("Tags", f"duplicate tag key {k!r}") for k in dup]


def composite_rules(body: dict, known: set[str]) -> list[tuple[str, str]]:
    """Rule syntax, references to alarms defined earlier (children first), no self-reference."""
    out: list[tuple[str, str]] = []
    rule = body.get("AlarmRule")
    if isinstance(rule, str):
        try:
            names = parse_rule(rule)
        except ExprError as exc:
            return [("AlarmRule", str(exc))]
        if body.get("AlarmName") in names:
            out.append(("AlarmRule", "references the composite alarm itself"))
        missing = [n for n in dict.fromkeys(names) if n not in known and not n.startswith("arn:")]
        for n in missing:
            out.append(("AlarmRule", f"references alarm {n!r}, which is not rendered before it"))
        if len(set(names)) > 100:
            out.append(("AlarmRule", f"references {len(set(names))} alarms; keep it at most 100"))
    out.extend(_tag_rules(body))
    return out


# --- dashboards --------------------------------------------------------------------------------------


def dashboard_rules(body: dict) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    name = body.get("DashboardName")
    if isinstance(name, str) and not DASHBOARD.fullmatch(name):
        out.append(("DashboardName", f"{name!r}: letters, digits, '-' and '_' only, at most 255"))
    text = body.get("DashboardBody")
    if not isinstance(text, str):
        return out
    try:
        dash = json.loads(text)
    except ValueError as exc:
        return out + [("DashboardBody", f"not JSON: {exc}")]
    if not isinstance(dash, dict) or not isinstance(dash.get("widgets"), list):
        return out + [("DashboardBody", "must be an object with a `widgets` list")]
    if len(dash["widgets"]) > 500:
        out.append(("DashboardBody.widgets", "at most 500 widgets"))
    for i, w in enumerate(dash["widgets"]):
        where = f"DashboardBody.widgets[{i}]"
        if not isinstance(w, dict):
            out.append((where, "a widget must be an object"))
            continue
        if w.get("type") not in WIDGET_TYPES:
            out.append((f"{where}.type", f"{w.get('type')!r} is not one of {', '.join(WIDGET_TYPES)}"))
        for k, lo, hi in (("x", 0, 23), ("y", 0, 10 ** 6), ("width", 1, 24), ("height", 1, 1000)):
            v = w.get(k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi):
                out.append((f"{where}.{k}", f"{v!r} must be an integer from {lo} to {hi}"))
        if isinstance(w.get("x"), int) and isinstance(w.get("width"), int) and w["x"] + w["width"] > 24:
            out.append((f"{where}.width", "the widget extends past the 24-column grid"))
        props = w.get("properties")
        if not isinstance(props, dict):
            out.append((f"{where}.properties", "required (an object)"))
            continue
        if w.get("type") == "text" and not isinstance(props.get("markdown"), str):
            out.append((f"{where}.properties.markdown", "required for a text widget"))
        if w.get("type") == "metric":
            out.extend(_metric_widget(props, f"{where}.properties"))
    return out


def _metric_widget(props: dict, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not isinstance(props.get("region"), str):
        out.append((f"{where}.region", "required for a metric widget"))
    if "period" in props and not valid_period(props["period"]):
        out.append((f"{where}.period", f"{props['period']!r} is not a valid period"))
    rows = props.get("metrics")
    if not isinstance(rows, list) or not rows:
        return out + [(f"{where}.metrics", "a non-empty list of metric arrays is required")]
    ids: list[str] = []
    exprs: list[tuple[str, str]] = []
    for j, row in enumerate(rows):
        at = f"{where}.metrics[{j}]"
        if not isinstance(row, list) or not row:
            out.append((at, "each entry must be a non-empty array"))
            continue
        opts = row[-1] if isinstance(row[-1], dict) else {}
        plain = row[:-1] if isinstance(row[-1], dict) else row
        if not plain:
            if "expression" not in opts:
                out.append((at, "an entry without namespace and metric name must be an {expression, id}"))
            else:
                exprs.append((at, opts["expression"]))
        else:
            if not all(isinstance(x, str) for x in plain) or len(plain) < 2 or len(plain) % 2:
                out.append((at, "expected [namespace, metric name, dimension name, value, ..., {options}]"))
            if "stat" in opts and not _valid_stat(opts["stat"]):
                out.append((f"{at}.stat", f"{opts['stat']!r} is not a statistic"))
        if "id" in opts:
            if not isinstance(opts["id"], str) or not ID_RE.fullmatch(opts["id"]):
                out.append((f"{at}.id", f"{opts['id']!r}: ids start with a lower-case letter"))
            elif opts["id"] in ids:
                out.append((f"{at}.id", f"duplicate id {opts['id']!r}"))
            else:
                ids.append(opts["id"])
    for at, expr in exprs:
        err = math_error(expr, set(ids)) if isinstance(expr, str) else "must be a string"
        if err:
            out.append((f"{at}.expression", f"{expr!r}: {err}"))
    ann = props.get("annotations", {})
    for j, a in enumerate(ann.get("horizontal", []) if isinstance(ann, dict) else []):
        v = a.get("value") if isinstance(a, dict) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out.append((f"{where}.annotations.horizontal[{j}].value", f"{v!r} must be a number"))
    return out


# --- one service, all files ------------------------------------------------------------------------------


def topics_errors(topics) -> list[tuple[str, str]]:
    from ..types import SEVERITIES

    if not isinstance(topics, list):
        return [("", "expected a list of {Name, Severity}")]
    out, seen = [], set()
    for i, t in enumerate(topics):
        if not isinstance(t, dict) or set(t) != {"Name", "Severity"}:
            out.append((f"[{i}]", "expected exactly {Name, Severity}"))
            continue
        if not isinstance(t["Name"], str) or not TOPIC.fullmatch(t["Name"]):
            out.append((f"[{i}].Name", f"{t['Name']!r} is not an SNS topic name (letters, digits, '-', '_'; "
                                       "at most 256)"))
        elif t["Name"] in seen:
            out.append((f"[{i}].Name", f"duplicate topic {t['Name']!r}"))
        seen.add(t["Name"])
        if t["Severity"] not in SEVERITIES:
            out.append((f"[{i}].Severity", f"{t['Severity']!r} is not a severity"))
    return out


def validate_service(service: str, alarms, composites, dashboard, topics,
                     monitors: dict[str, str] | None = None) -> list[str]:
    """Every problem in one service's CloudWatch artifacts, as ``file: service: alarm (monitor): field: msg``."""
    monitors = monitors or {}
    problems: list[str] = []

    def say(file: str, alarm: str | None, field: str, msg: str):
        who = ""
        if alarm is not None:
            mon = monitors.get(alarm)
            who = f"alarm {alarm}" + (f" (monitor {mon})" if mon else "") + ": "
        problems.append(f"cloudwatch/{service}{file}: {service}: {who}{field + ': ' if field else ''}{msg}")

    for field, msg in topics_errors(topics):
        say(".topics.json", None, f"topics{field}", msg)
    topic_names = {t.get("Name") for t in topics if isinstance(t, dict)} if isinstance(topics, list) else set()
    known: set[str] = set()

    def check_actions(file, name, body):
        for f in ACTION_FIELDS:
            for j, a in enumerate(body.get(f, []) or []):
                if isinstance(a, str) and a not in topic_names and not a.startswith("arn:"):
                    say(file, name, f"{f}[{j}]", f"names SNS topic {a!r}, which is not in {service}.topics.json")

    def check_bodies(file, bodies, operation, rules):
        if not isinstance(bodies, list):
            say(file, None, "", f"expected a JSON list of {operation} bodies")
            return
        shape = input_shape(operation)
        for i, body in enumerate(bodies):
            name = body.get("AlarmName", f"#{i}") if isinstance(body, dict) else f"#{i}"
            if not isinstance(body, dict):
                say(file, name, "", "expected an object")
                continue
            for field, msg in shape_errors(body, shape) + rules(body):
                say(file, name, field, msg)
            if name in known:
                say(file, name, "AlarmName", "duplicate alarm name")
            known.add(name)
            check_actions(file, name, body)

    check_bodies(".json", alarms, "PutMetricAlarm", alarm_rules)
    # composites may only name alarms defined before them (metric alarms, then earlier composites)
    check_bodies(".composite.json", composites, "PutCompositeAlarm", lambda body: composite_rules(body, known))
    if dashboard is not None:
        if not isinstance(dashboard, dict):
            say(".dashboard.json", None, "", "expected the PutDashboard body (an object)")
        else:
            for field, msg in shape_errors(dashboard, input_shape("PutDashboard")) + dashboard_rules(dashboard):
                say(".dashboard.json", None, field, msg)
    return problems


def verify_step(out, catalog, env: str) -> list[str]:
    """CloudWatch alarm, composite and dashboard bodies against botocore's service model and CloudWatch's rules."""
    from ..rendered import as_rendered
    from ..resolve import resolve
    from .alarms import alarm_specs

    rendered = as_rendered(out, env)
    failures: list[str] = []
    for rs in resolve(catalog, env):
        if rs.service.source.type != "cloudwatch":
            continue
        files = {k: f"cloudwatch/{rs.name}{k}" for k in (".json", ".composite.json", ".dashboard.json", ".topics.json")}
        missing = [rel for rel in files.values() if rel not in rendered]
        if missing:
            failures.append(f"cloudwatch ({env}): {rs.name}: not rendered: {', '.join(missing)}")
            continue
        try:
            data = {k: rendered.json(rel) for k, rel in files.items()}
        except ValueError as exc:
            failures.append(f"cloudwatch ({env}): {rs.name}: invalid JSON: {exc}")
            continue
        monitors = {s.name: s.monitor.name for s in alarm_specs(rs)}
        for p in validate_service(rs.name, data[".json"], data[".composite.json"], data[".dashboard.json"],
                                  data[".topics.json"], monitors):
            failures.append(f"cloudwatch ({env}): {p}")
    return failures
