"""Bad scheduled jobs and remediations are rejected with the file, the path inside it and what was expected."""

from __future__ import annotations

import pytest

from conftest_kubernetes import MINIMAL, problems, service_catalog
from generators.cli import main

JOB = """
jobs:
  - name: nightly-eval
    schedule: "{schedule}"
    image: registry.example.com/team/eval:1.0.0
    command: [python, eval.py]
"""


def one(tmp_path, extra: str, body: str = MINIMAL, **kw):
    root = service_catalog(tmp_path, body + extra, **kw)
    probs = problems(root)
    assert probs, "expected a problem"
    return probs


def assert_problem(probs, path: str, *words: str):
    matching = [p for p in probs if p.path == path]
    assert matching, f"no problem at {path}: {[str(p) for p in probs]}"
    text = " ".join(p.message for p in matching)
    for w in words:
        assert w in text, f"{w!r} not in {text!r}"
    assert all(p.file.endswith("svc.yaml") for p in matching)
    assert all(p.line for p in matching), "a line number is reported"


@pytest.mark.parametrize("schedule, words", [
    ("61 * * * *", ("not a valid cron schedule",)),
    ("0 0 * * * *", ("6 fields", "5")),
    ("0 3 * *", ("4 fields",)),
    ("@reboot", ("@daily",)),
    ("CRON_TZ=UTC 0 3 * * *", ("time_zone",)),
    ("every day", ("fields",)),
])
def test_bad_cron_names_file_and_path(tmp_path, schedule, words):
    probs = one(tmp_path, JOB.format(schedule=schedule))
    assert_problem(probs, "jobs[0].schedule", *words)


@pytest.mark.parametrize("schedule", ["0 3 * * 0", "*/15 * * * *", "@daily", "0 8 1 * *", "30 2 * * MON-FRI"])
def test_good_cron_accepted(tmp_path, schedule):
    root = service_catalog(tmp_path, MINIMAL + JOB.format(schedule=schedule))
    from conftest_kubernetes import load

    assert load(root).service("svc").jobs[0].schedule == schedule


def test_bad_time_zone(tmp_path):
    probs = one(tmp_path, JOB.format(schedule="@daily") + "    time_zone: Mars/Olympus\n")
    assert_problem(probs, "jobs[0].time_zone", "IANA time zone")


@pytest.mark.parametrize("image, words", [
    ("registry.example.com/team/eval", ("no tag",)),
    ("registry.example.com/team/eval:latest", ("latest",)),
    ("Not An Image", ("not a container image",)),
])
def test_unpinned_image(tmp_path, image, words):
    extra = JOB.format(schedule="@daily").replace("registry.example.com/team/eval:1.0.0", image)
    assert_problem(one(tmp_path, extra), "jobs[0].image", *words)


def test_unknown_action(tmp_path):
    probs = one(tmp_path, "remediations:\n  - {name: fix-it, action: reboot-node}\n")
    assert_problem(probs, "remediations[0].action", "'reboot-node'", "rollout-restart", "trigger-job")


def test_missing_action(tmp_path):
    assert_problem(one(tmp_path, "remediations:\n  - {name: fix-it}\n"), "remediations[0].action", "missing")


def test_unknown_key_in_action_reported_at_its_path(tmp_path):
    probs = one(tmp_path, "remediations:\n  - {name: up, action: scale, replicas: 3, replica: 4}\n")
    assert_problem(probs, "remediations[0].replica", "unknown key")


def test_unknown_target_workload(tmp_path):
    probs = one(tmp_path, "remediations:\n  - {name: restart, action: rollout-restart, target: other-api}\n")
    assert_problem(probs, "remediations[0].target", "unknown target workload", "'other-api'", "'api'")


def test_workload_action_without_workload(tmp_path):
    body = MINIMAL.replace("workload: {kind: Deployment, name: api}\n", "")
    probs = one(tmp_path, "remediations:\n  - {name: restart, action: rollout-restart}\n", body=body)
    assert_problem(probs, "remediations[0].action", "declares none")


def test_scale_daemonset_rejected(tmp_path):
    body = MINIMAL.replace("kind: Deployment", "kind: DaemonSet")
    probs = one(tmp_path, "remediations:\n  - {name: up, action: scale, replicas: 2}\n", body=body)
    assert_problem(probs, "remediations[0].action", "DaemonSet")


@pytest.mark.parametrize("name", ["OPENROUTER_API_KEY", "HF_TOKEN", "CLIENT_SECRET", "DB_PASSWORD",
                                  "AWS_SECRET_ACCESS_KEY", "SMTP_PASSWD", "GITHUB_TOKEN", "password"])
def test_secret_looking_literal_in_job_env(tmp_path, name):
    extra = JOB.format(schedule="@daily") + f"    env:\n      MLFLOW_URI: http://mlflow:5000\n      {name}: hunter2\n"
    assert_problem(one(tmp_path, extra), f"jobs[0].env.{name}", "looks like a secret", "secret: {name")


def test_secret_reference_under_secret_name_is_fine(tmp_path):
    from conftest_kubernetes import load

    extra = JOB.format(schedule="@daily") + ("    env:\n      OPENROUTER_API_KEY: {secret: {name: rag, key: openrouter}}\n"
                                             "      KEYCLOAK_URL: http://kc\n      MONKEY: banana\n")
    job = load(service_catalog(tmp_path, MINIMAL + extra)).service("svc").jobs[0]
    assert job.env["OPENROUTER_API_KEY"].secret.name == "rag"
    assert job.env["KEYCLOAK_URL"].value == "http://kc"


def test_secret_looking_literal_in_remediations(tmp_path):
    extra = """
remediations:
  - {name: set-key, action: set-env, env: {API_TOKEN: abc}}
  - {name: cm, action: patch-configmap, configmap: cfg, data: {DB_PASSWORD: abc}}
  - name: script
    action: run
    image: registry.example.com/team/tool:2.0
    command: [tool]
    env: {SIGNING_KEY: abc}
"""
    probs = one(tmp_path, extra)
    assert_problem(probs, "remediations[0].env.API_TOKEN", "looks like a secret")
    assert_problem(probs, "remediations[1].data.DB_PASSWORD", "looks like a secret")
    assert_problem(probs, "remediations[2].env.SIGNING_KEY", "looks like a secret")


def test_env_value_must_be_exactly_one_kind(tmp_path):
    extra = JOB.format(schedule="@daily") + "    env:\n      X: {value: a, config_map: {name: c, key: k}}\n"
    assert_problem(one(tmp_path, extra), "jobs[0].env.X", "exactly one")


def test_unknown_remediation_on_monitor(tmp_path):
    body = MINIMAL.replace("    severity: warning\n", "    severity: warning\n    remediations: [restart, rollback]\n")
    probs = one(tmp_path, "remediations:\n  - {name: restart, action: rollout-restart}\n", body=body)
    assert_problem(probs, "monitors[0].remediations[1]", "unknown remediation 'rollback'", "restart")
    assert not [p for p in probs if p.path == "monitors[0].remediations[0]"]


def test_trigger_job_must_name_a_scheduled_job(tmp_path):
    extra = JOB.format(schedule="@daily") + "remediations:\n  - {name: retrain, action: trigger-job, job: retraining}\n"
    assert_problem(one(tmp_path, extra), "remediations[0].job", "unknown scheduled job 'retraining'", "nightly-eval")


def test_trigger_job_of_environment_limited_job(tmp_path):
    extra = (JOB.format(schedule="@daily") + "    environments: [staging]\n"
             "remediations:\n  - {name: rerun, action: trigger-job, job: nightly-eval}\n")
    assert_problem(one(tmp_path, extra), "remediations[0].job", "only rendered in some environments")


def test_job_environment_must_exist(tmp_path):
    extra = JOB.format(schedule="@daily") + "    environments: [prd]\n"
    assert_problem(one(tmp_path, extra), "jobs[0].environments[0]", "unknown environment")


def test_jobs_need_a_namespace(tmp_path):
    body = MINIMAL.replace("namespace: ns-a\n", "")
    assert_problem(one(tmp_path, JOB.format(schedule="@daily"), body=body), "jobs", "namespace")


def test_duplicate_names_and_cronjob_collisions(tmp_path):
    extra = (JOB.format(schedule="@daily") + JOB.format(schedule="@hourly").replace("jobs:\n", "")
             + "remediations:\n  - {name: restart, action: rollout-restart}\n  - {name: restart, action: rollout-undo}\n")
    probs = one(tmp_path, extra)
    assert_problem(probs, "jobs[1].name", "declared twice")
    assert_problem(probs, "remediations[1].name", "declared twice")


def test_cronjob_name_collision_across_services(tmp_path):
    root = service_catalog(tmp_path, MINIMAL + JOB.format(schedule="@daily"))
    other = (MINIMAL.replace("service: svc", "service: other").replace("ScoreLow", "OtherScoreLow")
             + JOB.format(schedule="@hourly"))
    (root / "other.yaml").write_text(other)
    probs = problems(root)
    clash = [p for p in probs if p.path == "jobs[0].name"]
    assert clash and "already exists in namespace 'ns-a'" in clash[0].message


@pytest.mark.parametrize("permission, words", [
    ("{resource: '*', verbs: [get]}", ("wildcards are never granted",)),
    ("{api_group: '*', resource: pods, verbs: [get]}", ("wildcards are never granted",)),
    ("{resource: pods, verbs: ['*']}", ("'get'",)),
    ("{api_group: apps, resource: deployments, verbs: [patch]}", ("must be limited to named objects",)),
    ("{resource: pods, verbs: [deletecollection]}", ("'delete'",)),
    ("{resource: secrets, verbs: [list]}", ("Secrets may only be read by name",)),
    ("{api_group: batch, resource: jobs, verbs: [create], names: [x]}", ("cannot be limited by name",)),
])
def test_api_access_least_privilege(tmp_path, permission, words):
    extra = JOB.format(schedule="@daily") + f"    api_access:\n      - {permission}\n"
    probs = one(tmp_path, extra)
    text = " ".join(str(p) for p in probs if p.path.startswith("jobs[0].api_access[0]"))
    assert text, [str(p) for p in probs]
    for w in words:
        assert w in text


def test_run_dry_run_needs_args(tmp_path):
    extra = ("remediations:\n  - name: script\n    action: run\n    image: registry.example.com/t/tool:1.0\n"
             "    command: [tool]\n    dry_run: true\n")
    assert_problem(one(tmp_path, extra), "remediations[0]", "dry_run_args")


def test_resources_request_above_limit(tmp_path):
    extra = JOB.format(schedule="@daily") + "    resources: {requests: {memory: 2Gi}, limits: {memory: 512Mi}}\n"
    assert_problem(one(tmp_path, extra), "jobs[0].resources", "memory request 2Gi is above its limit 512Mi")


def test_long_remediation_name(tmp_path):
    extra = f"remediations:\n  - {{name: {'r' * 31}, action: rollout-restart}}\n"
    assert_problem(one(tmp_path, extra), "remediations[0].name", "at most 30")


def test_cli_exit_2_with_located_message_and_nothing_written(tmp_path, capsys):
    root = service_catalog(tmp_path, MINIMAL + JOB.format(schedule="0 25 * * *"))
    out = tmp_path / "out"
    rc = main(["render", "--catalog", str(root), "--env", "dev", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "svc.yaml:" in err and "jobs[0].schedule" in err and "not a valid cron schedule" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_job_defaults_named_in_defaults_file(tmp_path):
    root = service_catalog(tmp_path, MINIMAL)
    (root / "_defaults.yaml").write_text("jobs:\n  kubectl_image: bitnami/kubectl\n  run_as_user: 0\n")
    probs = problems(root)
    by_path = {p.path: p for p in probs}
    assert by_path["jobs.kubectl_image"].file.endswith("_defaults.yaml")
    assert "no tag" in by_path["jobs.kubectl_image"].message
    assert "jobs.run_as_user" in by_path and by_path["jobs.run_as_user"].line == 3


def test_defaults_change_rendered_objects(tmp_path):
    from conftest_kubernetes import containers, render_one

    root = service_catalog(tmp_path, MINIMAL + "remediations:\n  - {name: restart, action: rollout-restart}\n")
    (root / "_defaults.yaml").write_text("jobs:\n  kubectl_image: registry.example.com/mirror/kubectl:v1.30.2\n"
                                         "  run_as_user: 20000\n  remediation_wait: 2m\n")
    cj = next(d for d in render_one(root) if d["kind"] == "CronJob")
    cs = containers(cj)
    assert {c["image"] for c in cs} == {"registry.example.com/mirror/kubectl:v1.30.2"}
    assert {c["securityContext"]["runAsUser"] for c in cs} == {20000}
    assert cs[-1]["args"][3] == "--timeout=120s"
