"""Rendered CronJobs and remediation templates: safe defaults, restricted pods, least-privilege RBAC, seeds."""

from __future__ import annotations

import shlex

import pytest
import yaml

from conftest_kubernetes import (MINIMAL, all_docs, containers, find, pod_spec, render_one, rendered, repo_catalog,
                                 service_catalog)
from generators import alertmeta
from generators.kubernetes.policy import violations
from generators.render import render, serialize_all
from generators.resolve import resolve

ENVS = ("dev", "staging", "prod")
MUTATING = {"create", "update", "patch", "delete", "deletecollection"}


def cronjobs(env=None):
    return [(e, d) for e, d in all_docs(env) if d["kind"] == "CronJob"]


# ---------------------------------------------------------------------------------------------
# least privilege


def test_no_cluster_scoped_rbac_anywhere():
    kinds = {d["kind"] for _, d in all_docs()}
    assert {"Role", "RoleBinding", "CronJob", "ServiceAccount"} <= kinds
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}


def test_no_wildcard_in_any_role():
    roles = [d for _, d in all_docs() if d["kind"] == "Role"]
    assert len(roles) >= 10
    for role in roles:
        for rule in role["rules"]:
            for field, values in rule.items():
                assert "*" not in "".join(values), (role["metadata"]["name"], field)


def test_every_mutating_verb_scoped_by_resource_names_except_create():
    """Every mutating verb is limited by resourceNames, except create, which Kubernetes cannot scope by
    name (the new object's name is unknown when the request is authorized). mlmon grants create only on
    batch/jobs, for trigger-job remediations (a Job from one named CronJob), and on Helm's release storage
    for helm-rollback (the new revision's Secret; with the unscopable label-selector list Helm needs)."""
    creates = []
    for env, role in [(e, d) for e, d in all_docs() if d["kind"] == "Role"]:
        for rule in role["rules"]:
            verbs = set(rule["verbs"])
            assert not verbs & {"deletecollection", "escalate", "bind", "impersonate"}
            scoped_needed = verbs & (MUTATING - {"create"})
            if scoped_needed:
                assert rule.get("resourceNames"), (role["metadata"]["name"], rule)
            if "create" in verbs:
                creates.append((role, rule))
                assert "resourceNames" not in rule
                if role["metadata"]["labels"]["mlmon.io/action"] == "helm-rollback":
                    assert rule == {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list", "create"]}
                else:
                    assert rule == {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]}
    assert creates, "the seeds have trigger-job remediations"
    for role, _ in creates:
        if role["metadata"]["labels"]["mlmon.io/action"] == "helm-rollback":
            continue
        assert role["metadata"]["labels"]["mlmon.io/action"] == "trigger-job"
        # ... and the same Role reads exactly the one CronJob it copies
        gets = [r for r in role["rules"] if r["resources"] == ["cronjobs"]]
        assert gets and gets[0]["verbs"] == ["get"] and len(gets[0]["resourceNames"]) == 1


def test_rolebindings_bind_own_role_to_own_service_account():
    for _, rb in [(e, d) for e, d in all_docs() if d["kind"] == "RoleBinding"]:
        name, ns = rb["metadata"]["name"], rb["metadata"]["namespace"]
        assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
        assert rb["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": ns}]


# ---------------------------------------------------------------------------------------------
# restricted pods


@pytest.mark.parametrize("env", ENVS)
def test_every_container_restricted(env):
    jobs = cronjobs(env)
    assert len(jobs) >= 15
    for _, cj in jobs:
        spec = pod_spec(cj)
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["runAsUser"] >= 10000
        assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
        tmp = [v for v in spec["volumes"] if v["name"] == "tmp"]
        assert tmp and "emptyDir" in tmp[0]
        for c in containers(cj):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["runAsNonRoot"] is True
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            assert sc["privileged"] is False
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) == {"cpu", "memory"}
            assert ":" in c["image"].rsplit("/", 1)[-1] and not c["image"].endswith(":latest")


def test_api_token_only_where_the_job_uses_the_api():
    seen = {True: 0, False: 0}
    for env, cj in cronjobs():
        ns, sa = cj["metadata"]["namespace"], pod_spec(cj)["serviceAccountName"]
        has_role = any(d["kind"] == "RoleBinding" and d["metadata"]["name"] == sa and d["metadata"]["namespace"] == ns
                       for e, d in all_docs(env))
        mounts = pod_spec(cj)["automountServiceAccountToken"]
        assert mounts is has_role, cj["metadata"]["name"]
        seen[mounts] += 1
        sa_doc = find(env, "ServiceAccount", sa, ns)
        assert sa_doc["automountServiceAccountToken"] is False
    assert seen[True] and seen[False]
    # a `run` remediation without api_access has no Role and no token
    rollback = find("prod", "CronJob", "remediate-rollback-technical-model")
    assert pod_spec(rollback)["automountServiceAccountToken"] is False
    assert not [d for _, d in all_docs("prod") if d["kind"] == "Role"
                and d["metadata"]["name"] == "remediate-rollback-technical-model"]


def test_policy_passes_on_every_rendered_file():
    for env in ENVS:
        for path, docs in rendered(env).items():
            assert violations(docs) == [], path


# ---------------------------------------------------------------------------------------------
# scheduled jobs


def test_scheduled_job_safe_defaults():
    cj = find("prod", "CronJob", "model-retraining", "production")
    spec = cj["spec"]
    assert spec["schedule"] == "0 2 * * 0" and spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    assert spec["successfulJobsHistoryLimit"] == 3 and spec["failedJobsHistoryLimit"] == 3
    assert spec["suspend"] is False
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 1 and job["activeDeadlineSeconds"] == 6 * 3600
    assert job["ttlSecondsAfterFinished"] == 86400
    assert pod_spec(cj)["restartPolicy"] == "Never"
    (c,) = containers(cj)
    assert c["resources"] == {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "16Gi"}}
    assert {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "function-gemma-training", "key": "hf-token"}}} \
        in c["env"]
    assert {"name": "MLFLOW_TRACKING_URI", "value": "https://mlflow.example.com"} in c["env"]
    assert pod_spec(cj)["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "20Gi"}}]
    assert cj["metadata"]["annotations"]["mlmon.io/run-now"] == (
        "kubectl create job --from=cronjob/model-retraining model-retraining-$(date +%Y%m%d-%H%M%S) -n production")


def test_defaults_fill_unset_job_fields():
    cj = find("prod", "CronJob", "reasoning-evaluation", "production")
    d = repo_catalog().defaults.jobs
    (c,) = containers(cj)
    assert c["resources"]["requests"] == {"cpu": d.resources.requests.cpu, "memory": d.resources.requests.memory}
    assert "timeZone" not in cj["spec"]
    assert cj["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 20 * 60


def test_seed_jobs_present():
    assert find("prod", "CronJob", "model-performance-monitor", "neural-hive-orchestration")["spec"]["schedule"] \
        == "*/15 * * * *"
    auto = find("prod", "CronJob", "auto-retrain", "neural-hive-orchestration")
    assert containers(auto)[0]["command"] == ["python", "ml_pipelines/monitoring/auto_retrain.py"]
    for name in ("daily-eval", "weekly-flywheel"):
        find("prod", "CronJob", name, "rag-pipeline")
    # the monthly load test runs against staging only
    find("staging", "CronJob", "monthly-load-test", "rag-pipeline")
    for env in ("dev", "prod"):
        with pytest.raises(AssertionError):
            find(env, "CronJob", "monthly-load-test")


def test_config_map_env_and_partial_resources(tmp_path):
    root = service_catalog(tmp_path, MINIMAL + """
jobs:
  - name: check
    schedule: "@hourly"
    image: registry.example.com/t/check:1.0
    env:
      THRESHOLD: 0.65
      ENABLED: true
      MODE: {config_map: {name: settings, key: mode, optional: true}}
    resources: {limits: {memory: 2Gi}}
    suspend: true
    concurrency: Replace
""")
    (cj,) = [d for d in render_one(root) if d["kind"] == "CronJob"]
    (c,) = containers(cj)
    assert c["env"][1:] == [{"name": "THRESHOLD", "value": "0.65"}, {"name": "ENABLED", "value": "true"},
                            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode",
                                                                                "optional": True}}}]
    assert c["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}
    assert cj["spec"]["suspend"] is True and cj["spec"]["concurrencyPolicy"] == "Replace"
    assert pod_spec(cj)["automountServiceAccountToken"] is False
    assert [d["kind"] for d in render_one(root) if d["kind"] in ("Role", "RoleBinding")] == []


def test_job_with_api_access_gets_role_and_token(tmp_path):
    root = service_catalog(tmp_path, MINIMAL + """
jobs:
  - name: reporter
    schedule: "@daily"
    image: registry.example.com/t/reporter:1.0
    api_access:
      - {resource: configmaps, verbs: [get, patch], names: [report]}
      - {resource: pods, verbs: [list]}
""")
    docs = render_one(root)
    role = next(d for d in docs if d["kind"] == "Role")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["report"], "verbs": ["get", "patch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    ]
    cj = next(d for d in docs if d["kind"] == "CronJob")
    assert pod_spec(cj)["automountServiceAccountToken"] is True
    assert cj["metadata"]["annotations"]["checkov.io/skip1"].startswith("CKV_K8S_38=")
    assert violations(docs) == []


# ---------------------------------------------------------------------------------------------
# remediations: one per action, exact kubectl calls and exact permissions

ACTIONS = """
jobs:
  - name: retraining
    schedule: "@weekly"
    image: registry.example.com/t/train:1.0
remediations:
  - {name: restart, action: rollout-restart}
  - {name: undo, action: rollout-undo, to_revision: 3}
  - {name: scale-up, action: scale, replicas: 4, wait: 0}
  - {name: flag-off, action: set-env, env: {FEATURE_X: false}, container: api}
  - {name: threshold, action: patch-configmap, configmap: api-config, data: {LIMIT: 0.65}, restart: true}
  - {name: cm-only, action: patch-configmap, configmap: api-config, data: {LIMIT: "1"}}
  - {name: retrain, action: trigger-job, job: retraining}
  - {name: restart-dry, action: rollout-restart, dry_run: true}
  - name: promote
    action: run
    image: registry.example.com/t/promote:2.0
    command: [python, -m, promote]
    args: [rollback]
    dry_run: true
    dry_run_args: [--dry-run]
"""

NS = "--namespace=ns-a"
STATUS = ["rollout", "status", "deployment/api", "--timeout=300s", NS]
GET_PATCH = {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["api"], "verbs": ["get", "patch"]}
WAIT = {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["api"],
        "verbs": ["get", "list", "watch", "patch"]}


@pytest.fixture(scope="module")
def action_docs(tmp_path_factory):
    root = service_catalog(tmp_path_factory.mktemp("actions"), MINIMAL + ACTIONS)
    return render_one(root)


def _template(docs, name):
    cj = next(d for d in docs if d["kind"] == "CronJob" and d["metadata"]["name"] == f"remediate-{name}")
    role = next((d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == f"remediate-{name}"), None)
    steps = [(c["name"], c["args"]) for c in containers(cj)]
    return cj, role, steps


@pytest.mark.parametrize("name, steps, rules", [
    ("restart", [("rollout-restart", ["rollout", "restart", "deployment/api", NS]), ("rollout-status", STATUS)],
     [WAIT]),
    ("undo", [("rollout-undo", ["rollout", "undo", "deployment/api", "--to-revision=3", NS]),
              ("rollout-status", STATUS)],
     [WAIT, {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["list"]}]),
    ("scale-up", [("scale", ["scale", "deployment/api", "--replicas=4", NS])],
     [{"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["api"], "verbs": ["get"]},
      {"apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": ["api"], "verbs": ["patch"]}]),
    ("flag-off", [("set-env", ["set", "env", "deployment/api", "FEATURE_X=false", "--containers=api", NS]),
                  ("rollout-status", STATUS)], [WAIT]),
    ("threshold", [("patch-configmap", ["patch", "configmap", "api-config", "--type=merge",
                                        '--patch={"data":{"LIMIT":"0.65"}}', NS]),
                   ("rollout-restart", ["rollout", "restart", "deployment/api", NS]), ("rollout-status", STATUS)],
     [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["api-config"], "verbs": ["get", "patch"]},
      WAIT]),
    ("cm-only", [("patch-configmap", ["patch", "configmap", "api-config", "--type=merge",
                                      '--patch={"data":{"LIMIT":"1"}}', NS])],
     [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["api-config"], "verbs": ["get", "patch"]}]),
    ("retrain", [("create-job", ["create", "job", "$(MLMON_JOB_NAME)-run", "--from=cronjob/retraining", NS])],
     [{"apiGroups": ["batch"], "resources": ["cronjobs"], "resourceNames": ["retraining"], "verbs": ["get"]},
      {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]}]),
    ("restart-dry", [("rollout-restart", ["rollout", "restart", "deployment/api", NS, "--dry-run=server"])],
     [GET_PATCH]),
])
def test_remediation_steps_and_exact_permissions(action_docs, name, steps, rules):
    cj, role, got = _template(action_docs, name)
    assert got == steps
    assert sorted(role["rules"], key=str) == sorted(rules, key=str)
    spec = pod_spec(cj)
    assert spec["automountServiceAccountToken"] is True
    kubectl = repo_catalog().defaults.jobs.kubectl_image
    assert all(c["image"] == kubectl and "command" not in c for c in containers(cj))  # entrypoint: kubectl
    # steps run in order: all but the last as init containers
    assert [c["name"] for c in spec.get("initContainers", [])] == [s for s, _ in steps[:-1]]


def test_remediation_template_is_suspended_and_never_retried(action_docs):
    for cj in [d for d in action_docs if d["kind"] == "CronJob" and d["metadata"]["name"].startswith("remediate-")]:
        assert cj["spec"]["suspend"] is True
        assert cj["spec"]["schedule"] == "0 0 31 2 *"  # 31 February: never, even if unsuspended
        job = cj["spec"]["jobTemplate"]["spec"]
        assert job["backoffLimit"] == 0  # a retried `rollout undo` would undo the undo
        assert job["activeDeadlineSeconds"] == 900
        assert cj["metadata"]["labels"]["app.kubernetes.io/component"] == "remediation"


def test_trigger_job_names_the_new_job_after_its_own(action_docs):
    cj, _, _ = _template(action_docs, "retrain")
    env = containers(cj)[0]["env"]
    assert {"name": "MLMON_JOB_NAME",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}}} in env


def test_dry_run_marks_every_mutating_call(action_docs):
    cj, role, steps = _template(action_docs, "restart-dry")
    assert cj["metadata"]["annotations"]["mlmon.io/dry-run"] == "true"
    assert all("--dry-run=server" in args for _, args in steps)
    promote, role, _ = _template(action_docs, "promote")
    (c,) = containers(promote)
    assert c["image"] == "registry.example.com/t/promote:2.0"
    assert c["command"] == ["python", "-m", "promote"] and c["args"] == ["rollback", "--dry-run"]
    assert role is None and pod_spec(promote)["automountServiceAccountToken"] is False


def test_action_templates_pass_policy(action_docs):
    assert violations(action_docs) == []


# ---------------------------------------------------------------------------------------------
# seeds' remediations


def test_seed_rl_feedback_remediations():
    env_off = find("prod", "CronJob", "remediate-disable-trajectory-eval", "crew")
    assert containers(env_off)[0]["args"] == ["set", "env", "deployment/crew-api",
                                              "ENABLE_TRAJECTORY_EVALUATION=false", "--namespace=crew"]
    restart = find("prod", "CronJob", "remediate-restart-crew-api", "crew")
    assert containers(restart)[0]["args"] == ["rollout", "restart", "deployment/crew-api", "--namespace=crew"]
    role = find("prod", "Role", "remediate-restart-crew-api", "crew")
    assert {tuple(r["resourceNames"]) for r in role["rules"]} == {("crew-api",)}


def test_seed_neural_hive_configmap_patches():
    fallback = find("prod", "CronJob", "remediate-enable-ml-fallback", "neural-hive-orchestration")
    args = [c["args"] for c in containers(fallback)]
    assert args[0][:4] == ["patch", "configmap", "orchestrator-config", "--type=merge"]
    assert args[0][4] == '--patch={"data":{"ML_FALLBACK_ENABLED":"true","ML_FALLBACK_THRESHOLD":"0.65"}}'
    assert args[1][:3] == ["rollout", "restart", "deployment/orchestrator-dynamic"]
    threshold = find("prod", "CronJob", "remediate-lower-confidence-threshold", "neural-hive-orchestration")
    assert containers(threshold)[0]["args"][4] == '--patch={"data":{"ML_CONFIDENCE_THRESHOLD":"0.65"}}'
    rollback = find("prod", "CronJob", "remediate-rollback-technical-model", "neural-hive-orchestration")
    assert containers(rollback)[0]["args"] == ["rollback", "--model-name", "technical_specialist", "--reason",
                                               "performance_degradation"]


def test_seed_function_gemma_rollback_and_retrain():
    undo = find("prod", "CronJob", "remediate-rollback-model", "production")
    assert containers(undo)[0]["args"][:3] == ["rollout", "undo", "deployment/function-gemma-agent"]
    retrain = find("prod", "CronJob", "remediate-retrain-model", "production")
    assert "--from=cronjob/model-retraining" in containers(retrain)[0]["args"]


# ---------------------------------------------------------------------------------------------
# alerts name their remediations, with the exact command


def _cronjob_from_command(cmd: str):
    argv = shlex.split(cmd.replace("$(date +%Y%m%d-%H%M%S)", "TS"))
    assert argv[:3] == ["kubectl", "create", "job"]
    src = next(a for a in argv if a.startswith("--from=cronjob/")).split("/", 1)[1]
    ns = argv[argv.index("-n") + 1]
    return src, ns, argv


def test_every_alert_command_runs_a_rendered_suspended_template():
    checked = 0
    for env in ENVS:
        for rs in resolve(repo_catalog(), env):
            for a in rs.alerts:
                pairs = alertmeta.remediations(a, rs)
                assert [n for n, _ in pairs] == list(a.remediations)  # the level's own, else the monitor's
                pairs = [(n, c) for n, c in pairs if c.startswith("kubectl ")]  # SSM ones: tests/test_ssm.py
                for name, cmd in pairs:
                    src, ns, argv = _cronjob_from_command(cmd)
                    cj = find(env, "CronJob", src, ns)
                    assert cj["spec"]["suspend"] is True
                    assert cj["metadata"]["labels"]["mlmon.io/remediation"] == name
                    assert cj["metadata"]["annotations"]["mlmon.io/run"] == cmd
                    assert len(argv[3].replace("TS", "20261122-151500") + "-run") <= 63
                    checked += 1
    assert checked > 20


def test_annotation_lists_commands_in_rules_and_promtool_expectations():
    cat = repo_catalog()
    arts = {a.path: a for a in render(cat, "prod")}
    rules = yaml.safe_load(arts["prometheus/rl-feedback-loop.rules.yaml"].serialize())
    stalled = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "RLFeedbackProcessingStalled")
    assert stalled["annotations"]["remediations"] == (
        "restart-crew-api: kubectl create job --from=cronjob/remediate-restart-crew-api "
        "remediate-restart-crew-api-$(date +%Y%m%d-%H%M%S) -n crew\n"
        "disable-trajectory-eval: kubectl create job --from=cronjob/remediate-disable-trajectory-eval "
        "remediate-disable-trajectory-eval-$(date +%Y%m%d-%H%M%S) -n crew")
    tests = arts["prometheus/rl-feedback-loop.tests.yaml"].serialize().decode()
    assert "remediate-disable-trajectory-eval-$(date +%Y%m%d-%H%M%S) -n crew" in tests
    # alerts without remediations carry no such annotation
    succ = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "RLFeedbackSuccessRateFastBurn")
    assert "remediations" not in succ["annotations"]


def test_render_is_deterministic():
    cat = repo_catalog()
    assert serialize_all(render(cat, "prod")) == serialize_all(render(cat, "prod"))


def test_no_yaml_aliases_in_manifests():
    for a in render(repo_catalog(), "prod"):
        if a.path.startswith("kubernetes/"):
            text = a.serialize().decode()
            assert "&id0" not in text and "*id0" not in text


def test_policy_catches_violations():
    docs = rendered("prod")["kubernetes/rl-feedback-loop.yaml"]
    role = next(d for d in docs if d["kind"] == "Role")
    cj = next(d for d in docs if d["kind"] == "CronJob")
    import copy

    bad_role = copy.deepcopy(role)
    bad_role["rules"].append({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]})
    bad_role["rules"].append({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]})
    bad_cj = copy.deepcopy(cj)
    c = pod_spec(bad_cj)["containers"][0]
    c["securityContext"]["capabilities"] = {"drop": ["NET_RAW"]}
    c["securityContext"]["readOnlyRootFilesystem"] = False
    c["image"] = "registry.k8s.io/kubectl:latest"
    del c["resources"]["limits"]["memory"]
    c["volumeMounts"] = []
    cluster = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"},
               "rules": []}
    no_role = copy.deepcopy(next(d for d in docs if d["kind"] == "CronJob"
                                 and d["metadata"]["name"] == "remediate-restart-crew-api"))
    no_role["metadata"]["namespace"] = "elsewhere"
    text = "\n".join(violations([bad_role, bad_cj, cluster, no_role]))
    for expected in ("patch not limited by resourceNames", "wildcard in resources", "capabilities must drop ALL",
                     "readOnlyRootFilesystem must be true", "not pinned", "no memory limit", "no emptyDir mounted at /tmp",
                     "cluster-wide RBAC", "bound to no Role"):
        assert expected in text, expected
