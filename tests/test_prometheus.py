"""The Prometheus outputs: the seeds' alerts as PromQL, labels/annotations on every rule, overrides per
environment, the PrometheusRule object, and promtool checking and unit-testing all of it."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from conftest import requires_promtool
from generators.kubernetes.validate import prometheus_rule_errors
from generators.loader import load_catalog
from generators.prometheus.rules import prometheus_rule, rule_file
from generators.render import render, serialize_all, write_atomic
from generators.resolve import resolve

ENVS = ("dev", "staging", "prod")


def rules_by_alert(catalog, env):
    out = {}
    for rs in resolve(catalog, env):
        if not rs.is_prometheus:
            continue
        for g in rule_file(rs)["groups"]:
            for r in g["rules"]:
                if "alert" in r:
                    out[r["alert"]] = r
    return out


@pytest.fixture(scope="module")
def prod(repo_catalog):
    return rules_by_alert(repo_catalog, "prod")


def test_seed_000_reasoning_drift(prod):
    r = prod["ReasoningDriftHigh"]
    assert r["expr"] == "agent_reasoning_quality_score < 0.7"  # the runbook's Alert Definition (see the catalog)
    assert r["for"] == "5m" and r["labels"]["severity"] == "warning"


def test_seed_001_specialists(prod):
    assert prod["MLModelDegraded"]["expr"] == "neural_hive_model_degradation_detected == 1"
    assert prod["MLModelLowPerformance"]["expr"] == "neural_hive_model_performance_score < 0.65"
    assert prod["MLModelLowF1Score"]["expr"] == "neural_hive_mlflow_model_f1 < 0.72"
    # the runbook's intent (gradual decline) with the unit made explicit: per hour, not per second
    assert prod["MLModelPerformanceDeclining"]["expr"] == \
        "deriv(neural_hive_model_performance_score[6h]) * 3600 < -0.01"
    assert prod["MLModelPerformanceDeclining"]["for"] == "30m"
    assert {prod[a]["labels"]["severity"] for a in ("MLModelDegraded", "MLModelLowPerformance",
                                                    "MLModelLowF1Score", "MLModelPerformanceDeclining")} == {"warning"}


def test_seed_004_rl_feedback(prod):
    # a failed-items counter created by its first failure counts from zero (increase() alone reads 0)
    assert prod["RLFeedbackProcessingFailures"]["expr"] == (
        "(((rl_feedback_failed_total unless rl_feedback_failed_total offset 15m) "
        "and on (job, instance) up offset 15m) or increase(rl_feedback_failed_total[15m])) > 0")
    assert prod["RLFeedbackProcessingFailures"]["labels"]["severity"] == "page"
    high, crit = prod["RLFeedbackQueueDepthHigh"], prod["RLFeedbackQueueDepthCritical"]
    assert (high["expr"], high["for"], high["labels"]["severity"]) == ("rl_feedback_queue_depth > 25", "15m", "ticket")
    assert (crit["expr"], crit["for"], crit["labels"]["severity"]) == ("rl_feedback_queue_depth > 100", "10m", "page")
    stalled = prod["RLFeedbackProcessingStalled"]
    # per process (instance), items waiting for the 5m tolerance, progress counted from a new counter's birth
    assert " ".join(stalled["expr"].split()) == (
        "( rl_feedback_queue_depth > 0 and min_over_time(rl_feedback_queue_depth[5m]) > 0 "
        "and on (tenant, workspace, instance) rl_feedback_queue_depth offset 30m ) "
        "unless on (tenant, workspace, instance) "
        "( (((rl_feedback_processed_total unless rl_feedback_processed_total offset 30m) "
        "and on (job, instance) up offset 30m) or increase(rl_feedback_processed_total[30m])) > 0 )")
    assert stalled["labels"]["severity"] == "page"
    # batch latency SLO of 5 s on a histogram in milliseconds
    assert prod["RLFeedbackBatchLatencyHigh"]["expr"].endswith(") / 1000 > 5")  # compared in seconds
    assert "sum by (le, tenant, workspace)" in prod["RLFeedbackBatchLatencyHigh"]["expr"]


def test_ratio_slo_multiwindow_multi_burn_rate(repo_catalog):
    rs = next(r for r in resolve(repo_catalog, "prod") if r.name == "rl-feedback-loop")
    groups = {g["name"]: g for g in rule_file(rs)["groups"]}
    slo = groups["rl-feedback-loop.slo.RLFeedbackSuccessRate"]
    records = [r for r in slo["rules"] if "record" in r]
    windows = {r["record"].rsplit("rate", 1)[1] for r in records if ":rate" in r["record"]}
    assert windows == {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
    # then, for dashboards: errors per second, the period's error ratio, the objective, the budget remaining
    assert [r["record"] for r in records if ":rate" not in r["record"] or ":errors:" in r["record"]] == [
        "mlmon_slo:errors:rate5m", "mlmon_slo:error_ratio:period", "mlmon_slo:objective",
        "mlmon_slo:error_budget_remaining"]
    ratio_5m = next(r for r in records if r["record"] == "mlmon_slo:error_ratio:rate5m")
    assert "rate(rl_feedback_failed_total[5m])" in ratio_5m["expr"]
    assert "rate(rl_feedback_processed_total[5m])" in ratio_5m["expr"]
    assert ratio_5m["labels"] == {"service": "rl-feedback-loop", "slo": "RLFeedbackSuccessRate"}
    alerts = {r["alert"]: r for r in slo["rules"] if "alert" in r}
    # alerts come after the recording rules they read (same group: evaluated in order)
    assert [("record" in r) for r in slo["rules"]] == [True] * len(records) + [False] * 2
    fast = " ".join(alerts["RLFeedbackSuccessRateFastBurn"]["expr"].split())
    slow = " ".join(alerts["RLFeedbackSuccessRateSlowBurn"]["expr"].split())
    for factor, long, short in (("14.4", "1h", "5m"), ("6", "6h", "30m")):
        assert f"mlmon_slo:error_ratio:rate{long}{{service=\"rl-feedback-loop\",slo=\"RLFeedbackSuccessRate\"}} > ({factor} * 0.01)" in fast
        assert f"mlmon_slo:error_ratio:rate{short}{{service=\"rl-feedback-loop\",slo=\"RLFeedbackSuccessRate\"}} > ({factor} * 0.01)" in fast
        assert f"mlmon_slo:events:rate{short}" in fast  # low-traffic guard
    for factor in ("3", "1"):
        assert f"> ({factor} * 0.01)" in slow
    assert alerts["RLFeedbackSuccessRateFastBurn"]["labels"]["severity"] == "page"
    assert alerts["RLFeedbackSuccessRateSlowBurn"]["labels"]["severity"] == "ticket"


def test_labels_and_annotations_on_every_rule(repo_catalog):
    for env in ENVS:
        for name, r in rules_by_alert(repo_catalog, env).items():
            labels, ann = r["labels"], r["annotations"]
            assert labels["env"] == env and labels["severity"] and labels["service"] and labels["team"], name
            assert set(ann) >= {"summary", "description", "runbook_url", "dashboard_url"}, name
            assert ann["runbook_url"].startswith("https://") and name in ann["runbook_url"]
            assert re.search(r"\{\{[^}]*\$value[^}]*\}\}", ann["description"]) or "burning" in ann["description"], name
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)


def test_routing_receiver_label(prod):
    assert prod["RLFeedbackQueueDepthCritical"]["labels"]["receiver"] == "ml-infrastructure-pagerduty"
    assert prod["RLFeedbackQueueDepthHigh"]["labels"]["receiver"] == "ml-routing-support"


def test_overrides_apply_per_environment(repo_catalog):
    dev, prod = rules_by_alert(repo_catalog, "dev"), rules_by_alert(repo_catalog, "prod")
    assert (dev["ReasoningDriftHigh"]["for"], dev["ReasoningDriftHigh"]["labels"]["severity"]) == ("15m", "info")
    assert (prod["ReasoningDriftHigh"]["for"], prod["ReasoningDriftHigh"]["labels"]["severity"]) == ("5m", "warning")
    assert "RAGInjectionBlockSpike" not in dev and "RAGInjectionBlockSpike" in prod


LEVELS = """\
service: svc
team: ml
metrics:
  depth: {type: gauge, range: [0, 10000]}
monitors:
  - name: Depth
    kind: threshold
    metric: depth
    levels:
      - alert: DepthHigh
        threshold: 25
        for: 15m
        severity: ticket
        overrides:
          dev: {threshold: 50, for: 30m}
          staging: {enabled: false}
      - alert: DepthCritical
        threshold: 100
        for: 10m
        severity: page
        overrides:
          dev: {severity: ticket}
  - name: DepthGone
    kind: absent
    metric: depth
    severity: warning
    overrides:
      dev: {enabled: false}
"""


def test_level_overrides(make_catalog):
    cat = load_catalog(make_catalog({"svc.yaml": LEVELS}))
    dev, staging, prod = (rules_by_alert(cat, e) for e in ENVS)
    assert (dev["DepthHigh"]["expr"], dev["DepthHigh"]["for"]) == ("depth > 50", "30m")
    assert dev["DepthCritical"]["labels"]["severity"] == "ticket"
    assert "DepthHigh" not in staging and staging["DepthCritical"]["labels"]["severity"] == "page"
    assert (prod["DepthHigh"]["expr"], prod["DepthHigh"]["for"]) == ("depth > 25", "15m")
    assert "DepthGone" not in dev and prod["DepthGone"]["expr"] == "absent(depth)"
    assert prod["DepthGone"]["for"] == "10m"  # the absent kind's default


def test_prometheus_rule_validates_against_crd(repo_catalog):
    for env in ENVS:
        for rs in resolve(repo_catalog, env):
            if rs.is_prometheus:
                obj = prometheus_rule(rs)
                assert prometheus_rule_errors(obj) == []
                assert obj["metadata"]["namespace"] == rs.service.namespace
                assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
                assert obj["spec"]["groups"] == rule_file(rs)["groups"]


def test_renders_are_byte_identical(repo_catalog):
    for env in ENVS:
        assert serialize_all(render(repo_catalog, env)) == serialize_all(render(repo_catalog, env))


def test_render_contract_paths(repo_catalog):
    paths = {a.path for a in render(repo_catalog, "prod")}
    for svc in ("function-gemma-agent", "neural-hive-specialists", "rag-enterprise-pipeline", "rl-feedback-loop"):
        assert f"prometheus/{svc}.rules.yaml" in paths
        assert f"prometheus/{svc}.tests.yaml" in paths
        assert f"kubernetes/{svc}.yaml" in paths
    assert "prometheus/boltit-pilot.rules.yaml" not in paths  # a CloudWatch service


def test_every_alert_has_unit_tests(repo_catalog):
    for env in ENVS:
        for a in render(repo_catalog, env):
            if a.path.endswith(".tests.yaml"):
                rules = yaml.safe_load(render_map(repo_catalog, env)[a.path.replace(".tests.", ".rules.")])
                alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
                tested = {t["alertname"] for g in a.content["tests"] for t in g["alert_rule_test"]}
                assert alerts == tested, a.path
                # groups of several alerts are packed into one promtool group; its name lists every member's
                members = [m for g in a.content["tests"] for m in g["name"].split(" | ")]
                for name in alerts:
                    groups = [m for m in members if m.startswith(f"{name}: ")]
                    fires = [t for g in a.content["tests"] for t in g["alert_rule_test"]
                             if t["alertname"] == name and t["exp_alerts"]]
                    if any("(catalog case)" in g for g in groups):
                        # raw monitors: no generated boundary; the catalog's own firing and silent cases
                        quiet = [g for g in groups if g.endswith("stays quiet (catalog case)")]
                    else:
                        quiet = [g for g in groups if "just inside" in g]
                    assert fires and quiet, name


def render_map(catalog, env):
    return {k: v.decode() for k, v in serialize_all(render(catalog, env)).items()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, repo_catalog):
    out = {}
    for env in ENVS:
        d = tmp_path_factory.mktemp(env) / "out"
        write_atomic(serialize_all(render(repo_catalog, env)), d)
        out[env] = d
    return out


@requires_promtool
@pytest.mark.parametrize("env", ENVS)
def test_promtool_check_and_test_rules(rendered, env):
    prom = rendered[env] / "prometheus"
    rules = sorted(prom.glob("*.rules.yaml"))
    assert len(rules) == 4
    r = subprocess.run(["promtool", "check", "rules", *map(str, rules)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    for t in sorted(prom.glob("*.tests.yaml")):
        r = subprocess.run(["promtool", "test", "rules", t.name], capture_output=True, text=True, cwd=prom)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert "SUCCESS" in r.stdout


def _mutate_for(rules: dict, alert: str, extra: str) -> dict:
    for g in rules["groups"]:
        for r in g["rules"]:
            if r.get("alert") == alert:
                r["for"] = extra
    return rules


@requires_promtool
def test_generated_tests_catch_a_wrong_duration(rendered, repo_catalog, tmp_path):
    """The generated tests are not vacuous: lengthen an alert's `for` and its tests fail (one alert of
    every kind, and every ratio burn alert)."""
    picked: dict[str, tuple[str, str]] = {}
    for rs in resolve(repo_catalog, "prod"):
        if rs.is_prometheus:
            for a in rs.alerts:
                picked.setdefault(a.kind if a.kind != "ratio" else a.name, (rs.name, a.name))
    assert {"threshold", "flag", "trend", "failures", "stalled", "latency"} <= set(picked)
    prom = rendered["prod"] / "prometheus"
    for svc, alert in picked.values():
        work = tmp_path / alert
        work.mkdir()
        shutil.copy(prom / f"{svc}.tests.yaml", work)
        mutated = _mutate_for(yaml.safe_load((prom / f"{svc}.rules.yaml").read_text()), alert, "3h")
        (work / f"{svc}.rules.yaml").write_text(yaml.safe_dump(mutated))
        r = subprocess.run(["promtool", "test", "rules", f"{svc}.tests.yaml"], capture_output=True, text=True,
                           cwd=work)
        assert r.returncode != 0, f"tests of {alert} still pass with for: 3h"
        assert alert in r.stdout + r.stderr


@requires_promtool
def test_generated_tests_catch_a_wrong_threshold(rendered, tmp_path):
    """Move a threshold and the 'fires' or 'just inside' test fails."""
    prom = rendered["prod"] / "prometheus"
    cases = {"rl-feedback-loop": ("RLFeedbackQueueDepthHigh", "> 25", "> 24"),
             "function-gemma-agent": ("ReasoningDriftHigh", "< 0.7", "< 0.5"),
             "neural-hive-specialists": ("MLModelPerformanceDeclining", "< -0.01", "< -0.1")}
    for svc, (alert, old, new) in cases.items():
        rules = yaml.safe_load((prom / f"{svc}.rules.yaml").read_text())
        for g in rules["groups"]:
            for r in g["rules"]:
                if r.get("alert") == alert:
                    assert old in r["expr"]
                    r["expr"] = r["expr"].replace(old, new)
        work = tmp_path / svc
        work.mkdir()
        (work / f"{svc}.rules.yaml").write_text(yaml.safe_dump(rules))
        shutil.copy(prom / f"{svc}.tests.yaml", work)
        r = subprocess.run(["promtool", "test", "rules", f"{svc}.tests.yaml"], capture_output=True, text=True, cwd=work)
        assert r.returncode != 0 and alert in r.stdout + r.stderr, svc


def test_crd_validation_rejects_a_broken_rule():
    bad = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "x"},
           "spec": {"groups": [{"name": "", "rules": [{"alert": "A", "expr": "up", "for": "5 minutes"}]}]}}
    errors = prometheus_rule_errors(bad)
    assert any(e.startswith("spec.groups.0.name") for e in errors)
    assert any(e.startswith("spec.groups.0.rules.0.for") for e in errors)
    # a Go-only pattern of the CRD (`^(?i)(abort|warn)?$`) is read the way prometheus-operator reads it
    bad["spec"]["groups"] = [{"name": "g", "partial_response_strategy": "WARN", "rules": []}]
    assert prometheus_rule_errors(bad) == []
    bad["spec"]["groups"][0]["partial_response_strategy"] = "maybe"
    assert [e.split(":")[0] for e in prometheus_rule_errors(bad)] == ["spec.groups.0.partial_response_strategy"]


@requires_promtool
def test_generated_tests_catch_the_edge_cases_of_stalled_and_failures(rendered, tmp_path):
    """The generated tests of the stalled and failures kinds fail on the expressions before issue 13: pairing
    on tenant/workspace only (a second replica's progress hides the stall), no tolerance (an idle queue's new
    item), and a plain increase() (a counter born within the window)."""
    prom = rendered["prod"] / "prometheus"
    svc = "rl-feedback-loop"
    stalled = "RLFeedbackProcessingStalled"
    cases = [
        (stalled, lambda e: e.replace("on (tenant, workspace, instance)", "on (tenant, workspace)"),
         "fires after"),
        (stalled, lambda e: e.replace("\n  and\n  min_over_time(rl_feedback_queue_depth[5m]) > 0", ""),
         "an idle queue's new item"),
        ("RLFeedbackProcessingFailures", lambda e: "increase(rl_feedback_failed_total[15m]) > 0", "fires after"),
    ]
    for k, (alert, change, group) in enumerate(cases):
        rules = yaml.safe_load((prom / f"{svc}.rules.yaml").read_text())
        for g in rules["groups"]:
            for r in g["rules"]:
                if r.get("alert") == alert:
                    new = change(r["expr"])
                    assert new != r["expr"]
                    r["expr"] = new
        work = tmp_path / str(k)
        work.mkdir()
        (work / f"{svc}.rules.yaml").write_text(yaml.safe_dump(rules))
        shutil.copy(prom / f"{svc}.tests.yaml", work)
        r = subprocess.run(["promtool", "test", "rules", f"{svc}.tests.yaml"], capture_output=True, text=True, cwd=work)
        assert r.returncode != 0, (alert, group)
        assert f"{alert}: {group}" in r.stdout + r.stderr, r.stdout[-2000:]
