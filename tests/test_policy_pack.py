"""mlmon's CrossGuard policy pack (policy/, generators/deploy/policy.py) on what the real stack program
declares under Pulumi's mocks, run through pulumi-policy's own analyzer service (the one the Pulumi CLI
calls): the committed stacks pass; deliberate violations, made by stack config or by editing what the
program declared, are each reported by the right policy."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys

import pytest

from conftest_deploy import ENVS, ROOT
from generators.deploy import mocks, policy
from generators.deploy.config import StackConfigError, parse

CATALOG = {"mlmon:catalog": "tests/fixtures/seeds/alerts"}  # the tests' copy of the seed catalog


def run(env: str, **overrides):
    return mocks.run_stack_file(env, overrides={**CATALOG, **overrides})


@pytest.fixture(scope="module")
def runs():
    return {env: run(env) for env in ENVS}


def names(violations):
    return sorted((v.policy, v.urn.rsplit("::", 1)[1]) for v in violations)


def edited(r: mocks.Run, typ: str, name: str, change) -> mocks.Run:
    """A copy of ``r`` with the inputs of one declared resource changed by ``change(inputs)``."""
    out = dataclasses.replace(r, resources=[])
    for d in r.resources:
        if d.type == typ and d.name == name:
            inputs = copy.deepcopy(d.inputs)
            change(inputs)
            d = dataclasses.replace(d, inputs=inputs)
        out.resources.append(d)
    return out


@pytest.mark.parametrize("env", ENVS)
def test_the_committed_stacks_pass_every_policy(runs, env):
    r = runs[env]
    types = {d.type for d in r.resources}
    # not vacuous: every policy has something to judge
    assert {policy.METRIC_ALARM, policy.COMPOSITE_ALARM, policy.TOPIC} <= types
    assert any(t.startswith("kubernetes:") for t in types)
    assert policy.analyze(r) == []


def test_prod_subscriptions_are_judged(runs):
    assert {d.plain_inputs()["protocol"] for d in runs["prod"].of_type(policy.SUBSCRIPTION)} == {"https", "email"}


def test_an_http_subscription_is_refused():
    r = run("prod", **{"mlmon:subscriptions": {"critical": [{"protocol": "http", "endpoint": "http://pager.example.com/x"}]}})
    assert names(policy.analyze(r)) == [("sns-subscriptions-protocol", "boltit-ml-critical-http-0")]


def test_allowed_protocols_come_from_the_pack_config(runs):
    """An organisation allowing only https: prod's email warnings are reported (pulumi-policy's Configure)."""
    v = policy.analyze(runs["prod"], {"sns-subscriptions-protocol": {"allowedProtocols": ["https"]}})
    assert names(v) == [("sns-subscriptions-protocol", "boltit-ml-warning-email-0")]
    assert "uses protocol 'email'; allowed: https" in v[0].message


def test_an_unencrypted_topic_is_reported_unless_it_says_why(runs):
    plain = edited(runs["prod"], policy.TOPIC, "boltit-ml-warning", lambda i: i.pop("kmsMasterKeyId"))
    v = policy.analyze(plain)
    assert names(v) == [("sns-topics-encrypted", "boltit-ml-warning")]
    assert "CKV_AWS_26" in v[0].message and v[0].level == "MANDATORY"
    reasoned = run("prod", **{"mlmon:aws": {"region": "us-east-1", "snsKmsKey": "none",
                                            "snsUnencryptedReason": "sandbox account, no KMS"}})
    topics = reasoned.of_type(policy.TOPIC)
    assert topics and all("kmsMasterKeyId" not in t.plain_inputs() for t in topics)
    assert all(t.plain_inputs()["tags"] == {"mlmon:unencrypted-reason": "sandbox account, no KMS"} for t in topics)
    assert not reasoned.of_type("aws:kms/key:Key")
    assert policy.analyze(reasoned) == []


def test_the_aws_managed_sns_key_is_refused(runs):
    v = policy.analyze(edited(runs["prod"], policy.TOPIC, "boltit-ml-critical",
                              lambda i: i.update(kmsMasterKeyId="alias/aws/sns")))
    assert names(v) == [("sns-topics-encrypted", "boltit-ml-critical")]
    assert "CloudWatch alarms cannot publish" in v[0].message
    with pytest.raises(StackConfigError, match="snsKmsKey.*AWS managed SNS key"):
        parse({"mlmon:environment": "prod", "mlmon:aws": '{"region": "us-east-1", "snsKmsKey": "alias/aws/sns"}'})


def test_a_key_of_ones_own_is_used_as_given():
    key = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"
    r = run("prod", **{"mlmon:aws": {"region": "us-east-1", "snsKmsKey": key}})
    assert {t.plain_inputs()["kmsMasterKeyId"] for t in r.of_type(policy.TOPIC)} == {key}
    assert not r.of_type("aws:kms/key:Key")
    assert policy.analyze(r) == []


@pytest.mark.parametrize("values, problem", [
    ({"snsKmsKey": "none"}, "snsUnencryptedReason: required with snsKmsKey: none"),
    ({"snsUnencryptedReason": "why"}, "snsUnencryptedReason: only with snsKmsKey: none"),
    ({"snsKmsKey": "arn:aws:kms:us-east-1:123456789012:alias/aws/sns"}, "snsKmsKey: .* AWS managed SNS key"),
])
def test_sns_encryption_config_errors(values, problem):
    import json

    with pytest.raises(StackConfigError, match=problem):
        parse({"mlmon:environment": "prod", "mlmon:aws": json.dumps({"region": "us-east-1", **values})})


def test_the_stack_key_lets_cloudwatch_publish(runs):
    import json

    (key,) = runs["prod"].of_type("aws:kms/key:Key")
    inputs = key.plain_inputs()
    assert inputs["enableKeyRotation"] is True
    statements = json.loads(inputs["policy"])["Statement"]
    cw = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cw and set(cw[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert any(s["Principal"] == {"AWS": f"arn:aws:iam::{mocks.MOCK_ACCOUNT}:root"} for s in statements)
    (alias,) = runs["prod"].of_type("aws:kms/alias:Alias")
    assert alias.plain_inputs()["name"] == "alias/mlmon-sns-prod"


def test_an_alarm_without_actions_is_reported_and_so_is_a_roll_up_over_it(runs):
    silent = "boltit-pilot-PilotConfidenceLow"
    v = policy.analyze(edited(runs["prod"], policy.METRIC_ALARM, silent, lambda i: i.pop("alarmActions")))
    assert names(v) == [("cloudwatch-alarms-notify", silent), ("cloudwatch-alarms-notify", "boltit-pilot-health")]
    roll_up = next(x for x in v if x.urn.endswith("boltit-pilot-health"))
    assert f"{silent} (it has no alarm actions)" in roll_up.message


def test_disabled_actions_are_reported(runs):
    name = "boltit-pilot-PilotResponseLatencyCritical"
    v = policy.analyze(edited(runs["prod"], policy.METRIC_ALARM, name, lambda i: i.update(actionsEnabled=False)))
    assert ("cloudwatch-alarms-notify", name) in names(v)
    assert any("actions are disabled" in x.message for x in v)


def test_a_roll_up_of_notifying_alarms_needs_no_actions_of_its_own(runs):
    (health,) = runs["prod"].of_type(policy.COMPOSITE_ALARM)
    assert not health.plain_inputs().get("alarmActions")  # composite_severity is not set in the seed
    assert policy.analyze(runs["prod"]) == []


def test_kubernetes_objects_without_mlmon_labels_are_reported(runs):
    r = runs["prod"]
    cron = next(d for d in r.resources if d.type == "kubernetes:batch/v1:CronJob")
    v = policy.analyze(edited(r, cron.type, cron.name, lambda i: i["metadata"]["labels"].pop("app.kubernetes.io/part-of")))
    assert names(v) == [("kubernetes-mlmon-labels", cron.name)]
    assert "lacks mlmon label(s) app.kubernetes.io/part-of" in v[0].message
    v = policy.analyze(edited(r, cron.type, cron.name,
                              lambda i: i["metadata"]["labels"].update({"app.kubernetes.io/managed-by": "helm"})))
    assert names(v) == [("kubernetes-mlmon-labels", cron.name)]


def test_objects_of_another_environment_are_reported(runs):
    r = runs["prod"]
    rule = next(d for d in r.resources if d.type == "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    v = policy.analyze(edited(r, rule.type, rule.name, lambda i: i["metadata"]["labels"].update({"mlmon.io/env": "dev"})))
    assert [x.policy for x in v] == ["kubernetes-one-environment"]
    assert "dev: 1 object(s)" in v[0].message


@pytest.mark.slow
def test_the_pack_entry_point_serves_the_policies_over_grpc():
    """``policy/__main__.py`` as the Pulumi CLI starts it: it prints a port and serves pulumi-policy's
    analyzer; GetAnalyzerInfo lists every policy, Analyze judges a resource sent over gRPC."""
    import grpc
    from google.protobuf import empty_pb2, json_format, struct_pb2
    from pulumi.runtime import proto
    from pulumi.runtime.proto import analyzer_pb2_grpc

    proc = subprocess.Popen([sys.executable, str(ROOT / "policy" / "__main__.py")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT / "policy")
    try:
        port = int(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert info.name == policy.PACK_NAME
            assert {p.name for p in info.policies} == {p.name for p in policy.POLICIES}
            assert all(p.enforcementLevel == proto.MANDATORY for p in info.policies)
            props = struct_pb2.Struct()
            json_format.ParseDict({"name": "t"}, props)
            urn = "urn:pulumi:prod::mlmon::aws:sns/topic:Topic::t"
            resp = stub.Analyze(proto.AnalyzeRequest(type=policy.TOPIC, properties=props, urn=urn, name="t"),
                                timeout=30)
            assert [d.policyName for d in resp.diagnostics] == ["sns-topics-encrypted"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_alertmanager_secret_of_a_stack_that_owns_alertmanager_passes_every_policy():
    r = run("prod", **{"mlmon:alertmanager": '{"form": "secret"}'})
    assert any(x.type == "kubernetes:core/v1:Secret" for x in r.resources)
    assert policy.analyze(r) == []
