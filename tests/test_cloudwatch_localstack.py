"""Seed 002 (BoltIT) end to end in LocalStack: its rendered alarms are put into a CloudWatch that evaluates
them, fed metric data, and their notifications are read back from SNS -> SQS.

The oracle is written here by hand from seed 002, not from the generator: which alarm is which severity,
which topic each severity routes to, and for every scenario which alarms must reach ALARM. Alarms are the
rendered bodies, unchanged; only topic names are resolved to ARNs (as the Pulumi program does).

What LocalStack 4.14 evaluates (``localstack/services/cloudwatch/alarm_scheduler.py``): alarms with
``Statistic`` + ``MetricName`` and one of the four static comparison operators. It does not evaluate metric
math (``Metrics``: the error-rate ratio and the anomaly band) nor ``ExtendedStatistic`` (p95 latency):
those alarms are accepted and stay INSUFFICIENT_DATA, which :func:`test_unevaluated_alarms_are_the_expected_ones`
pins so the coverage gap cannot grow silently. Composite alarms are evaluated only when the rule names its
children by ARN and is an ``OR`` of ``ALARM(...)`` terms (LocalStack's provider_v2 docstring).

Timing: LocalStack evaluates an alarm when it is put, then every ``EvaluationPeriods x Period`` seconds, over
``EvaluationPeriods + max(2, EvaluationPeriods // 3)`` periods back from now. The scenarios put their data
first, so the evaluation at put decides them (seconds, not the seed's 15-minute / 1-hour windows). Recovery
needs a second evaluation; it runs on a time-compressed copy of the catalog (10-second periods, same number
of periods per alarm), ~60 s.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest_cloudwatch import cloudwatch_files
from conftest_localstack import by_arn, deploy_topics, drain, states, wait_for
from generators.cloudwatch.actions import resolve_actions

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).parent / "fixtures" / "seeds" / "alerts"
SERVICE = "boltit-pilot"
NS = "BoltIT/Pilot"

# The oracle, from seed 002 and its catalog's routing (not from the generator).
TOPIC = {"warning": "boltit-ml-warning", "critical": "boltit-ml-critical"}
SEVERITY = {
    "PilotClassificationAccuracyLow": "warning",        # classification_accuracy_7d < 0.90 for 15 min
    "PilotClassificationAccuracyCritical": "critical",  # < 0.85 for 15 min
    "PilotConfidenceLow": "warning",                    # 1-hour average confidence < 0.75
    "PilotConfidenceCritical": "critical",              # < 0.65
    "PilotConfidenceAnomalous": "warning",              # below the anomaly band
    "PilotPredictionErrorRateHigh": "warning",          # errors / predictions > 5 %
    "PilotPredictionErrorRateCritical": "critical",     # > 10 %
    "PilotResponseLatencyHigh": "warning",              # p95 > 3 s
    "PilotResponseLatencyCritical": "critical",         # p95 > 5 s
}
EVALUATED = {"PilotClassificationAccuracyLow", "PilotClassificationAccuracyCritical", "PilotConfidenceLow",
             "PilotConfidenceCritical"}
NOT_EVALUATED = {
    "PilotConfidenceAnomalous": "metric math (ANOMALY_DETECTION_BAND)",
    "PilotPredictionErrorRateHigh": "metric math (errors / predictions)",
    "PilotPredictionErrorRateCritical": "metric math (errors / predictions)",
    "PilotResponseLatencyHigh": "ExtendedStatistic p95",
    "PilotResponseLatencyCritical": "ExtendedStatistic p95",
}


def full(alert: str) -> str:
    return f"{SERVICE}-{alert}"


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory):
    from generators.loader import load_catalog

    return cloudwatch_files(load_catalog(FIXTURE), "prod")[SERVICE]


def put_data(cw, metric: str, values_by_age: dict[int, float], unit: str = "None"):
    """One datapoint per ``{seconds ago: value}``."""
    now = dt.datetime.now(dt.timezone.utc)
    cw.put_metric_data(Namespace=NS, MetricData=[
        {"MetricName": metric, "Timestamp": now - dt.timedelta(seconds=age), "Value": v, "Unit": unit}
        for age, v in values_by_age.items()])


def deploy(localstack, files, composites=()):
    account = localstack.new_account()
    cw, sqs = localstack.client("cloudwatch", account), localstack.client("sqs", account)
    arns, queues = deploy_topics(localstack, account, files["topics"])
    for body in files["alarms"]:
        cw.put_metric_alarm(**resolve_actions(body, arns))
    for body in composites:
        cw.put_composite_alarm(**resolve_actions(body, arns))
    return account, cw, sqs, arns, queues


def collect(sqs, queues, expected: Counter, timeout: float = 15.0) -> Counter:
    """Notifications until ``expected`` arrived (or ``timeout``), then one more second for extras."""
    got: Counter = Counter()

    def arrived():
        got.update(drain(sqs, queues))
        return not (expected - got)

    wait_for(arrived, timeout)
    time.sleep(1.0)
    got.update(drain(sqs, queues))
    return got


# Scenarios: metric data put before the alarms, evaluated when the alarms are put. ``accuracy`` lists the
# 5-minute values oldest first (the last is the current period); ``confidence`` is the last hour's value.
SCENARIOS = {
    "healthy data: every evaluated alarm goes OK and tells its own topic":
        dict(accuracy=[0.95, 0.95, 0.95], confidence=0.90, alarm=set()),
    "accuracy 0.87 for 15 minutes breaches the warning level only":
        dict(accuracy=[0.87, 0.87, 0.87], confidence=0.90, alarm={"PilotClassificationAccuracyLow"}),
    "accuracy 0.80 for 15 minutes breaches warning and critical, each on its own topic":
        dict(accuracy=[0.80, 0.80, 0.80], confidence=0.90,
             alarm={"PilotClassificationAccuracyLow", "PilotClassificationAccuracyCritical"}),
    "accuracy exactly 0.90 is not below 0.90":
        dict(accuracy=[0.90, 0.90, 0.90], confidence=0.90, alarm=set()),
    "accuracy below 0.90 in 2 of the 3 periods does not alarm (15 minutes = 3 of 3 periods)":
        dict(accuracy=[0.95, 0.87, 0.87], confidence=0.90, alarm=set()),
    "confidence 0.70 over the hour breaches the warning level only":
        dict(accuracy=[0.95, 0.95, 0.95], confidence=0.70, alarm={"PilotConfidenceLow"}),
    "confidence 0.60 over the hour breaches warning and critical":
        dict(accuracy=[0.95, 0.95, 0.95], confidence=0.60, alarm={"PilotConfidenceLow", "PilotConfidenceCritical"}),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_rendered_alarms_evaluate_as_the_seed_says(localstack, seed_files, scenario):
    s = SCENARIOS[scenario]
    account = localstack.new_account()
    cw, sqs = localstack.client("cloudwatch", account), localstack.client("sqs", account)
    arns, queues = deploy_topics(localstack, account, seed_files["topics"])
    assert set(arns) == set(TOPIC.values())
    # Data first (breaching data for the alarms LocalStack does not evaluate, too: they must stay unchecked).
    put_data(cw, "classification_accuracy_7d", {150 + 300 * i: v for i, v in enumerate(reversed(s["accuracy"]))})
    put_data(cw, "prediction_confidence", {1800: s["confidence"]})
    put_data(cw, "predictions", {60: 100.0, 360: 100.0}, "Count")
    put_data(cw, "prediction_errors", {60: 30.0, 360: 30.0}, "Count")
    put_data(cw, "response_latency", {60: 9.0, 360: 9.0}, "Seconds")
    for body in seed_files["alarms"]:
        cw.put_metric_alarm(**resolve_actions(body, arns))
    names = [full(a) for a in SEVERITY]

    def evaluated():
        now = states(cw, names)
        return now if all(now[full(a)][1] != "Unchecked: Initial alarm creation" for a in EVALUATED) else None

    got = wait_for(evaluated, 20.0)
    assert got, f"LocalStack did not evaluate the alarms within 20 s: {states(cw, names)}\n{localstack.log_tail()}"
    expected_state = {full(a): ("ALARM" if a in s["alarm"] else "OK") for a in EVALUATED}
    expected_state.update({full(a): "INSUFFICIENT_DATA" for a in NOT_EVALUATED})
    assert {n: v for n, (v, _) in got.items()} == expected_state

    # One notification per transition, on the topic of the alarm's severity: ALARM actions for the
    # breached ones, OK actions for the others (INSUFFICIENT_DATA -> OK runs OK actions, as in CloudWatch).
    expected = Counter((TOPIC[SEVERITY[a]], full(a), "ALARM" if a in s["alarm"] else "OK", "INSUFFICIENT_DATA")
                       for a in EVALUATED)
    assert collect(sqs, queues, expected) == expected


def test_unevaluated_alarms_are_the_expected_ones(seed_files):
    """The alarms this file cannot prove in LocalStack are exactly the metric-math and percentile ones: a new
    alarm shape that LocalStack does not evaluate must be added to NOT_EVALUATED knowingly."""
    simple = {b["AlarmName"] for b in seed_files["alarms"] if "Statistic" in b and "MetricName" in b}
    assert {b["AlarmName"] for b in seed_files["alarms"]} == {full(a) for a in SEVERITY}
    assert simple == {full(a) for a in EVALUATED}
    for body in seed_files["alarms"]:
        alert = body["AlarmName"].removeprefix(f"{SERVICE}-")
        if alert in NOT_EVALUATED:
            assert "Metrics" in body or "ExtendedStatistic" in body, alert


def test_rendered_composite_is_accepted_and_reads_back(localstack, seed_files):
    """moto cannot even store it; LocalStack stores the rendered composite (children by name) unchanged. It
    does not evaluate a rule naming children by name: evaluation is proven by ARN below."""
    account, cw, sqs, arns, queues = deploy(localstack, seed_files, seed_files["composites"])
    for body in seed_files["composites"]:
        r = cw.describe_alarms(AlarmNames=[body["AlarmName"]], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
        assert [c["AlarmRule"] for c in r] == [body["AlarmRule"]]
        assert r[0].get("AlarmActions", []) == resolve_actions(body, arns).get("AlarmActions", [])


# ----------------------------------------------------------------------------------------------
# Recovery and the composite roll-up, on a time-compressed copy of the catalog


def compressed_catalog(tmp_path: Path):
    """The fixture catalog with 10-second periods, the same number of periods per alarm as the seed
    (accuracy: 3 of 3, confidence: 1 of 1), and the roll-up composite notifying the critical topic."""
    from generators.loader import load_catalog

    d = tmp_path / "boltit-fast"
    d.mkdir()
    shutil.copy(FIXTURE / "_defaults.yaml", d)
    doc = yaml.safe_load((FIXTURE / "boltit-pilot.yaml").read_text())
    doc["source"]["composite_severity"] = "critical"
    doc["metrics"]["classification_accuracy_7d"]["cloudwatch"]["period"] = "10s"
    doc["metrics"]["prediction_confidence"]["cloudwatch"] = {"period": "10s"}
    for mon in doc["monitors"]:
        if mon["name"] == "PilotClassificationAccuracy":
            for level in mon["levels"]:
                level["for"] = "30s"
        elif mon["name"] == "PilotConfidence":
            mon["smoothing"]["window"] = "10s"
            mon["cloudwatch"].pop("anomaly_band")
            for level in mon["levels"]:
                level["for"] = "10s"
    doc["monitors"] = [m for m in doc["monitors"] if m["name"] in ("PilotClassificationAccuracy", "PilotConfidence")]
    (d / "boltit-pilot.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return cloudwatch_files(load_catalog(d), "prod")[SERVICE]


def test_alarms_recover_and_ok_actions_follow(localstack, tmp_path):
    files = compressed_catalog(tmp_path)
    bodies = {b["AlarmName"]: b for b in files["alarms"]}
    assert {n: (b["Period"], b["EvaluationPeriods"], b["DatapointsToAlarm"]) for n, b in bodies.items()} == {
        full("PilotClassificationAccuracyLow"): (10, 3, 3), full("PilotClassificationAccuracyCritical"): (10, 3, 3),
        full("PilotConfidenceLow"): (10, 1, 1), full("PilotConfidenceCritical"): (10, 1, 1)}
    account = localstack.new_account()
    cw, sqs = localstack.client("cloudwatch", account), localstack.client("sqs", account)
    arns, queues = deploy_topics(localstack, account, files["topics"])
    # The roll-up names its children by ARN: the same rule for CloudWatch, the form LocalStack evaluates.
    (composite,) = files["composites"]
    composite = {**resolve_actions(composite, arns), "AlarmRule": by_arn(composite["AlarmRule"], account)}
    for body in files["alarms"]:
        cw.put_metric_alarm(**resolve_actions(body, arns))
    cw.put_composite_alarm(**composite)
    names = [*bodies, composite["AlarmName"]]

    def feed(accuracy, confidence):
        def tick():
            put_data(cw, "classification_accuracy_7d", {0: accuracy})
            put_data(cw, "prediction_confidence", {0: confidence})
        return tick

    def all_in(state):
        def check():
            now = states(cw, names)
            return now if all(v == state for v, _ in now.values()) else None
        return check

    t0 = time.monotonic()
    assert wait_for(all_in("ALARM"), 50.0, 1.0, feed(0.80, 0.60)), states(cw, names)
    t_alarm = time.monotonic() - t0
    t1 = time.monotonic()
    assert wait_for(all_in("OK"), 60.0, 1.0, feed(0.95, 0.90)), states(cw, names)
    t_ok = time.monotonic() - t1
    print(f"LocalStack: all ALARM {t_alarm:.1f}s after breaching data started, all OK {t_ok:.1f}s after it recovered")

    alarm_topics = {n: TOPIC[SEVERITY[n.removeprefix(f'{SERVICE}-')]] for n in bodies}
    alarm_topics[composite["AlarmName"]] = TOPIC["critical"]
    expected = Counter()
    for name, topic in alarm_topics.items():
        expected[(topic, name, "ALARM", "INSUFFICIENT_DATA")] += 1
        expected[(topic, name, "OK", "ALARM")] += 1
    assert collect(sqs, queues, expected) == expected
