"""`mlmon remediations`: every remediation with its alerts and the exact command; --jobs adds scheduled jobs."""

from __future__ import annotations

import json

from conftest_kubernetes import MINIMAL, REPO, SEEDS, find, service_catalog
from generators.cli import main

CATALOG = ["--catalog", str(SEEDS / "alerts")]


def run(capsys, *argv):
    rc = main(["remediations", *CATALOG, *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_lists_remediations_with_alerts_and_command(capsys):
    rc, out, _ = run(capsys, "--service", "rl-feedback-loop")
    assert rc == 0
    assert out.splitlines()[0] == "rl-feedback-loop (namespace crew, env dev)"
    assert "  disable-trajectory-eval  set-env  deployment/crew-api" in out
    assert "    set env ENABLE_TRAJECTORY_EVALUATION=false" in out
    assert "    alerts: RLFeedbackProcessingStalled" in out  # the runbook's mitigation of a stalled loop only
    assert "    alerts: RLFeedbackQueueDepthHigh, RLFeedbackQueueDepthCritical" in out  # batch size, interval
    assert ("    $ kubectl create job --from=cronjob/remediate-restart-crew-api "
            "remediate-restart-crew-api-$(date +%Y%m%d-%H%M%S) -n crew") in out
    assert "function-gemma-agent" not in out and "model-retraining" not in out


def test_json_and_jobs(capsys):
    rc, out, _ = run(capsys, "--service", "function-gemma-agent", "--jobs", "--format", "json", "--env", "prod")
    assert rc == 0
    data = json.loads(out)
    by_name = {r["name"]: r for r in data}
    assert set(by_name) == {"rollback-prompts", "rollback-release", "rollback-model", "retrain-model",
                            "model-retraining", "reasoning-evaluation"}
    assert by_name["retrain-model"]["what"] == "start a run of job model-retraining"
    assert by_name["rollback-model"]["alerts"] == ["ReasoningDriftHigh"]
    job = by_name["model-retraining"]
    assert job["kind"] == "job" and job["what"] == "0 2 * * 0 (Etc/UTC)"
    # the listed command is exactly the one annotated on the rendered object
    cj = find("prod", "CronJob", "model-retraining", "production")
    assert job["command"] == cj["metadata"]["annotations"]["mlmon.io/run-now"]
    rem = find("prod", "CronJob", "remediate-rollback-model", "production")
    assert by_name["rollback-model"]["command"] == rem["metadata"]["annotations"]["mlmon.io/run"]


def test_environment_limited_jobs_follow_env(capsys):
    _, staging, _ = run(capsys, "--service", "rag-enterprise-pipeline", "--jobs", "--env", "staging")
    _, prod, _ = run(capsys, "--service", "rag-enterprise-pipeline", "--jobs", "--env", "prod")
    assert "monthly-load-test" in staging and "monthly-load-test" not in prod


def test_service_without_remediations(capsys):
    rc, out, _ = run(capsys, "--service", "rag-enterprise-pipeline", "--env", "prod")
    assert rc == 0 and "restart-pipeline" in out
    rc, out, _ = run(capsys, "--service", "boltit-pilot", "--jobs", "--env", "prod")
    assert rc == 0 and out.splitlines()[0] == "boltit-pilot (EC2 tag:Application=boltit-pilot, env prod)"


def test_unknown_service_and_env_exit_2(capsys):
    rc, _, err = run(capsys, "--service", "nope")
    assert rc == 2 and "unknown service nope" in err
    rc, _, err = run(capsys, "--env", "qa")
    assert rc == 2 and "unknown environment 'qa'" in err


def test_dry_run_flag_shown(tmp_path, capsys):
    root = service_catalog(tmp_path, MINIMAL + "remediations:\n  - {name: restart, action: rollout-restart, "
                                               "dry_run: true, description: Rehearse a restart}\n")
    rc = main(["remediations", "--catalog", str(root)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "  restart  rollout-restart [dry-run]  deployment/api" in out
    assert "    rollout restart - Rehearse a restart" in out


def test_help_mentions_command(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(["remediations", "--help"])
    assert exc.value.code == 0
    assert "--jobs" in capsys.readouterr().out


def _yaml_blocks(text: str) -> list[str]:
    import re

    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


def test_documented_defaults_are_the_real_defaults():
    import yaml

    from generators.jobs.model import JobDefaults

    doc = (REPO / "docs" / "remediations.md").read_text()
    block = next(b for b in _yaml_blocks(doc) if b.startswith("jobs:\n  kubectl_image"))
    assert JobDefaults.model_validate(yaml.safe_load(block)["jobs"]) == JobDefaults()


def test_documented_job_example_is_valid(tmp_path):
    from conftest_kubernetes import load

    doc = (REPO / "docs" / "remediations.md").read_text()
    block = next(b for b in _yaml_blocks(doc) if b.startswith("jobs:\n  - name: model-retraining"))
    job = load(service_catalog(tmp_path, MINIMAL + block)).service("svc").jobs[0]
    assert job.deadline == 6 * 3600 and job.environments == ("staging",)


def test_readme_commands_match_rendered_objects():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## On call: run a remediation"):]
    tmpl = find("prod", "CronJob", "remediate-disable-trajectory-eval", "crew")
    assert tmpl["metadata"]["annotations"]["mlmon.io/run"].replace(
        "--from=cronjob/remediate-disable-trajectory-eval ",
        "--from=cronjob/remediate-disable-trajectory-eval \\\n  ") in section
    job = find("prod", "CronJob", "model-retraining", "production")
    assert job["metadata"]["annotations"]["mlmon.io/run-now"] in section
