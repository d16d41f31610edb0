"""Every rendered CloudWatch body goes through boto3 into a moto server on 127.0.0.1 and reads back equal.

SNS topics from ``<service>.topics.json`` are created first; actions are resolved with
``generators.cloudwatch.actions.resolve_actions`` exactly as the Pulumi program does.
"""

from __future__ import annotations

import copy
import json

import pytest

from conftest_cloudwatch import aws_clients, cloudwatch_files, kinds_catalog, moto_endpoint, seed_catalog  # noqa: F401
from generators.cloudwatch.actions import resolve_actions
from generators.cloudwatch.validate import validate_service

pytestmark = pytest.mark.slow

# Fields CloudWatch answers with in describe_alarms exactly as they were put.
COMPARED = ("AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "Namespace", "MetricName",
            "Dimensions", "Statistic", "ExtendedStatistic", "Period", "Unit", "EvaluationPeriods",
            "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData", "Metrics",
            "ThresholdMetricId")


def deploy(endpoint, region, service, files):
    """Create topics, resolve actions, put every body; return (cloudwatch client, resolved bodies)."""
    cw, sns = aws_clients(endpoint, region)
    arns = {t["Name"]: sns.create_topic(Name=t["Name"])["TopicArn"] for t in files["topics"]}
    alarms = [resolve_actions(b, arns) for b in files["alarms"]]
    composites = [resolve_actions(b, arns) for b in files["composites"]]
    for b in alarms:
        cw.put_metric_alarm(**b)
    for b in composites:
        cw.put_composite_alarm(**b)
    cw.put_dashboard(**files["dashboard"])
    return cw, sns, arns, alarms, composites


def describe_all(cw, names):
    out = {}
    for i in range(0, len(names), 100):
        r = cw.describe_alarms(AlarmNames=names[i:i + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        out.update({a["AlarmName"]: a for a in r["MetricAlarms"] + r["CompositeAlarms"]})
    return out


def roundtrip(endpoint, catalog, env):
    for service, files in cloudwatch_files(catalog, env).items():
        region = catalog.service(service).source.region
        assert validate_service(service, files["alarms"], files["composites"], files["dashboard"],
                                files["topics"]) == []
        cw, sns, arns, alarms, composites = deploy(endpoint, region, service, files)
        # topics exist under the names the artifacts use
        listed = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
        assert set(arns.values()) <= listed
        got = describe_all(cw, [b["AlarmName"] for b in alarms + composites])
        assert set(got) == {b["AlarmName"] for b in alarms + composites}
        for body in alarms:
            back = got[body["AlarmName"]]
            for field in COMPARED:
                if field in body:
                    assert back[field] == body[field], (body["AlarmName"], field)
            for field in ("AlarmActions", "OKActions"):
                assert all(a.startswith("arn:aws:sns:") for a in back.get(field, []))
            tags = cw.list_tags_for_resource(ResourceARN=back["AlarmArn"])["Tags"]
            assert tags == body["Tags"]
        for body in composites:
            back = got[body["AlarmName"]]
            for field in ("AlarmRule", "AlarmDescription", "AlarmActions", "OKActions"):
                if field in body:
                    assert back[field] == body[field], (body["AlarmName"], field)
        dash = cw.get_dashboard(DashboardName=files["dashboard"]["DashboardName"])
        assert json.loads(dash["DashboardBody"]) == json.loads(files["dashboard"]["DashboardBody"])
        yield service, alarms, composites, arns


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_seed_catalog_roundtrips_through_moto(moto_endpoint, env):
    done = list(roundtrip(moto_endpoint, seed_catalog(), env))
    assert [d[0] for d in done] == ["boltit-pilot"]
    service, alarms, composites, arns = done[0]
    warning = next(b for b in alarms if b["AlarmName"] == "boltit-pilot-PilotClassificationAccuracyLow")
    assert warning["AlarmActions"] == [arns["boltit-ml-warning"]]
    assert len(alarms) == 9 and len(composites) == 1


def test_every_kind_roundtrips_through_moto(moto_endpoint, tmp_path):
    cat = kinds_catalog(tmp_path)
    for env in ("dev", "prod"):
        done = list(roundtrip(moto_endpoint, cat, env))
        assert [d[0] for d in done] == ["cw-kinds"]
        _, alarms, composites, _ = done[0]
        assert any("Metrics" in b for b in alarms) and any("ThresholdMetricId" in b for b in alarms)
        assert len(composites) == 3  # fast burn, slow burn, service health


def test_composite_rule_references_resolve_in_moto(moto_endpoint):
    files = cloudwatch_files(seed_catalog(), "prod")["boltit-pilot"]
    cw, *_ = deploy(moto_endpoint, "us-east-1", "boltit-pilot", files)
    from generators.cloudwatch.mathexpr import parse_rule

    (health,) = files["composites"]
    names = parse_rule(health["AlarmRule"])
    assert set(describe_all(cw, names)) == set(names)


# Bodies CloudWatch rejects that moto stores without complaint: the reason mlmon validates itself.
MOTO_ACCEPTS = [
    ("Period 45", lambda b: b.update(Period=45), "not a valid period"),
    ("bogus operator", lambda b: b.update(ComparisonOperator="Bogus"), "is not one of"),
    ("datapoints > periods", lambda b: b.update(DatapointsToAlarm=9), "exceeds EvaluationPeriods"),
    ("two days of 1m periods", lambda b: b.update(Period=60, EvaluationPeriods=2880, DatapointsToAlarm=1),
     "at most 86400"),
    ("statistic and percentile", lambda b: b.update(ExtendedStatistic="p90"), "exactly one of"),
]


@pytest.mark.parametrize("what,fn,words", MOTO_ACCEPTS, ids=[m[0] for m in MOTO_ACCEPTS])
def test_validator_rejects_what_moto_accepts(moto_endpoint, what, fn, words):
    files = copy.deepcopy(cloudwatch_files(seed_catalog(), "prod")["boltit-pilot"])
    bad = files["alarms"][0]
    fn(bad)
    bad["AlarmName"] = f"invalid-{what.replace(' ', '-')}"
    errs = validate_service("boltit-pilot", [bad], [], None, files["topics"])
    assert any(words in e for e in errs), errs
    cw, sns = aws_clients(moto_endpoint, "us-east-1")
    arns = {t["Name"]: sns.create_topic(Name=t["Name"])["TopicArn"] for t in files["topics"]}
    cw.put_metric_alarm(**resolve_actions(bad, arns))  # moto takes it
    assert describe_all(cw, [bad["AlarmName"]])[bad["AlarmName"]]["AlarmName"] == bad["AlarmName"]


def test_two_return_data_metrics_moto_accepts(moto_endpoint):
    files = copy.deepcopy(cloudwatch_files(seed_catalog(), "prod")["boltit-pilot"])
    bad = next(b for b in files["alarms"] if "Metrics" in b and "ThresholdMetricId" not in b)
    bad["Metrics"][0]["ReturnData"] = True
    bad["AlarmName"] = "invalid-two-return-data"
    assert any("exactly one query must have ReturnData true" in e
               for e in validate_service("boltit-pilot", [bad], [], None, files["topics"]))
    cw, sns = aws_clients(moto_endpoint, "us-east-1")
    arns = {t["Name"]: sns.create_topic(Name=t["Name"])["TopicArn"] for t in files["topics"]}
    cw.put_metric_alarm(**resolve_actions(bad, arns))
    back = describe_all(cw, [bad["AlarmName"]])[bad["AlarmName"]]
    assert [q["ReturnData"] for q in back["Metrics"]] == [True, False, True]
