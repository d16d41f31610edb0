"""Seed 001, "Runbook: Model Degraded" (neural-hive specialists): the rendered prod output says what the runbook
says. Runbook text is quoted next to each assertion."""

from __future__ import annotations

import shutil

from conftest_seeds import SEEDS, containers, obj, resolved, rules

SVC = "neural-hive-specialists"


def test_alerts_and_thresholds():
    r = rules(SVC)
    # "neural_hive_model_degradation_detected == 1", "Performance score < 0.65", "F1 score < 0.72"
    assert r["MLModelDegraded"]["expr"].startswith("neural_hive_model_degradation_detected == 1")
    assert r["MLModelLowPerformance"]["expr"] == "neural_hive_model_performance_score < 0.65"
    assert r["MLModelLowF1Score"]["expr"] == "neural_hive_mlflow_model_f1 < 0.72"
    # "**Severidade**: Warning"
    assert {r[a]["labels"]["severity"] for a in ("MLModelDegraded", "MLModelLowPerformance", "MLModelLowF1Score",
                                                  "MLModelPerformanceDeclining")} == {"warning"}
    # "deriv(neural_hive_model_performance_score[6h]) < -0.01  for: 30m" (per hour: see the catalog comment)
    assert "deriv(neural_hive_model_performance_score[6h])" in r["MLModelPerformanceDeclining"]["expr"]
    assert r["MLModelPerformanceDeclining"]["for"] == "30m"


def test_severe_degradation_level_at_f1_below_0_65_carries_the_fallback():
    # "Opcao 4 - Ativar Fallback para Heuristicas / Execute quando: degradacao severa (F1 < 0.65)"
    crit = rules(SVC)["MLModelLowF1ScoreCritical"]
    assert crit["expr"] == "neural_hive_mlflow_model_f1 < 0.65" and crit["labels"]["severity"] == "critical"
    assert crit["labels"]["receiver"] == "neural-hive-oncall"
    assert crit["annotations"]["summary"].endswith("below 0.65: severe degradation")
    assert crit["annotations"]["remediations"].split(": ", 1)[0] == "enable-ml-fallback"
    # ... and only there: not on the 0.72 warning, nor on any other alert
    for name, rule in rules(SVC).items():
        if name != "MLModelLowF1ScoreCritical":
            assert "enable-ml-fallback" not in rule["annotations"].get("remediations", ""), name
    assert rules(SVC)["MLModelLowF1Score"]["annotations"]["summary"].endswith("below 0.72")


def test_fallback_patches_the_configmap_then_restarts():
    # kubectl patch configmap orchestrator-config -n neural-hive-orchestration --type merge
    #   -p '{"data":{"ML_FALLBACK_ENABLED":"true","ML_FALLBACK_THRESHOLD":"0.65"}}'
    # kubectl rollout restart deployment/orchestrator-dynamic -n neural-hive-orchestration
    steps = [c["args"] for c in containers(obj(SVC, "CronJob", "remediate-enable-ml-fallback"))]
    assert steps[0] == ["patch", "configmap", "orchestrator-config", "--type=merge",
                        '--patch={"data":{"ML_FALLBACK_ENABLED":"true","ML_FALLBACK_THRESHOLD":"0.65"}}',
                        "--namespace=neural-hive-orchestration"]
    assert steps[1] == ["rollout", "restart", "deployment/orchestrator-dynamic", "--namespace=neural-hive-orchestration"]


def test_forced_retraining_all_and_single_specialist():
    # python ml_pipelines/monitoring/auto_retrain.py --specialist-type all --force --notification-channels slack,email
    (c,) = containers(obj(SVC, "CronJob", "remediate-retrain-now"))
    assert c["command"] == ["python", "ml_pipelines/monitoring/auto_retrain.py"]
    assert c["args"] == ["--specialist-type", "all", "--force", "--notification-channels", "slack,email"]
    # "Para retreinar apenas o modelo degradado:" ... --specialist-type technical --force
    (t,) = containers(obj(SVC, "CronJob", "remediate-retrain-technical"))
    assert t["command"] == c["command"] and t["args"] == ["--specialist-type", "technical", "--force"]
    assert t["resources"]["limits"]["memory"] == "8Gi"
    # the nightly run leaves the decision to auto_retrain.py (no --force; catalog comment)
    (n,) = containers(obj(SVC, "CronJob", "auto-retrain"))
    assert "--force" not in n["args"]


def test_rollback_runs_model_promotion_in_the_orchestrators_release():
    # python -m services.orchestrator_dynamic.src.ml.model_promotion rollback --model-name technical_specialist
    #   --reason "performance_degradation"
    (c,) = containers(obj(SVC, "CronJob", "remediate-rollback-technical-model"))
    assert c["command"] == ["python", "-m", "services.orchestrator_dynamic.src.ml.model_promotion"]
    assert c["args"] == ["rollback", "--model-name", "technical_specialist", "--reason", "performance_degradation"]
    images = {c["image"]} | {x["image"] for name in ("model-performance-monitor", "auto-retrain")
                              for x in containers(obj(SVC, "CronJob", name))}
    assert images == {"registry.example.com/neural-hive/orchestrator-dynamic:2.3.1"}  # one release everywhere


def test_two_tags_of_the_orchestrator_image_are_a_catalog_error(tmp_path, cli):
    """The rollback image drift: a remediation pinned to another tag than the jobs is refused."""
    shutil.copytree(SEEDS / "alerts", tmp_path / "alerts")
    f = tmp_path / "alerts" / f"{SVC}.yaml"
    text = f.read_text()
    last = text.rindex("orchestrator-dynamic:2.3.1")
    f.write_text(text[:last] + "orchestrator-dynamic:2.2.0" + text[last + len("orchestrator-dynamic:2.3.1"):])
    r = cli("check", "--catalog", str(tmp_path / "alerts"))
    assert r.code != 0
    assert "remediations[2].image: registry.example.com/neural-hive/orchestrator-dynamic:2.2.0 and " \
           "registry.example.com/neural-hive/orchestrator-dynamic:2.3.1 (jobs[0].image) are two versions" in r.err


def test_confidence_threshold_option():
    # kubectl patch configmap orchestrator-config ... -p '{"data":{"ML_CONFIDENCE_THRESHOLD":"0.65"}}'
    steps = [c["args"] for c in containers(obj(SVC, "CronJob", "remediate-lower-confidence-threshold"))]
    assert steps[0][4] == '--patch={"data":{"ML_CONFIDENCE_THRESHOLD":"0.65"}}'
    lowperf = next(a for a in resolved(SVC).alerts if a.name == "MLModelLowPerformance")
    assert lowperf.remediations[0] == "lower-confidence-threshold"


def test_performance_monitor_cronjob():
    # python ml_pipelines/monitoring/model_performance_monitor.py --specialist-type all --output-format json
    (c,) = containers(obj(SVC, "CronJob", "model-performance-monitor"))
    assert c["command"] == ["python", "ml_pipelines/monitoring/model_performance_monitor.py"]
    assert c["args"] == ["--specialist-type", "all", "--output-format", "json"]
