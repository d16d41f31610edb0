"""Seed 000, "OPS-002: Reasoning Drift Alert Runbook" (function-gemma-agent): the rendered prod output says what
the runbook says. Runbook text is quoted next to each assertion."""

from __future__ import annotations

import os
import subprocess
import textwrap

import pytest
import yaml

from conftest import requires_promtool
from conftest_seeds import containers, obj, pod, rendered, resolved, rules

SVC = "function-gemma-agent"


# --- the alert ---------------------------------------------------------------------------------------


def test_reasoning_drift_high_is_the_alert_definition():
    # "**Alert Name**: `ReasoningDriftHigh`  **Severity**: Warning
    #  **Condition**: `agent_reasoning_quality_score < 0.7 for 5m`"
    r = rules(SVC)["ReasoningDriftHigh"]
    assert r["expr"] == "agent_reasoning_quality_score < 0.7"
    assert r["for"] == "5m" and r["labels"]["severity"] == "warning"
    # "**Dashboard**: [Grafana - Agent Quality](https://grafana.example.com/d/agent-quality)"
    assert r["annotations"]["dashboard_url"] == "https://grafana.example.com/d/agent-quality"


def _hand_made_rule_test(tmp_path, expr: str, for_: str, series: str, expectations: list[tuple[str, bool]]):
    """promtool on a hand-made series: the rendered expression and `for`, evaluated every minute; each
    (eval_time, firing?) is an expectation written from the runbook's words, not from the generator."""
    (tmp_path / "rule.yaml").write_text(yaml.safe_dump({"groups": [{"name": "seed-000", "interval": "1m", "rules": [
        {"alert": "ReasoningDriftHigh", "expr": expr, "for": for_}]}]}))
    tests = [{"eval_time": t, "alertname": "ReasoningDriftHigh",
              "exp_alerts": [{"exp_labels": {"job": "agent"}}] if firing else []} for t, firing in expectations]
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({
        "rule_files": ["rule.yaml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [
            {"series": 'agent_reasoning_quality_score{job="agent"}', "values": series}],
            "alert_rule_test": tests}]}))
    return subprocess.run(["promtool", "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True)


@requires_promtool
def test_step_drop_fires_five_minutes_after_the_score_goes_below_0_7(tmp_path):
    """0.9 until minute 9, then 0.6: below 0.7 from minute 10 on; "for 5m" means firing at minute 15."""
    r = rules(SVC)["ReasoningDriftHigh"]
    res = _hand_made_rule_test(tmp_path, r["expr"], r["for"], "0.9x9 0.6x30",
                               [("10m", False), ("14m", False), ("15m", True), ("30m", True)])
    assert res.returncode == 0, res.stdout + res.stderr


@requires_promtool
def test_six_minute_dip_to_0_65_fires_and_a_five_minute_one_does_not(tmp_path):
    """A dip to 0.65 during minutes 10-15 (6 samples) has been below 0.7 for 5 minutes at minute 15: it
    fires, and resolves at minute 16. A dip during minutes 10-14 never reaches 5 minutes."""
    r = rules(SVC)["ReasoningDriftHigh"]
    six = _hand_made_rule_test(tmp_path, r["expr"], r["for"], "0.9x9 0.65x5 0.9x20",
                               [("14m", False), ("15m", True), ("16m", False)])
    assert six.returncode == 0, six.stdout + six.stderr
    five = _hand_made_rule_test(tmp_path, r["expr"], r["for"], "0.9x9 0.65x4 0.9x20",
                                [("14m", False), ("15m", False), ("20m", False)])
    assert five.returncode == 0, five.stdout + five.stderr


@requires_promtool
def test_the_prevention_examples_average_would_be_late_and_miss_the_dip(tmp_path):
    """Why the catalog does not take the runbook's Prevention example (`avg_over_time(...[5m]) < 0.7` for 5m):
    on the same series it fires 9 minutes after the step drop, and never on the 6-minute dip."""
    avg = "avg_over_time(agent_reasoning_quality_score[5m]) < 0.7"
    step = _hand_made_rule_test(tmp_path, avg, "5m", "0.9x9 0.6x30", [("18m", False), ("19m", True)])
    assert step.returncode == 0, step.stdout + step.stderr
    dip = _hand_made_rule_test(tmp_path, avg, "5m", "0.9x9 0.65x5 0.9x20",
                               [("15m", False), ("18m", False), ("21m", False)])
    assert dip.returncode == 0, dip.stdout + dip.stderr


def test_continuous_evaluation_alerts_below_0_8():
    # "if avg_score < 0.8: send_alert(...)" ... "mlflow.log_metric("automated_quality_score", avg_score)"
    r = rules(SVC)["ReasoningEvaluationScoreLow"]
    assert r["expr"] == "automated_quality_score < 0.8"
    assert "for" not in r or r["for"] in ("0s", "0m")
    cj = obj(SVC, "CronJob", "reasoning-evaluation")
    assert cj["spec"]["schedule"] == "*/30 * * * *"
    assert containers(cj)[0]["args"] == ["--alert-below", "0.8"]


def test_recovery_checklist_says_0_8_for_30_minutes():
    # "- [ ] Reasoning quality improved (>0.8)" / "- [ ] Stability maintained for 30 minutes"
    from generators.runbooks import Index, definition

    from conftest_seeds import seed_catalog
    text = definition(Index(seed_catalog()), "ReasoningDriftHigh")
    assert "quality back above 0.8, not merely above the 0.7 alert threshold, and stable for 30 minutes" in text
    assert "the agent does not export" in text  # why the Alert Definition's form was chosen


# --- remediations ---------------------------------------------------------------------------------------


def _helm(name: str) -> dict:
    cj = obj(SVC, "CronJob", f"remediate-{name}")
    (helm,) = [c for c in containers(cj) if c["name"] == "helm-rollback"]
    return cj, helm


def test_model_rollback_is_helm_rollback_to_the_previous_revision():
    # "helm rollback function-gemma-agent 0 -n production"
    cj, helm = _helm("rollback-release")
    assert helm["args"] == ["rollback", "function-gemma-agent", "0", "--namespace=production", "--history-max=0"]
    assert "command" not in helm  # the image's entrypoint, helm
    tag = helm["image"].rsplit(":", 1)[1]
    assert helm["image"].startswith("alpine/helm:") and tag.count(".") == 2 and tag[0].isdigit()  # exact version
    # then wait for the Deployment, as the runbook's "Verify Fix" does by watching it
    assert containers(cj)[-1]["args"][:3] == ["rollout", "status", "deployment/function-gemma-agent"]
    assert cj["spec"]["suspend"] is True and cj["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0


def test_helm_role_grants_exactly_the_release_storage_and_the_charts_objects():
    role = obj(SVC, "Role", "remediate-rollback-release")
    by = {(r["resources"][0], tuple(r.get("resourceNames", ()))): r["verbs"] for r in role["rules"]}
    # Helm lists its release Secrets by label (owner=helm,name=<release>): RBAC cannot scope that by name
    assert by[("secrets", ())] == ["list", "create"]
    named = [k for k in by if k[0] == "secrets" and k[1]]
    (secrets,) = named
    assert by[secrets] == ["get", "update"]
    assert set(secrets[1]) == {f"sh.helm.release.v1.function-gemma-agent.v{i}" for i in range(1, 101)}
    assert by[("deployments", ("function-gemma-agent",))] == ["get", "list", "watch", "patch"]
    assert by[("configmaps", ("function-gemma-agent-config",))] == ["get", "patch"]
    assert by[("services", ("function-gemma-agent",))] == ["get", "patch"]
    assert by[("serviceaccounts", ("function-gemma-agent",))] == ["get", "patch"]
    assert len(by) == 6  # nothing else: no delete (--history-max=0 never prunes), no other object


def _fake_helm(tmp_path, history: str):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "helm").write_text(textwrap.dedent(f"""\
        #!/bin/sh
        if [ "$1" = history ]; then cat <<'EOF'
        {textwrap.indent(history, '        ').strip()}
        EOF
        exit 0; fi
        echo "helm $*" >> "{tmp_path}/calls"
        """))
    (bin_ / "helm").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}"}


HISTORY = """\
REVISION\tUPDATED                 \tSTATUS    \tCHART                     \tAPP VERSION\tDESCRIPTION
4       \tMon Dec  1 10:00:00 2026\tsuperseded\tfunction-gemma-agent-1.4.0\t1.4.0      \tUpgrade complete
5       \tMon Dec  1 11:00:00 2026\tsuperseded\tfunction-gemma-agent-1.4.0\t1.4.0      \tprompt-update: system prompt v7
6       \tMon Dec  1 12:00:00 2026\tsuperseded\tfunction-gemma-agent-1.4.0\t1.4.0      \tUpgrade complete
7       \tMon Dec  1 13:00:00 2026\tdeployed  \tfunction-gemma-agent-1.4.1\t1.4.1      \tprompt-update: system prompt v8
"""


def test_prompt_rollback_finds_the_revision_before_the_newest_prompt_update(tmp_path):
    # Option 1: "helm history function-gemma-agent -n production | grep "prompt-update"" then
    # "helm rollback function-gemma-agent <revision> -n production". The rendered script, run by a real
    # /bin/sh against a stand-in helm: the newest prompt-update is 7, so it rolls back to 6.
    _, helm = _helm("rollback-prompts")
    assert helm["command"] == ["/bin/sh", "-c"]
    env = _fake_helm(tmp_path, HISTORY)
    r = subprocess.run(["/bin/sh", "-c", helm["args"][0]], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "calls").read_text() == \
        "helm rollback function-gemma-agent 6 --namespace=production --history-max=0\n"


def test_prompt_rollback_without_a_prompt_update_fails_and_rolls_nothing_back(tmp_path):
    _, helm = _helm("rollback-prompts")
    env = _fake_helm(tmp_path, HISTORY.replace("prompt-update", "values change"))
    r = subprocess.run(["/bin/sh", "-c", helm["args"][0]], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "no revision of function-gemma-agent matches 'prompt-update'" in r.stderr
    assert not (tmp_path / "calls").exists()


def test_rollout_undo_no_longer_claims_to_revert_prompts():
    cj = obj(SVC, "CronJob", "remediate-rollback-model")
    text = cj["metadata"]["annotations"]["mlmon.io/description"]
    assert "Does NOT revert the prompts ConfigMap" in text


def test_the_alert_names_the_helm_rollbacks_first():
    a = next(x for x in resolved(SVC).alerts if x.name == "ReasoningDriftHigh")
    assert a.remediations[:2] == ("rollback-prompts", "rollback-release")
    assert "remediate-rollback-prompts" in rules(SVC)["ReasoningDriftHigh"]["annotations"]["remediations"]


def test_model_retraining_cronjob():
    # "kubectl create job --from=cronjob/model-retraining retraining-$(date +%Y%m%d)"
    cj = obj(SVC, "CronJob", "model-retraining")
    assert cj["metadata"]["annotations"]["mlmon.io/run-now"].startswith(
        "kubectl create job --from=cronjob/model-retraining model-retraining-$(date +%Y%m%d")
    assert pod(cj)["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("path", ["prometheus/function-gemma-agent.rules.yaml", "kubernetes/function-gemma-agent.yaml"])
def test_prod_renders_the_service(path):
    assert path in rendered("prod")
