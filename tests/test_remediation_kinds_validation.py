"""Bad input to the catalog fields added for the seeds (SSM commands and hosts, Helm rollbacks, level
remediations, manual jobs and volumes, histogram buckets) is an error naming the file, the path and what is
expected; nothing is rendered."""

from __future__ import annotations

import pytest

EC2 = """\
service: ec2-app
team: ops
source: {type: cloudwatch, namespace: App, region: us-east-1}
routing: {warning: app-warning}
{hosts}
metrics:
  score: {type: gauge, range: [0, 1]}
monitors:
  - name: AppScore
    kind: threshold
    metric: score
    op: below
    levels:
      - {alert: AppScoreLow, threshold: 0.5, for: 5m, severity: warning, remediations: [{level_rem}]}
remediations:
  - name: fix-it
    action: ssm-command
    commands: [systemctl restart app]
{extra}
"""

K8S = """\
service: kube-app
team: ops
namespace: apps
workload: {kind: Deployment, name: app}
metrics:
  score: {type: gauge, range: [0, 1]}
  latency: {type: histogram, buckets: [0.1, 0.5, 1]}
monitors:
  - name: KubeScore
    kind: threshold
    metric: score
    op: below
    threshold: 0.5
    severity: warning
{monitor}
jobs:
{job}
remediations:
{rem}
"""

JOB = """  - {name: nightly, schedule: "0 1 * * *", image: "reg/app:1.0"}"""
REM = """  - {name: restart, action: rollout-restart}"""


def ec2(hosts="hosts: {tags: {Application: app}}", level_rem="fix-it", extra=""):
    return {"ec2-app.yaml": EC2.replace("{hosts}", hosts).replace("{level_rem}", level_rem).replace("{extra}", extra)}


def k8s(monitor="", job=JOB, rem=REM):
    return {"kube-app.yaml": K8S.replace("{monitor}", monitor).replace("{job}", job).replace("{rem}", rem)}


def test_the_valid_catalogs_pass(make_catalog, cli):
    r = cli("check", "--catalog", str(make_catalog({**ec2(), **k8s()})))
    assert r.code == 0, r.err


@pytest.mark.parametrize("files, where, words", [
    (ec2(hosts=""), "remediations[0].action", "declare them under `hosts:`"),
    (ec2(hosts="hosts: {tags: {Application: app}, instance_ids: [i-0123456789abcdef0]}"), "hosts",
     "exactly one of `tags`"),
    (ec2(hosts="hosts: {instance_ids: [i-xyz]}"), "hosts", "not EC2 instance ids"),
    (ec2(level_rem="nope"), "monitors[0].levels[0].remediations[0]", "unknown remediation 'nope'"),
    (ec2(extra="    parameters: {Id: {description: d, pattern: '[a-z]+'}}"), "remediations[0].parameters.Id.pattern",
     "must be anchored"),
    (ec2(extra="    timeout: 3d"), "remediations[0].timeout", "172800"),
    (ec2(extra="    dry_run: true"), "remediations[0]", "not offered for ssm-command"),
    (k8s(job='  - {name: phase-2, image: "reg/app:1.0"}'), "jobs[0]", "set `suspend: true`"),
    (k8s(job='  - {name: j, schedule: "@daily", image: "reg/app:1.0", volumes: [{claim: data, mount_path: /tmp/x}]}'),
     "jobs[0].volumes[0].mount_path", "/tmp is the job's scratch emptyDir"),
    (k8s(rem="  - {name: rb, action: helm-rollback, chart_objects: []}"), "remediations[0].chart_objects",
     "at least 1"),
    (k8s(rem="  - {name: rb, action: helm-rollback, revision: 2, before_revision_matching: x, "
             "chart_objects: [{resource: configmaps, name: c}]}"), "remediations[0]", "not both"),
    (k8s(monitor='  - {name: KubeSlow, kind: raw, expr: \'sum(rate(latency_bucket{le="0.25"}[5m])) > 1\', '
                 'tests: {fires: {input: [], at: 1m}, silent: {input: [], at: 1m}}}'),
     "monitors[1].expr", "declare that boundary in metrics.latency.buckets"),
])
def test_bad_input_names_file_path_and_expectation(make_catalog, cli, tmp_path, files, where, words):
    root = make_catalog(files)
    out = tmp_path / "out"
    r = cli("render", "--catalog", str(root), "--env", "prod", "--out", str(out))
    assert r.code != 0 and not out.exists()
    assert where in r.err and words in r.err, r.err
    assert "Traceback" not in r.err
