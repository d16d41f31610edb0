"""Artifact objects -> typed Pulumi resource arguments (generators/deploy/mapping.py), and `mlmon plan`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest_deploy import ROOT, SEEDS, rendered

from generators.deploy import mapping
from generators.deploy.mapping import MappingError


def test_unknown_kind_is_an_error_naming_it():
    with pytest.raises(MappingError) as exc:
        mapping.kube_object({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}, "k/a.yaml")
    assert "k/a.yaml" in str(exc.value) and "apps/v1" in str(exc.value) and "Deployment" in str(exc.value)


def test_same_kind_other_api_version_is_unknown():
    with pytest.raises(MappingError, match="batch/v1beta1"):
        mapping.kube_object({"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "x"}}, "w")


def test_unknown_top_level_field_is_an_error_not_dropped():
    with pytest.raises(MappingError, match="status"):
        mapping.kube_object({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"},
                             "spec": {}, "status": {}}, "w")


def test_missing_name_is_an_error():
    with pytest.raises(MappingError, match="metadata.name"):
        mapping.kube_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "w")


def test_manifest_round_trips_and_is_not_modified():
    """The mapping is by type only: namespaces and labels stay exactly as rendered."""
    m = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "rb", "namespace": "crew", "labels": {"release": "a"}},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
         "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "crew"}]}
    before = json.dumps(m)
    o = mapping.kube_object(m, "w")
    assert json.dumps(m) == before
    assert o.name == "crew/rb"
    assert o.args["role_ref"]["name"] == "r"
    assert o.manifest() == m


def test_metric_alarm_arguments():
    body = {
        "AlarmName": "A", "ComparisonOperator": "LessThanThreshold", "EvaluationPeriods": 3, "Threshold": 0.9,
        "DatapointsToAlarm": 2, "TreatMissingData": "breaching", "ActionsEnabled": True,
        "AlarmActions": ["t"], "OKActions": ["t"], "InsufficientDataActions": ["u"],
        "Tags": [{"Key": "env", "Value": "prod"}], "ThresholdMetricId": "ad",
        "Metrics": [
            {"Id": "m1", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "BoltIT/Pilot", "MetricName": "errors",
                           "Dimensions": [{"Name": "Model", "Value": "pilot"}]},
                "Period": 300, "Stat": "p95", "Unit": "Seconds"}},
            {"Id": "ad", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "Label": "band", "ReturnData": True}],
    }
    args = mapping.metric_alarm_args(body, "cloudwatch/x.json[0]")
    assert args["name"] == "A"
    assert args["comparison_operator"] == "LessThanThreshold"
    assert args["treat_missing_data"] == "breaching"
    assert args["insufficient_data_actions"] == ["u"]
    assert args["tags"] == {"env": "prod"}
    assert args["threshold_metric_id"] == "ad"
    assert args["metric_queries"][0] == {"id": "m1", "return_data": False, "metric": {
        "namespace": "BoltIT/Pilot", "metric_name": "errors", "dimensions": {"Model": "pilot"},
        "period": 300, "stat": "p95", "unit": "Seconds"}}
    assert args["metric_queries"][1] == {"id": "ad", "expression": "ANOMALY_DETECTION_BAND(m1, 2)",
                                         "label": "band", "return_data": True}
    simple = mapping.metric_alarm_args({"AlarmName": "B", "MetricName": "lat", "Namespace": "N",
                                        "ExtendedStatistic": "p95", "Period": 60,
                                        "Dimensions": [{"Name": "d", "Value": "v"}],
                                        "EvaluateLowSampleCountPercentile": "ignore"}, "w")
    assert simple == {"name": "B", "metric_name": "lat", "namespace": "N", "extended_statistic": "p95",
                      "period": 60, "dimensions": {"d": "v"}, "evaluate_low_sample_count_percentiles": "ignore"}


def test_unknown_boto3_parameter_is_an_error():
    with pytest.raises(MappingError, match="AlarmColour"):
        mapping.metric_alarm_args({"AlarmName": "A", "AlarmColour": "red"}, "cloudwatch/x.json[0]")
    with pytest.raises(MappingError, match="Foo"):
        mapping.metric_alarm_args({"AlarmName": "A", "Metrics": [{"Id": "m", "Foo": 1}]}, "w")
    with pytest.raises(MappingError, match="AlarmName"):
        mapping.metric_alarm_args({"Threshold": 1}, "w")


def test_composite_alarm_suppressor():
    args = mapping.composite_alarm_args({"AlarmName": "C", "AlarmRule": 'ALARM("A")', "ActionsSuppressor": "A",
                                         "ActionsSuppressorWaitPeriod": 120,
                                         "ActionsSuppressorExtensionPeriod": 60}, "w")
    assert args == {"alarm_name": "C", "alarm_rule": 'ALARM("A")',
                    "actions_suppressor": {"alarm": "A", "wait_period": 120, "extension_period": 60}}
    with pytest.raises(MappingError, match="without ActionsSuppressor"):
        mapping.composite_alarm_args({"AlarmName": "C", "AlarmRule": "x", "ActionsSuppressorWaitPeriod": 1}, "w")


def test_dashboard_and_topics():
    assert mapping.dashboard_args({"DashboardName": "D", "DashboardBody": "{}"}, "w") == \
        {"dashboard_name": "D", "dashboard_body": "{}"}
    with pytest.raises(MappingError, match="DashboardBody"):
        mapping.dashboard_args({"DashboardName": "D"}, "w")
    assert mapping.topics([{"Name": "t", "Severity": "page"}], "w") == [("t", "page")]
    with pytest.raises(MappingError, match=r"w\[0\]"):
        mapping.topics([{"Name": "t"}], "w")


def test_action_topics_first_seen_order():
    assert mapping.action_topics({"AlarmActions": ["b", "a"], "OKActions": ["a", "c"]}) == ["b", "a", "c"]
    # an ARN names no topic of the stack: passed through as it is
    arn = "arn:aws:sns:us-east-1:123456789012:external"
    assert mapping.action_topics({"AlarmActions": [arn, "a"]}) == ["a"]


def test_composite_children_from_the_rule_and_the_suppressor():
    body = {"AlarmName": "C", "ActionsSuppressor": "maintenance",
            "AlarmRule": '(ALARM("svc-x-1h-5m-long") AND ALARM("svc-x-1h-5m-short")) OR OK(bare-name) '
                         'OR INSUFFICIENT_DATA( "spaced" ) OR ALARM("svc-x-1h-5m-long") '
                         'OR ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:elsewhere") OR TRUE'}
    assert mapping.composite_children(body) == ["svc-x-1h-5m-long", "svc-x-1h-5m-short", "bare-name", "spaced",
                                                "maintenance"]
    # the render's own composite: every alarm of the service, by name
    _, artifacts = rendered("prod")
    (health,) = next(a.content for a in artifacts if a.path.endswith(".composite.json"))
    alarms = [b["AlarmName"] for b in next(a.content for a in artifacts if a.path == "cloudwatch/boltit-pilot.json")]
    assert mapping.composite_children(health) == alarms


def _fake_plan(artifacts):
    """Plan synthetic artifacts of a service that does not exist in the catalog (no render registry)."""
    from generators.deploy.config import parse
    from generators.deploy.program import plan

    return plan(parse({"mlmon:environment": "dev", "mlmon:outputs": '["cloudwatch"]'}), artifacts)


def _alarm(name, topic="zz-fake-warning"):
    return {"AlarmName": name, "Namespace": "Fake", "MetricName": "m", "Statistic": "Average", "Period": 60,
            "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": [topic]}


def _fake(alarms, composites, topics=({"Name": "zz-fake-warning", "Severity": "warning"},)):
    from generators.render import Artifact

    return [Artifact("cloudwatch/zz-fake.json", alarms, "zz-fake"),
            Artifact("cloudwatch/zz-fake.composite.json", composites, "zz-fake"),
            Artifact("cloudwatch/zz-fake.topics.json", list(topics), "zz-fake")]


def test_plan_orders_composites_children_first():
    ok = _fake([_alarm("a"), _alarm("b")],
               [{"AlarmName": "ab", "AlarmRule": 'ALARM("a") AND ALARM("b")'},
                {"AlarmName": "top", "AlarmRule": 'ALARM("ab") OR ALARM("a")', "ActionsSuppressor": "b"}])
    sp = _fake_plan(ok).services["zz-fake"]
    assert [c.children for c in sp.composites] == [["a", "b"], ["ab", "a", "b"]]
    parent_first = _fake([_alarm("a")], [{"AlarmName": "top", "AlarmRule": 'ALARM("ab")'},
                                         {"AlarmName": "ab", "AlarmRule": 'ALARM("a")'}])
    with pytest.raises(MappingError, match=r"zz-fake.composite.json\[0\].*'ab', which comes after it"):
        _fake_plan(parent_first)
    unknown = _fake([_alarm("a")], [{"AlarmName": "top", "AlarmRule": 'ALARM("a") OR ALARM("gone")'}])
    with pytest.raises(MappingError, match="names alarm 'gone', which no cloudwatch"):
        _fake_plan(unknown)


def test_plan_rejects_actions_naming_undeclared_topics_but_keeps_arns():
    arn = "arn:aws:sns:us-east-1:123456789012:external"
    assert _fake_plan(_fake([_alarm("a", arn)], [])).services["zz-fake"].alarms[0].body["AlarmActions"] == [arn]
    with pytest.raises(MappingError, match=r"zz-fake.json\[0\].*nowhere"):
        _fake_plan(_fake([_alarm("a", "nowhere")], []))


# --- mlmon plan -------------------------------------------------------------------------------


def _plan(capsys, *argv):
    from generators.cli import main

    rc = main(["plan", "--catalog", str(SEEDS / "alerts"), *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_plan_json_lists_type_and_name(capsys):
    rc, out, _ = _plan(capsys, "--env", "dev", "--json")
    assert rc == 0
    rows = json.loads(out)
    rules = [r for r in rows if r["type"] == "kubernetes:monitoring.coreos.com/v1:PrometheusRule"]
    assert {r["name"] for r in rules} == {"production/function-gemma-agent-rules", "crew/rl-feedback-loop-rules",
                                          "neural-hive-orchestration/neural-hive-specialists-rules",
                                          "rag-pipeline/rag-enterprise-pipeline-rules"}
    crew = next(r for r in rules if r["name"].startswith("crew/"))
    assert crew["parent"] == "mlmon:index:Service::rl-feedback-loop"
    assert crew["fields"]["metadata.namespace"] == "crew"
    assert crew["fields"]["alerts"] == 9


EVERY_TYPE = {  # what stacks/Pulumi.prod.yaml deploys from the committed catalog
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "kubernetes:batch/v1:CronJob",
    "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
    "kubernetes:core/v1:ServiceAccount", "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "aws:sns/topic:Topic", "aws:sns/topicSubscription:TopicSubscription", "aws:kms/key:Key", "aws:kms/alias:Alias",
    "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm",
    "aws:cloudwatch/dashboard:Dashboard", "grafana:oss/folder:Folder", "grafana:oss/dashboard:Dashboard",
    "aws:ssm/document:Document", "aws:iam/policy:Policy",
    "mlmon:index:Service", "pulumi:providers:kubernetes", "pulumi:providers:aws", "pulumi:providers:grafana",
}


def test_plan_json_lists_every_type_and_hides_secrets(capsys):
    rc, out, _ = _plan(capsys, "--env", "prod", "--json")
    assert rc == 0
    rows = json.loads(out)
    assert {r["type"] for r in rows} == EVERY_TYPE
    assert all(set(r) == {"type", "name", "parent", "provider", "fields"} for r in rows)
    alarms = {r["name"]: r for r in rows if r["type"] == "aws:cloudwatch/metricAlarm:MetricAlarm"}
    _, artifacts = rendered("prod")
    bodies = next(a.content for a in artifacts if a.path == "cloudwatch/boltit-pilot.json")
    assert set(alarms) == {b["AlarmName"] for b in bodies}
    low = alarms["boltit-pilot-PilotClassificationAccuracyLow"]
    assert low["parent"] == "mlmon:index:Service::boltit-pilot" and low["provider"] == "aws"
    assert low["fields"]["threshold"] == 0.9 and low["fields"]["comparisonOperator"] == "LessThanThreshold"
    assert low["fields"]["alarmActions"] == ["arn:aws:sns:us-east-1:123456789012:boltit-ml-warning"]
    cron = next(r for r in rows if r["type"] == "kubernetes:batch/v1:CronJob"
                and r["name"] == "production/model-retraining")
    assert cron["fields"] == {"metadata.namespace": "production", "schedule": "0 2 * * 0", "suspend": False}
    subs = [r for r in rows if r["type"] == "aws:sns/topicSubscription:TopicSubscription"]
    assert subs and all(r["fields"]["endpoint"] == "[secret]" for r in subs)
    (composite,) = [r for r in rows if r["type"] == "aws:cloudwatch/compositeAlarm:CompositeAlarm"]
    assert 'ALARM("boltit-pilot-PilotClassificationAccuracyLow")' in composite["fields"]["alarmRule"]


def test_plan_text_lists_every_type_with_counts(capsys):
    rc, text, _ = _plan(capsys, "--env", "prod")
    assert rc == 0 and "nothing was deployed" in text
    for token in EVERY_TYPE - {"mlmon:index:Service"}:
        assert f"  {token}  " in text
    assert "kubernetes:core/v1:ConfigMap" not in text  # prod delivers dashboards through Grafana's API
    assert "not deployed (dashboards go through Grafana's API): kubernetes/" in text


def test_plan_errors_are_clear(capsys, tmp_path):
    rc, _, err = _plan(capsys, "--env", "qa")
    assert rc == 2 and "Pulumi.qa.yaml" in err and "dev, prod, staging" in err
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  mlmon:environment: qa\n  mlmon:outputs: [kubernetes]\n")
    rc, _, err = _plan(capsys, "--env", "dev", "--stacks", str(tmp_path))
    assert rc == 2 and "mlmon:environment" in err and "unknown environment 'qa'" in err
    assert "Traceback" not in err


def test_cli_does_not_import_pulumi_unless_planning():
    code = ("import sys; from generators.cli import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT)}, check=True).stdout
    assert out.strip() == "[]"
