"""CloudWatch rendering: seed 002 in full, every monitor kind, naming, determinism, botocore validation."""

from __future__ import annotations

import json

import pytest

from conftest_cloudwatch import CATALOG, cloudwatch_files, kinds_catalog, seed_catalog


@pytest.fixture(scope="module")
def seed():
    return seed_catalog()


def by_name(bodies):
    return {b["AlarmName"]: b for b in bodies}


def test_seed_002_alarms_in_full(seed):
    files = cloudwatch_files(seed, "prod")
    assert set(files) == {"boltit-pilot"}  # only the CloudWatch-sourced service
    f = files["boltit-pilot"]
    alarms = by_name(f["alarms"])
    assert list(alarms) == [
        "boltit-pilot-PilotClassificationAccuracyLow", "boltit-pilot-PilotClassificationAccuracyCritical",
        "boltit-pilot-PilotConfidenceLow", "boltit-pilot-PilotConfidenceCritical",
        "boltit-pilot-PilotConfidenceAnomalous",
        "boltit-pilot-PilotPredictionErrorRateHigh", "boltit-pilot-PilotPredictionErrorRateCritical",
        "boltit-pilot-PilotResponseLatencyHigh", "boltit-pilot-PilotResponseLatencyCritical",
    ]
    acc = alarms["boltit-pilot-PilotClassificationAccuracyLow"]
    assert (acc["Namespace"], acc["MetricName"], acc["Statistic"], acc["Period"]) == \
        ("BoltIT/Pilot", "classification_accuracy_7d", "Average", 300)
    assert (acc["Threshold"], acc["ComparisonOperator"]) == (0.9, "LessThanThreshold")
    assert (acc["EvaluationPeriods"], acc["DatapointsToAlarm"]) == (3, 3)  # for 15m at the 5m resolution
    assert acc["AlarmActions"] == acc["OKActions"] == ["boltit-ml-warning"]
    crit = alarms["boltit-pilot-PilotClassificationAccuracyCritical"]
    assert (crit["Threshold"], crit["AlarmActions"]) == (0.85, ["boltit-ml-critical"])
    conf = alarms["boltit-pilot-PilotConfidenceLow"]
    assert (conf["Statistic"], conf["Period"], conf["Threshold"], conf["EvaluationPeriods"]) == \
        ("Average", 3600, 0.75, 1)
    err = alarms["boltit-pilot-PilotPredictionErrorRateHigh"]
    assert "MetricName" not in err and err["Threshold"] == 0.05
    assert [(q["Id"], q.get("Expression") or q["MetricStat"]["Metric"]["MetricName"], q["ReturnData"])
            for q in err["Metrics"]] == [("m1", "prediction_errors", False), ("m2", "predictions", False),
                                          ("e1", "IF(m2 >= 5, m1 / m2)", True)]
    # low-traffic guard: fewer than 1 prediction a minute (5 per 5m period) gives no datapoint, not a breach
    assert {q["MetricStat"]["Stat"] for q in err["Metrics"][:2]} == {"Sum"}
    assert err["TreatMissingData"] == "notBreaching"
    lat = alarms["boltit-pilot-PilotResponseLatencyHigh"]
    assert (lat["ExtendedStatistic"], lat["Threshold"], lat["ComparisonOperator"]) == \
        ("p95", 3.0, "GreaterThanThreshold")
    assert "Statistic" not in lat
    assert alarms["boltit-pilot-PilotResponseLatencyCritical"]["Threshold"] == 5.0
    band = alarms["boltit-pilot-PilotConfidenceAnomalous"]
    assert band["ThresholdMetricId"] == "ad1" and "Threshold" not in band
    assert band["ComparisonOperator"] == "LessThanLowerThreshold"
    assert band["Metrics"][1]["Expression"] == "ANOMALY_DETECTION_BAND(m1, 2)"
    assert f["topics"] == [{"Name": "boltit-ml-warning", "Severity": "warning"},
                           {"Name": "boltit-ml-critical", "Severity": "critical"}]


def test_descriptions_carry_summary_and_runbook(seed):
    from generators.alertmeta import runbook_url, summary
    from generators.cloudwatch.alarms import alarm_specs
    from generators.resolve import resolve

    rs = next(r for r in resolve(seed, "prod") if r.name == "boltit-pilot")
    specs = {s.alert: s for s in alarm_specs(rs) if s.role == "alert"}
    for a in rs.alerts:
        desc = specs[a.name].body["AlarmDescription"]
        assert desc.startswith(summary(a, rs).rstrip("."))
        assert f"Runbook: {runbook_url(a, rs)}" in desc
        assert "#dashboards:name=BoltIT-Pilot" in desc
        assert len(desc) <= 1024


def test_composite_rolls_up_every_alarm(seed):
    f = cloudwatch_files(seed, "prod")["boltit-pilot"]
    (health,) = f["composites"]
    assert health["AlarmName"] == "boltit-pilot-health"
    from generators.cloudwatch.mathexpr import parse_rule

    assert parse_rule(health["AlarmRule"]) == [b["AlarmName"] for b in f["alarms"]]
    assert "AlarmActions" not in health  # composite_severity not set: a roll-up without notifications


def test_dashboard_widget_per_monitor_with_threshold_annotations(seed):
    f = cloudwatch_files(seed, "prod")["boltit-pilot"]
    dash = f["dashboard"]
    assert dash["DashboardName"] == "BoltIT-Pilot"
    body = json.loads(dash["DashboardBody"])
    metric_widgets = [w for w in body["widgets"] if w["type"] == "metric"]
    assert len(metric_widgets) == 4
    first = metric_widgets[0]["properties"]
    assert first["metrics"][0][:2] == ["BoltIT/Pilot", "classification_accuracy_7d"]
    assert [a["value"] for a in first["annotations"]["horizontal"]] == [0.9, 0.85]
    conf = metric_widgets[1]["properties"]
    assert [m[0].get("expression") for m in conf["metrics"][1:]] == ["ANOMALY_DETECTION_BAND(m1, 2)"]
    lat = metric_widgets[3]["properties"]
    assert lat["metrics"][0][-1]["stat"] == "p95"
    assert [a["value"] for a in lat["annotations"]["horizontal"]] == [3, 5]
    # two per row, inside the 24-column grid
    assert [(w["x"], w["y"]) for w in metric_widgets] == [(0, 3), (12, 3), (0, 9), (12, 9)]


def test_render_is_deterministic(seed):
    from generators.render import render, serialize_all

    a = {k: v for k, v in serialize_all(render(seed, "staging")).items() if k.startswith("cloudwatch/")}
    b = {k: v for k, v in serialize_all(render(seed_catalog(), "staging")).items() if k.startswith("cloudwatch/")}
    assert a == b and len(a) == 4


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_seed_bodies_pass_botocore_model_and_cloudwatch_rules(seed, env):
    from generators.cloudwatch.validate import validate_service

    for svc, f in cloudwatch_files(seed, env).items():
        assert validate_service(svc, f["alarms"], f["composites"], f["dashboard"], f["topics"]) == []


def test_every_kind_maps(tmp_path):
    cat = kinds_catalog(tmp_path)
    f = cloudwatch_files(cat, "prod")["cw-kinds"]
    a = by_name(f["alarms"])
    score = a["cw-kinds-ScoreLowWarning-prod"]
    assert (score["MetricName"], score["ExtendedStatistic"], score["Period"], score["Unit"]) == \
        ("ModelScore", "p10", 600, "None")
    assert score["Dimensions"] == [{"Name": "Model", "Value": "v2"}, {"Name": "Stage", "Value": "live"},
                                   {"Name": "Tenant", "Value": "acme"}]
    assert (score["EvaluationPeriods"], score["DatapointsToAlarm"]) == (2, 2)  # for 20m / 10m windows
    flag = a["cw-kinds-ModelDegraded-prod"]
    assert (flag["Statistic"], flag["ComparisonOperator"], flag["Threshold"]) == \
        ("Maximum", "GreaterThanOrEqualToThreshold", 1.0)
    trend = a["cw-kinds-ScoreFalling-prod"]
    assert trend["Metrics"][-1]["Expression"] == "RATE(m1) * 3600"
    assert trend["Metrics"][0]["MetricStat"]["Period"] == 3 * 3600  # halves of the 6h window
    assert (trend["EvaluationPeriods"], trend["DatapointsToAlarm"]) == (2, 1)  # RATE needs the previous point
    assert trend["TreatMissingData"] == "ignore"  # per-monitor override
    fail = a["cw-kinds-FailuresSeen-prod"]
    assert (fail["Statistic"], fail["Period"], fail["Threshold"], fail["TreatMissingData"]) == \
        ("Sum", 900, 0.0, "notBreaching")
    rate = a["cw-kinds-FailureRate-prod"]
    assert rate["Metrics"][-1]["Expression"] == "m1 / PERIOD(m1)"
    stalled = a["cw-kinds-QueueStalled-prod"]
    assert stalled["Metrics"][-1]["Expression"] == "IF(m1 > 0 AND FILL(m2, 0) == 0, 1, 0)"
    lat = a["cw-kinds-LatencyHigh-prod"]
    assert (lat["ExtendedStatistic"], lat["Threshold"], lat["Unit"], lat["Period"]) == \
        ("p99", 2000.0, "Milliseconds", 300)  # 2 s in the histogram's milliseconds
    absent = a["cw-kinds-HeartbeatMissing-prod"]
    assert (absent["Statistic"], absent["ComparisonOperator"], absent["TreatMissingData"],
            absent["EvaluationPeriods"]) == ("SampleCount", "LessThanThreshold", "breaching", 10)
    # ratio SLO: a long and a short window alarm per burn pair, combined by a composite per alert
    windows = [n for n in a if n.startswith("cw-kinds-SuccessFastBurn-")]
    assert windows == ["cw-kinds-SuccessFastBurn-1h-5m-long-prod", "cw-kinds-SuccessFastBurn-1h-5m-short-prod",
                       "cw-kinds-SuccessFastBurn-6h-30m-long-prod", "cw-kinds-SuccessFastBurn-6h-30m-short-prod"]
    long1h = a[windows[0]]
    assert long1h["Threshold"] == pytest.approx(14.4 * 0.01)
    assert long1h["Metrics"][-1]["Expression"] == "IF((t1 + t2) >= 60, b1 / (t1 + t2), 0)"
    assert "AlarmActions" not in long1h  # building blocks notify through their composite
    comps = by_name(f["composites"])
    fast = comps["cw-kinds-SuccessFastBurn-prod"]
    assert fast["AlarmRule"] == ('(ALARM("cw-kinds-SuccessFastBurn-1h-5m-long-prod") AND '
                                 'ALARM("cw-kinds-SuccessFastBurn-1h-5m-short-prod")) OR '
                                 '(ALARM("cw-kinds-SuccessFastBurn-6h-30m-long-prod") AND '
                                 'ALARM("cw-kinds-SuccessFastBurn-6h-30m-short-prod"))')
    assert fast["AlarmActions"] == ["kinds-pager-prod"]  # routing names the topic, env_suffix appends -prod
    health = comps["cw-kinds-health-prod"]
    assert list(comps)[-1] == "cw-kinds-health-prod"  # children first
    assert health["AlarmActions"] == ["kinds-pager-prod"]  # composite_severity: page
    assert "cw-kinds-SuccessFastBurn-prod" in health["AlarmRule"]
    assert "SuccessFastBurn-1h-5m-long" not in health["AlarmRule"]
    assert f["dashboard"]["DashboardName"] == "CW-Kinds-prod"
    topics = {t["Name"]: t["Severity"] for t in f["topics"]}
    assert topics == {"cw-kinds-ticket-prod": "ticket", "cw-kinds-warning-prod": "warning",
                      "cw-kinds-critical-prod": "critical", "kinds-pager-prod": "page"}
    from generators.cloudwatch.validate import validate_service

    assert validate_service("cw-kinds", f["alarms"], f["composites"], f["dashboard"], f["topics"]) == []


def test_environment_overrides_reach_the_alarms(tmp_path):
    cat = kinds_catalog(tmp_path)
    dev = by_name(cloudwatch_files(cat, "dev")["cw-kinds"]["alarms"])
    assert "cw-kinds-ScoreLowWarning-dev" in dev
    assert not any("ScoreLowCritical" in n for n in dev)  # disabled in dev by an override


def test_long_summary_is_cut_but_links_survive():
    from generators.cloudwatch.alarms import description

    class RS:
        class service:
            class links:
                dashboard = "https://dash.example.com/x"
    text = description("x" * 5000, "a > 1", "Average, 1m periods", RS, "https://runbooks.example.com/a")
    assert len(text) == 1024
    assert text.endswith("Runbook: https://runbooks.example.com/a\nDashboard: https://dash.example.com/x")


def test_standard_units_match_botocore():
    from generators.cloudwatch.model import STANDARD_UNITS, STATISTICS
    from generators.cloudwatch.validate import service_model

    m = service_model()
    assert tuple(m.shape_for("StandardUnit").enum) == STANDARD_UNITS
    assert set(m.shape_for("Statistic").enum) == set(STATISTICS)


def test_render_writes_the_four_files(tmp_path):
    from generators.cli import main

    out = tmp_path / "out"
    assert main(["render", "--env", "prod", "--out", str(out), "--catalog", str(CATALOG)]) == 0
    names = sorted(p.name for p in (out / "cloudwatch").iterdir())
    assert names == ["boltit-pilot.composite.json", "boltit-pilot.dashboard.json", "boltit-pilot.json",
                     "boltit-pilot.topics.json"]
    assert not (out / "prometheus" / "boltit-pilot.rules.yaml").exists()
