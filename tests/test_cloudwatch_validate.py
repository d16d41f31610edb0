"""The validator rejects what CloudWatch would reject (and moto would not), naming service, alarm and field."""

from __future__ import annotations

import copy
import json
import re

import pytest

from conftest_cloudwatch import cloudwatch_files, seed_catalog
from generators.cloudwatch.mathexpr import ExprError, math_error, parse_math, parse_rule
from generators.cloudwatch.validate import validate_service


@pytest.fixture(scope="module")
def pilot():
    return cloudwatch_files(seed_catalog(), "prod")["boltit-pilot"]


def find(bodies, suffix):
    return next(b for b in bodies if b["AlarmName"].endswith(suffix))


def errors(f, alarms=None, composites=None, dashboard=None, topics=None):
    return validate_service("boltit-pilot", alarms if alarms is not None else f["alarms"],
                            composites if composites is not None else f["composites"],
                            dashboard if dashboard is not None else f["dashboard"],
                            topics if topics is not None else f["topics"])


def mutate(f, suffix, fn):
    alarms = copy.deepcopy(f["alarms"])
    fn(find(alarms, suffix))
    return alarms


# (alarm suffix, mutation, field named in the message, words in the message)
BAD_ALARMS = [
    ("AccuracyLow", lambda b: b.update(ComparisonOperator="GreaterThanOrEqual"), "ComparisonOperator",
     "is not one of"),
    ("AccuracyLow", lambda b: b.update(Period=45), "Period", "not a valid period"),
    ("AccuracyLow", lambda b: b.update(DatapointsToAlarm=4), "DatapointsToAlarm", "exceeds EvaluationPeriods"),
    ("AccuracyLow", lambda b: b.update(EvaluationPeriods=300), "EvaluationPeriods", "at most 86400"),
    ("ConfidenceLow", lambda b: b.update(EvaluationPeriods=200), "EvaluationPeriods", "at most 604800"),
    ("AccuracyLow", lambda b: b.update(Statistic="Mean"), "Statistic", "is not one of"),
    ("AccuracyLow", lambda b: b.update(ExtendedStatistic="p95"), "Statistic", "exactly one of"),
    ("AccuracyLow", lambda b: b.pop("Threshold"), "Threshold", "required"),
    ("AccuracyLow", lambda b: b.update(Threshold="0.9"), "Threshold", "expected a finite number"),
    ("AccuracyLow", lambda b: b.update(TreatMissingData="zero"), "TreatMissingData", "is not one of"),
    ("AccuracyLow", lambda b: b.update(Colour="red"), "Colour", "unknown member"),
    ("AccuracyLow", lambda b: b.update(AlarmDescription="x" * 1025), "AlarmDescription", "at most 1024"),
    ("AccuracyLow", lambda b: b.update(AlarmActions=["t"] * 6), "AlarmActions", "at most 5"),
    ("AccuracyLow", lambda b: b.update(Unit="Seconds/Hour"), "Unit", "is not one of"),
    ("AccuracyLow", lambda b: b.update(EvaluationPeriods=0), "EvaluationPeriods", "at least 1"),
    ("LatencyHigh", lambda b: b.update(ExtendedStatistic="p101"), "ExtendedStatistic", "not a percentile"),
    ("ErrorRateHigh", lambda b: b["Metrics"][0].update(ReturnData=True), "Metrics", "exactly one query"),
    ("ErrorRateHigh", lambda b: b["Metrics"][0].pop("ReturnData"),
     "Metrics", "omitted counts as true"),
    ("ErrorRateHigh", lambda b: b["Metrics"][0].update(Id="M1"), "Metrics[0].Id", "lower-case"),
    ("ErrorRateHigh", lambda b: b["Metrics"][1].update(Id="m1"), "Metrics[1].Id", "duplicate id"),
    ("ErrorRateHigh", lambda b: b["Metrics"][2].update(Expression="m1 / "), "Metrics[2].Expression",
     "unexpected end"),
    ("ErrorRateHigh", lambda b: b["Metrics"][2].update(Expression="m1 / m3"), "Metrics[2].Expression",
     "unknown id m3"),
    ("ErrorRateHigh", lambda b: b["Metrics"][2].update(Expression="SLOPE(m1)"), "Metrics[2].Expression",
     "unknown function SLOPE"),
    ("ErrorRateHigh", lambda b: b["Metrics"][0]["MetricStat"].update(Period=90), "Metrics[0].MetricStat.Period",
     "not a valid period"),
    ("ErrorRateHigh", lambda b: b["Metrics"][0]["MetricStat"].update(Stat="avg"), "Metrics[0].MetricStat.Stat",
     "not a statistic"),
    ("ErrorRateHigh", lambda b: b.update(Period=300), "Period", "must not be set"),
    ("ErrorRateHigh", lambda b: b["Metrics"][1]["MetricStat"].update(Period=600), "Metrics", "different periods"),
    ("ErrorRateHigh", lambda b: b["Metrics"][0].pop("MetricStat"), "Metrics[0]", "exactly one of MetricStat"),
    ("ConfidenceAnomalous", lambda b: b.update(Threshold=0.5), "Threshold", "must not be set"),
    ("ConfidenceAnomalous", lambda b: b.update(ComparisonOperator="LessThanThreshold"), "ComparisonOperator",
     "anomaly-detection alarm"),
    ("ConfidenceAnomalous", lambda b: b["Metrics"][0].update(ReturnData=False), "Metrics", "exactly two"),
    ("ConfidenceAnomalous", lambda b: b.update(ThresholdMetricId="m1"), "ThresholdMetricId",
     "ANOMALY_DETECTION_BAND"),
    ("AccuracyLow", lambda b: b.update(ComparisonOperator="LessThanLowerThreshold"), "ComparisonOperator",
     "needs ThresholdMetricId"),
    ("AccuracyLow", lambda b: b.update(AlarmActions=["no-such-topic"]), "AlarmActions[0]",
     "not in boltit-pilot.topics.json"),
    ("AccuracyLow", lambda b: b["Tags"].append({"Key": "env", "Value": "x"}), "Tags", "duplicate tag key"),
]


@pytest.mark.parametrize("suffix,fn,field,words", BAD_ALARMS, ids=[f"{b[2]}-{b[3]}" for b in BAD_ALARMS])
def test_bad_alarm_is_rejected_with_service_alarm_and_field(pilot, suffix, fn, field, words):
    assert errors(pilot) == []
    alarms = mutate(pilot, suffix, fn)
    errs = errors(pilot, alarms=alarms)
    name = find(alarms, suffix)["AlarmName"]
    hits = [e for e in errs if f"alarm {name}" in e and f": {field}: " in e and words in e]
    assert hits, errs
    assert all(e.startswith("cloudwatch/boltit-pilot.json: boltit-pilot: ") for e in hits)


def test_monitor_is_named_when_known(pilot):
    alarms = mutate(pilot, "AccuracyLow", lambda b: b.update(Period=45))
    errs = validate_service("boltit-pilot", alarms, pilot["composites"], pilot["dashboard"], pilot["topics"],
                            {alarms[0]["AlarmName"]: "PilotClassificationAccuracy"})
    assert any("(monitor PilotClassificationAccuracy): Period:" in e for e in errs), errs


def test_duplicate_alarm_names(pilot):
    alarms = copy.deepcopy(pilot["alarms"]) + [copy.deepcopy(pilot["alarms"][0])]
    assert any("duplicate alarm name" in e for e in errors(pilot, alarms=alarms))


@pytest.mark.parametrize("rule,words", [
    ('ALARM("boltit-pilot-nope")', "not rendered before it"),
    ('ALARM(boltit-pilot-PilotConfidenceLow)', "quoted alarm name"),
    ('ALARM("boltit-pilot-PilotConfidenceLow") XOR TRUE', "unexpected 'XOR'"),
    ('ALARM("boltit-pilot-health")', "references the composite alarm itself"),
    ('', "at least 1 character"),
])
def test_bad_composite_rule(pilot, rule, words):
    comps = copy.deepcopy(pilot["composites"])
    comps[0]["AlarmRule"] = rule
    errs = errors(pilot, composites=comps)
    assert any("cloudwatch/boltit-pilot.composite.json: boltit-pilot: alarm boltit-pilot-health: AlarmRule:" in e
               and words in e for e in errs), errs


def test_composite_must_come_after_its_children(pilot):
    # a composite that references a composite rendered after it
    comps = [dict(pilot["composites"][0], AlarmName="boltit-pilot-outer",
                  AlarmRule='ALARM("boltit-pilot-health")')] + pilot["composites"]
    assert any("'boltit-pilot-health', which is not rendered before it" in e for e in errors(pilot, composites=comps))


@pytest.mark.parametrize("change,field,words", [
    (lambda d: d["widgets"][1].update(x=20), "widgets[1].width", "past the 24-column grid"),
    (lambda d: d["widgets"][1].update(type="chart"), "widgets[1].type", "not one of"),
    (lambda d: d["widgets"][1]["properties"].pop("region"), "widgets[1].properties.region", "required"),
    (lambda d: d["widgets"][1]["properties"]["metrics"][0].insert(2, "Model"), "widgets[1].properties.metrics[0]",
     "expected [namespace"),
    (lambda d: d["widgets"][2]["properties"]["metrics"].append([{"expression": "ANOMALY_DETECTION_BAND(zz, 2)",
                                                                  "id": "ad9"}]),
     "widgets[2].properties.metrics[2].expression", "unknown id zz"),
    (lambda d: d["widgets"][1]["properties"]["annotations"]["horizontal"][0].update(value="0.9"),
     "annotations.horizontal[0].value", "must be a number"),
    (lambda d: d["widgets"][0]["properties"].pop("markdown"), "widgets[0].properties.markdown", "required"),
])
def test_bad_dashboard(pilot, change, field, words):
    dash = copy.deepcopy(pilot["dashboard"])
    body = json.loads(dash["DashboardBody"])
    change(body)
    dash["DashboardBody"] = json.dumps(body)
    errs = errors(pilot, dashboard=dash)
    assert any(field in e and words in e and e.startswith("cloudwatch/boltit-pilot.dashboard.json: boltit-pilot: ")
               for e in errs), errs


def test_bad_dashboard_name_and_body(pilot):
    errs = errors(pilot, dashboard={"DashboardName": "BoltIT Pilot", "DashboardBody": "{"})
    assert any("DashboardName" in e and "letters, digits" in e for e in errs)
    assert any("DashboardBody: not JSON" in e for e in errs)


def test_bad_topics(pilot):
    errs = errors(pilot, topics=[{"Name": "boltit ml warning", "Severity": "warning"},
                                 {"Name": "boltit-ml-critical", "Severity": "sev1"}])
    assert any("topics[0].Name" in e and "not an SNS topic name" in e for e in errs), errs
    assert any("topics[1].Severity" in e for e in errs)
    assert any("'boltit-ml-warning', which is not in boltit-pilot.topics.json" in e for e in errs)


@pytest.mark.parametrize("expr,ids", [
    ("m1 / m2", ["m1", "m2"]),
    ("IF(m1 > 0.5 AND FILL(m2, 0) == 0, 1, 0)", ["m1", "m2"]),
    ("RATE(m1) * 3600", ["m1"]),
    ("m1 / PERIOD(m1)", ["m1", "m1"]),
    ("IF((t1 + t2) >= 5, b1 / (t1 + t2), 0)", ["t1", "t2", "b1", "t1", "t2"]),
    ("-m1 ^ 2 + 1e-3", ["m1"]),
    ("FILL(m1, REPEAT) || m2", ["m1", "m2"]),
])
def test_math_parser_accepts(expr, ids):
    assert parse_math(expr) == ids


@pytest.mark.parametrize("expr,words", [
    ("", "empty"), ("m1 +", "unexpected end"), ("(m1", "expected ')'"), ("m1 m2", "unexpected 'm2'"),
    ("NOPE(m1)", "unknown function NOPE"), ("IF(m1)", "IF takes 2 to 3 arguments"),
    ("ANOMALY_DETECTION_BAND(m1 + 1, 2)", "first argument must be a metric id"),
    ("Errors / m2", "neither a function call nor a metric id"), ("m1 % 2", "unexpected character '%'"),
    ("AND m1", "needs an operand"),
])
def test_math_parser_rejects(expr, words):
    with pytest.raises(ExprError, match=re.escape(words)):
        parse_math(expr)


def test_math_error_reports_unknown_ids():
    assert math_error("m1 / m2", {"m1"}) == "references unknown id m2"
    assert math_error("m1 / m2", {"m1", "m2"}) is None


def test_rule_parser():
    assert parse_rule('NOT (OK("a") OR INSUFFICIENT_DATA("b")) AND TRUE') == ["a", "b"]
    with pytest.raises(ExprError, match="empty alarm name"):
        parse_rule('ALARM("")')
