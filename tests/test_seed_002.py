"""Seed 002, "Incident Runbook: Model Performance Regression" (BoltIT pilot on EC2 with docker compose): the
rendered prod output says what the runbook says, and its remediations are SSM Run Command documents checked by
botocore's SSM model, a moto server, the real AWS CLI and a real /bin/sh. Runbook text is quoted next to each
assertion."""

from __future__ import annotations

import copy
import json
import os
import shlex
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest_cloudwatch import moto_endpoint  # noqa: F401  (session fixture)
from conftest_seeds import ROOT, alarms, rendered, resolved, rules, ssm_documents

SVC = "boltit-pilot"
AWS_CLI = ROOT / ".venv-awscli" / "bin" / "aws"


def _doc(name: str):
    return ssm_documents(SVC)[f"{SVC}-{name}"]


def _script(name: str) -> list[str]:
    _, content = _doc(name)
    (step,) = content["mainSteps"]
    return step["inputs"]["runCommand"]


# --- alarms -----------------------------------------------------------------------------------------------


def test_alarm_thresholds_and_levels():
    a = alarms(SVC)
    # "Classification accuracy drops below 0.90 (7-day rolling average)"
    low = a["boltit-pilot-PilotClassificationAccuracyLow"]
    assert (low["MetricName"], low["Threshold"], low["ComparisonOperator"]) == \
        ("classification_accuracy_7d", 0.9, "LessThanThreshold")
    assert low["Namespace"] == "BoltIT/Pilot"
    # "Confidence scores consistently below 0.75"
    assert a["boltit-pilot-PilotConfidenceLow"]["Threshold"] == 0.75
    # "Error rate exceeds 5% for model predictions"
    assert a["boltit-pilot-PilotPredictionErrorRateHigh"]["Threshold"] == 0.05
    # "Response latency exceeds 3 seconds (95th percentile)"
    lat = a["boltit-pilot-PilotResponseLatencyHigh"]
    assert (lat["ExtendedStatistic"], lat["Threshold"]) == ("p95", 3.0)
    # "Multi-threshold alerts (warning + critical)"
    assert {t["Value"] for b in a.values() for t in b["Tags"] if t["Key"] == "severity"} == {"warning", "critical"}


def test_critical_alarms_have_their_own_summary():
    a = alarms(SVC)
    for warning, critical, words in [
        ("PilotPredictionErrorRateHigh", "PilotPredictionErrorRateCritical", "above 10 %"),
        ("PilotClassificationAccuracyLow", "PilotClassificationAccuracyCritical", "below 0.85"),
        ("PilotConfidenceLow", "PilotConfidenceCritical", "below 0.65"),
        ("PilotResponseLatencyHigh", "PilotResponseLatencyCritical", "above 5 s"),
    ]:
        w = a[f"{SVC}-{warning}"]["AlarmDescription"].splitlines()[0]
        c = a[f"{SVC}-{critical}"]["AlarmDescription"].splitlines()[0]
        assert w != c and words in c, (w, c)


def test_descriptions_say_what_the_alarm_really_waits():
    a = alarms(SVC)
    conf = a[f"{SVC}-PilotConfidenceCritical"]
    assert (conf["Period"], conf["EvaluationPeriods"], conf["DatapointsToAlarm"]) == (3600, 1, 1)
    assert "alarms on 1 of 1 1h periods breaching = 1h" in conf["AlarmDescription"]
    acc = a[f"{SVC}-PilotClassificationAccuracyLow"]
    assert "alarms on 3 of 3 5m periods breaching = 15m" in acc["AlarmDescription"]


def test_a_for_shorter_than_the_period_is_stated_as_rounded_up():
    from generators.cloudwatch.alarms import waits

    assert waits(1800, 3600) == ("1 of 1 1h periods breaching = 1h (the catalog's `for` 30m rounded up to whole "
                                 "1h periods)")


def test_alarm_description_carries_the_send_command():
    from generators.ssm.documents import send_command

    rs = resolved(SVC)
    rem = next(r for r in rs.service.remediations if r.name == "disable-auto-apply")
    desc = alarms(SVC)[f"{SVC}-PilotClassificationAccuracyCritical"]["AlarmDescription"]
    assert f"Remediation disable-auto-apply: {send_command(rs, rem)}" in desc
    assert "rollback-model" in desc and len(desc) <= 1024


# --- the documents say what the runbook says --------------------------------------------------------------


def test_disable_auto_apply_is_step_3():
    # "sudo vim /opt/boltit/deploy/.env" "Set AUTO_APPLY_ENABLED=false" "cd /opt/boltit/deploy"
    # "sudo docker compose restart api" "curl http://localhost:8000/admin/feature-flags | jq '.auto_apply_enabled'"
    body, doc = _doc("disable-auto-apply")
    (step,) = doc["mainSteps"]
    assert step["inputs"]["workingDirectory"] == "/opt/boltit/deploy"
    lines = step["inputs"]["runCommand"]
    assert lines[0] == "set -eu"
    assert 'sed -i "s/^AUTO_APPLY_ENABLED=.*/AUTO_APPLY_ENABLED=$SSM_Enabled/" .env' in lines
    assert "docker compose restart api" in lines
    assert "curl -fsS http://localhost:8000/admin/feature-flags | jq -r '.auto_apply_enabled'" in lines[-1]
    assert doc["parameters"]["Enabled"] == {"type": "String", "description": "Value of AUTO_APPLY_ENABLED: false "
                                            "disables auto-apply.", "allowedPattern": "^false$",
                                            "interpolationType": "ENV_VAR", "default": "false"}


def test_rollback_is_step_5():
    # "cd /opt/boltit" "python3 worker/jobs/promote_model.py --artifact-id <previous-artifact-id> --promote --force"
    # "curl http://localhost:9001/model/version" "docker compose restart model" "sleep 30"
    # "curl -X POST http://localhost:9001/classify ... -d '{"text": "My laptop screen is broken"}'"
    # Appendix: PREVIOUS_ARTIFACT_ID=$(aws s3 cp s3://boltit-artifacts-pilot/models/previous_artifact.json - | jq ...)
    lines = _script("rollback-model")
    assert 'python3 worker/jobs/promote_model.py --artifact-id "$artifact" --promote --force' in lines
    assert "docker compose -f /opt/boltit/deploy/docker-compose.yml restart model" in lines
    assert "sleep 30" in lines
    assert any("s3://boltit-artifacts-pilot/models/previous_artifact.json" in x for x in lines)
    assert lines[-1].endswith("""-d '{"text": "My laptop screen is broken"}'""")


def test_retrain_validate_promote_is_step_8():
    # "docker compose run --rm worker python worker/jobs/retrain.py --config /app/retrain_config.json
    #   --include-recent-days 90"
    assert _script("retrain-model")[1:] == ["docker compose run --rm worker python worker/jobs/retrain.py "
                                            "--config /app/retrain_config.json --include-recent-days 90"]
    # "python worker/jobs/validate_artifact.py --artifact-id <new-artifact-id> --min-accuracy 0.90"
    # "# Promote if validation passes" "python worker/jobs/promote_model.py --artifact-id <new-artifact-id> --promote"
    # (python3: the host's interpreter, as the runbook's own rollback uses; `set -eu` stops before promoting)
    assert _script("promote-artifact") == [
        "set -eu",
        'python3 worker/jobs/validate_artifact.py --artifact-id "$SSM_ArtifactId" --min-accuracy 0.90',
        'python3 worker/jobs/promote_model.py --artifact-id "$SSM_ArtifactId" --promote']


def test_re_enable_is_step_6():
    # "Set AUTO_APPLY_ENABLED=true (only if confidence restored)" "docker compose restart api"
    _, doc = _doc("enable-auto-apply")
    assert doc["parameters"]["Enabled"]["allowedPattern"] == "^true$"
    assert _script("enable-auto-apply") == _script("disable-auto-apply")


def test_levels_name_their_remediations():
    by = {a.name: a.remediations for a in resolved(SVC).alerts}
    assert by["PilotClassificationAccuracyLow"] == ("disable-auto-apply", "retrain-model", "promote-artifact")
    assert by["PilotClassificationAccuracyCritical"] == ("disable-auto-apply", "rollback-model")
    assert by["PilotResponseLatencyCritical"] == ("rollback-model",)


# --- botocore's model and the document rules --------------------------------------------------------------


def test_documents_pass_botocores_model_and_the_schema_rules():
    from generators.ssm.validate import body_errors, content_errors

    bodies = rendered("prod")[f"ssm/{SVC}.json"]
    assert len(bodies) == 5
    for b in bodies:
        assert body_errors(b) == [], b["Name"]
    # the validator is not a rubber stamp: each mutation is caught
    good = json.loads(bodies[2]["Content"])
    for mutate, expect in [
        (lambda d: d.update(schemaVersion="1.2"), "schemaVersion"),
        (lambda d: d["mainSteps"][0]["inputs"].update(timeoutSeconds="172801"), "timeoutSeconds"),
        (lambda d: d["mainSteps"][0].update(action="aws:runPowerShellScript"), "action"),
        (lambda d: d["parameters"]["ArtifactId"].update(default="a b"), "default"),
        (lambda d: d["mainSteps"][0]["inputs"]["runCommand"].append("echo {{ Missing }}"), "mainSteps"),
        (lambda d: d["parameters"]["ArtifactId"].pop("allowedPattern"), "allowedPattern"),
        (lambda d: d.update(outputs=[]), "outputs"),
    ]:
        d = copy.deepcopy(good)
        mutate(d)
        assert any(expect in p for p, _ in content_errors(d)), expect
    bad = dict(bodies[0], Name="aws-reserved", DocumentType="Commandx")
    problems = {p for p, _ in body_errors(bad)}
    assert {"Name", "DocumentType"} <= problems


def test_on_call_policy_has_no_wildcard_and_is_scoped_to_documents_and_tagged_instances():
    from generators.ssm.validate import policy_errors

    policy = rendered("prod")[f"ssm/{SVC}.policy.json"]
    assert policy_errors(policy) == []
    docs = sorted(f"arn:aws:ssm:us-east-1:${{aws:PrincipalAccount}}:document/{n}" for n in ssm_documents(SVC))
    st = {s["Sid"]: s for s in policy["Statement"]}
    assert st["RunTheRemediationDocuments"]["Action"] == ["ssm:SendCommand"]
    assert sorted(st["RunTheRemediationDocuments"]["Resource"]) == docs
    inst = st["OnTheServiceInstances"]
    assert inst["Condition"] == {"StringEquals": {"ssm:resourceTag/Application": ["boltit-pilot"]}}
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {"ssm:SendCommand", "ssm:DescribeDocument", "ssm:GetDocument", "logs:DescribeLogStreams",
                       "logs:FilterLogEvents"}
    assert all("*" not in r for s in policy["Statement"] if s["Sid"] != "OnTheServiceInstances" for r in s["Resource"])
    widened = copy.deepcopy(policy)
    widened["Statement"][0]["Resource"] = "*"
    widened["Statement"][1].pop("Condition")
    assert len(policy_errors(widened)) == 2


# --- moto and the real AWS CLI ------------------------------------------------------------------------------


def _ssm(endpoint):
    import boto3

    return boto3.client("ssm", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_documents_round_trip_through_moto(moto_endpoint):  # noqa: F811
    client = _ssm(moto_endpoint)
    for b in rendered("prod")[f"ssm/{SVC}.json"]:
        client.create_document(**b)  # the rendered body as the request, unchanged
        got = client.get_document(Name=b["Name"], DocumentFormat="JSON")
        assert got["Content"] == b["Content"] and got["DocumentType"] == "Command"
        desc = client.describe_document(Name=b["Name"])["Document"]
        assert desc["SchemaVersion"] == "2.2" and desc["TargetType"] == "/AWS::EC2::Instance"
        assert {t["Key"]: t["Value"] for t in desc.get("Tags", [])} == {t["Key"]: t["Value"] for t in b["Tags"]}
        names = {p["Name"] for p in desc.get("Parameters", [])}
        assert names == set(json.loads(b["Content"]).get("parameters", {}))


@pytest.mark.skipif(not AWS_CLI.exists(), reason=".venv-awscli missing: scripts/bootstrap.sh installs the AWS CLI")
def test_the_printed_send_command_runs_with_the_real_aws_cli(moto_endpoint, cli):  # noqa: F811
    client = _ssm(moto_endpoint)
    existing = {d["Name"] for d in client.list_documents()["DocumentIdentifiers"]}
    for b in rendered("prod")[f"ssm/{SVC}.json"]:
        if b["Name"] not in existing:
            client.create_document(**b)
    with __import__("conftest_seeds").inside(__import__("conftest_seeds").SEEDS):
        r = cli("remediations", "--service", SVC, "--env", "prod", "--format", "json")
    assert r.code == 0
    commands = {row["name"]: row["command"] for row in json.loads(r.out)}
    assert set(commands) == {"disable-auto-apply", "enable-auto-apply", "rollback-model", "retrain-model",
                             "promote-artifact"}
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "PATH": f"{AWS_CLI.parent}:{os.environ['PATH']}"}
    for name, command in commands.items():
        if "<" in command:  # a parameter on-call must fill in: fill it as they would
            command = command.replace("<ArtifactId>", "artifact-2026-12-01")
        argv = shlex.split(command) + ["--endpoint-url", moto_endpoint, "--output", "json"]
        assert argv[:3] == ["aws", "ssm", "send-command"]
        res = subprocess.run([str(AWS_CLI), *argv[1:]], env=env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, (name, res.stderr)
        sent = json.loads(res.stdout)["Command"]
        assert sent["DocumentName"] == f"{SVC}-{name}"
        assert sent["Targets"] == [{"Key": "tag:Application", "Values": ["boltit-pilot"]}]
        assert sent["Comment"] == f"mlmon {SVC} {name}"  # (moto does not echo CloudWatchOutputConfig back)
        _, doc = _doc(name)
        for param, values in sent.get("Parameters", {}).items():  # what the CLI sent matches the document
            assert param in doc["parameters"]
            import re
            assert all(re.search(doc["parameters"][param]["allowedPattern"], v) for v in values), (param, values)


# --- the scripts do what they say, under a real /bin/sh -------------------------------------------------------


def _stubs(tmp_path: Path, scripts: dict[str, str]) -> dict:
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name, body in scripts.items():
        (bin_ / name).write_text("#!/bin/sh\n" + textwrap.dedent(body))
        (bin_ / name).chmod(0o755)
    return {"PATH": f"{bin_}:{os.environ['PATH']}", "HOME": str(tmp_path), "CALLS": str(tmp_path / "calls")}


def _run(lines: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """As SSM's aws:runShellScript does: the lines as one script, run by sh in the working directory."""
    script = cwd / "_script.sh"
    script.write_text("\n".join(lines) + "\n")
    return subprocess.run(["/bin/sh", str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_disable_auto_apply_script_edits_env_restarts_and_verifies(tmp_path):
    work = tmp_path / "deploy"
    work.mkdir()
    (work / ".env").write_text("DATABASE_URL=postgres://db\nAUTO_APPLY_ENABLED=true\nLOG_LEVEL=info\n")
    env = _stubs(tmp_path, {
        "docker": 'echo "docker $*" >> "$CALLS"\n',
        # the API reports what .env says (as after a restart)
        "curl": 'echo "curl $*" >> "$CALLS"\nv=$(sed -n "s/^AUTO_APPLY_ENABLED=//p" '
                f'{work}/.env)\necho "{{\\"auto_apply_enabled\\": $v}}"\n',
        "sleep": "exit 0\n",
    })
    r = _run(_script("disable-auto-apply"), work, {**env, "SSM_Enabled": "false"})
    assert r.returncode == 0, r.stderr
    assert (work / ".env").read_text() == "DATABASE_URL=postgres://db\nAUTO_APPLY_ENABLED=false\nLOG_LEVEL=info\n"
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == "docker compose restart api"
    assert calls[1] == "curl -fsS http://localhost:8000/admin/feature-flags"


def test_disable_auto_apply_fails_when_the_api_still_reports_enabled(tmp_path):
    work = tmp_path / "deploy"
    work.mkdir()
    (work / ".env").write_text("AUTO_APPLY_ENABLED=true\n")
    env = _stubs(tmp_path, {"docker": "exit 0\n", "curl": 'echo \'{"auto_apply_enabled": true}\'\n',
                            "sleep": "exit 0\n"})
    r = _run(_script("disable-auto-apply"), work, {**env, "SSM_Enabled": "false"})
    assert r.returncode == 1 and "auto_apply_enabled is true, expected false" in r.stderr


def test_rollback_script_promotes_the_previous_artifact_then_restarts_and_tests(tmp_path):
    env = _stubs(tmp_path, {
        "aws": 'echo "aws $*" >> "$CALLS"\necho \'{"artifact_id": "art-41"}\'\n',
        "python3": 'echo "python3 $*" >> "$CALLS"\n',
        "docker": 'echo "docker $*" >> "$CALLS"\n',
        "curl": 'echo "curl $*" >> "$CALLS"\necho ok\n',
        "sleep": 'echo "sleep $*" >> "$CALLS"\n',
    })
    r = _run(_script("rollback-model"), tmp_path, {**env, "SSM_ArtifactId": "previous"})
    assert r.returncode == 0, r.stderr
    assert "Rolling back to artifact: art-41" in r.stdout
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [
        "aws s3 cp s3://boltit-artifacts-pilot/models/previous_artifact.json -",
        "python3 worker/jobs/promote_model.py --artifact-id art-41 --promote --force",
        "curl -fsS http://localhost:9001/model/version",
        "docker compose -f /opt/boltit/deploy/docker-compose.yml restart model",
        "sleep 30",
        'curl -fsS -X POST http://localhost:9001/classify -H Content-Type: application/json '
        '-d {"text": "My laptop screen is broken"}',
    ]


def test_promote_stops_when_validation_fails(tmp_path):
    env = _stubs(tmp_path, {"python3": 'echo "python3 $*" >> "$CALLS"\n'
                                       'case "$1" in *validate_artifact.py) exit 3;; esac\n'})
    r = _run(_script("promote-artifact"), tmp_path, {**env, "SSM_ArtifactId": "art-42"})
    assert r.returncode == 3
    assert (tmp_path / "calls").read_text().splitlines() == [
        "python3 worker/jobs/validate_artifact.py --artifact-id art-42 --min-accuracy 0.90"]


def test_rules_are_not_rendered_for_a_cloudwatch_service():
    with pytest.raises(KeyError):
        rules(SVC)
