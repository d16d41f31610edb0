"""The benchmark scripts run on tiny inputs and print their JSON summary last (no timing asserted here:
speed targets live in bench/, see docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import requires_promtool

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))


def run_script(name: str, *args: str) -> tuple[int, str, str]:
    r = subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True, text=True, cwd=ROOT,
                       env={"PYTHONPATH": str(ROOT), "PATH": __import__("os").environ["PATH"]}, timeout=300)
    return r.returncode, r.stdout, r.stderr


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_render_scale_tiny_catalog_reports_required_keys():
    code, out, err = run_script("render_scale.py", "--services", "3", "--repeat", "1", "--pulumi", "--json")
    assert code == 0, err
    data = last_json(out)
    for key in ("services", "render_seconds", "serialize_seconds", "peak_mb", "load_seconds"):
        assert key in data
    assert data["services"] == 3
    assert data["render_seconds"] > 0 and data["serialize_seconds"] > 0 and data["peak_mb"] > 0
    # 3 Prometheus services (every tenth is CloudWatch): rules, tests and kubernetes files each, at least
    assert data["artifacts"] >= 9 and data["alerts"] == 3 * 13
    if __import__("importlib").util.find_spec("pulumi") is not None:
        # the stack program ran on the synthetic catalog: rules, CronJobs, dashboards... were declared
        assert data["pulumi"]["available"] is True, data["pulumi"]
        assert data["pulumi"]["seconds"] > 0 and data["pulumi"]["resources"] > 3 * 10


def test_synthetic_catalog_is_valid_and_seed_shaped():
    import synth
    from generators.loader import load_catalog
    from generators.resolve import resolve

    cat = load_catalog("synthetic", texts=synth.catalog_texts(12))
    assert len(cat.services) == 12
    kinds = {m.kind for s in cat.services for m in s.monitors}
    assert kinds >= {"threshold", "flag", "trend", "failures", "stalled", "ratio", "latency", "absent"}
    sources = [s.source.type for s in cat.services]
    assert sources.count("cloudwatch") == 1
    # per-environment overrides take effect
    dev = {a.name: a for rs in resolve(cat, "dev") for a in rs.alerts}
    prod = {a.name: a for rs in resolve(cat, "prod") for a in rs.alerts}
    assert prod["S00000QualityLow"].for_ == 300 and dev["S00000QualityLow"].for_ == 900
    assert "S00000ErrorRateHigh" in prod and "S00000ErrorRateHigh" not in dev


def test_synthetic_services_render_jobs_remediations_and_dashboards(tmp_path):
    import synth
    from generators.kubernetes.commands import REMEDIATIONS_ANNOTATION as ANNOTATION
    from generators.loader import load_catalog
    from generators.render import render

    # a root with no dashboards/ beside it (the seeds' hand-written dashboards name seed services)
    cat = load_catalog(tmp_path / "alerts", texts=synth.catalog_texts(10))
    prom, cw = cat.services[0], cat.services[9]
    assert cw.source.type == "cloudwatch" and not cw.jobs and not cw.remediations
    assert {j.purpose for j in prom.jobs} == {"retraining", "evaluation"}
    assert {r.action for r in prom.remediations} >= {"rollout-undo", "trigger-job", "rollout-restart",
                                                     "patch-configmap"}
    named = {m.name: m.remediations for m in prom.monitors if m.remediations}
    assert named["S00000QualityLow"] == ("s00000-rollback-model", "s00000-retrain-model")
    files = {a.path: a for a in render(cat, "prod")}
    k8s = files["kubernetes/ml-svc-00000.yaml"].content
    cronjobs = {d["metadata"]["name"] for d in k8s if d["kind"] == "CronJob"}
    assert {"s00000-retraining", "s00000-evaluation", "remediate-s00000-rollback-model"} <= cronjobs
    rules = [r for g in files["prometheus/ml-svc-00000.rules.yaml"].content["groups"] for r in g["rules"]]
    quality = next(r for r in rules if r.get("alert") == "S00000QualityLow")
    assert "s00000-rollback-model" in quality["annotations"][ANNOTATION]
    # a generated Grafana dashboard per service, Prometheus and CloudWatch alike
    assert "grafana/mlmon-ml-svc-00000.json" in files and "grafana/mlmon-ml-svc-00009.json" in files


def test_synthetic_section_builders_extend_every_service(monkeypatch):
    import synth

    monkeypatch.setitem(synth.SECTION_BUILDERS, "title", lambda i, name, doc: f"extended {name}")
    assert synth.service_doc(4)["title"] == "extended ml-svc-00004"


def test_encode_values_round_trips_promtool_notation():
    from scenarios import encode_values

    assert encode_values([1.0, 2.0, 3.0, None, None, "stale", 5.0, 5.0]) == "1+1x2 _x2 stale 5+0x1"
    assert encode_values([3.0, 1.0]) == "3-2x1"


@requires_promtool
def test_alert_quality_subset_detects_and_stays_quiet():
    code, out, err = run_script("alert_quality.py", "--catalog", str(ROOT / "tests" / "fixtures" / "seeds" / "alerts"),
                                "--alert", "MLModelLowPerformance", "--alert", "RLFeedbackProcessingStalled", "--json")
    assert code == 0, out[-3000:] + err
    data = last_json(out)
    for key in ("scenarios", "recall", "false_alerts", "max_delay_over_floor_seconds"):
        assert key in data
    assert data["alerts"] == 2
    assert data["recall"] == 1.0 and data["false_alerts"] == 0
    rows = {r["scenario"]: r for r in data["rows"]}
    step = rows["MLModelLowPerformance/step"]
    # a plain threshold fires exactly `for` after the step (evaluations are aligned with the samples)
    assert step["detected"] and step["delay_seconds"] == 600 and step["window_lag_seconds"] == 0
    assert rows["MLModelLowPerformance/spike"]["false_firings"] == 0
    # stalled: the window is the condition, and a new series does not page at its first scrape
    assert rows["RLFeedbackProcessingStalled/step"]["window_lag_seconds"] >= 29 * 60
    assert rows["RLFeedbackProcessingStalled/idle"]["ok"]


@requires_promtool
def test_alert_quality_reports_a_false_alert(tmp_path):
    """A rule that fires on healthy data is caught: the scorer counts firings, it does not assume success."""
    import alert_quality as aq
    import scenarios as sc
    from generators.loader import load_catalog
    from generators.resolve import resolve

    cat = load_catalog(ROOT / "tests" / "fixtures" / "seeds" / "alerts")
    rs = next(r for r in resolve(cat, "prod") if r.name == "neural-hive-specialists")
    a = next(x for x in rs.alerts if x.name == "MLModelLowPerformance")
    probe = sc.probe_for(a, rs)
    quiet = [s for s in sc.build_scenarios(a, probe, {"spike"})]
    assert quiet and not quiet[0].expect_fire
    # a broken rule: fires whenever the score is below 0.9 (i.e. always, on healthy data too)
    (tmp_path / "neural-hive-specialists.rules.yaml").write_text(
        "groups:\n- name: g\n  rules:\n  - alert: MLModelLowPerformance\n    expr: neural_hive_model_performance_score < 2\n")
    import yaml

    (tmp_path / "neural-hive-specialists.tests.yaml").write_text(
        yaml.safe_dump(aq.test_file("neural-hive-specialists", quiet, 60)))
    import shutil

    times = aq.run_promtool(shutil.which("promtool"), tmp_path, "neural-hive-specialists")[quiet[0].id]
    row = aq.score(quiet[0], times, a.for_)
    assert not row["ok"] and row["false_firings"] == 1 and row["first_false"] == 0


@pytest.mark.parametrize("text,seconds", [("0s", 0), ("4m", 240), ("1h2m", 3720), ("1d3h", 97200)])
def test_promtool_time_parser(text, seconds):
    from alert_quality import parse_go_duration

    assert parse_go_duration(text) == seconds


@pytest.mark.slow
@pytest.mark.skipif(__import__("shutil").which("prometheus") is None, reason="the prometheus binary is not installed")
def test_backtest_benchmark_runs_on_a_day_of_history():
    code, out, err = run_script("backtest.py", "--days", "1", "--instances", "2", "--repeat", "1", "--json")
    assert code == 0, out[-3000:] + err
    data = last_json(out)
    assert data["series"] == 10 and data["alerts"] == 5 and data["versions"] == 10
    assert data["samples"] == 1440 * 10 and data["range_queries"] == 10
    for key in ("backtest_seconds", "bare_query_seconds", "ratio_to_bare", "prometheus_cpu_seconds"):
        assert data[key] > 0, key
    assert set(data["episodes"]) == {"BenchQualityLow", "BenchQueueHigh", "BenchFailures",
                                     "BenchAccuracyDeclining", "BenchBacklogHigh"}


@requires_promtool
def test_check_scale_tiny_catalog_reports_ratios():
    code, out, err = run_script("check_scale.py", "--sizes", "2", "--repeat", "1", "--json")
    assert code == 0, err
    data = last_json(out)
    (r,) = data["results"]
    assert r["catalog"] == "synthetic-2" and r["services"] == 2
    assert data["python_pass_seconds"] > 0
    for what in ("render", "check"):
        assert r[what]["seconds"] > 0 and r[what]["over_python_pass"] > 1 and r[what]["over_floor"] > 0
    assert "artifact checks passed: promtool" in r["check"]["stdout_tail"]


@requires_promtool
def test_promtool_cost_reports_steps_and_rules():
    code, out, err = run_script("promtool_cost.py", "--synthetic", "1", "--env", "prod", "--no-groups", "--json")
    assert code == 0, err
    data = last_json(out)
    assert data["files"] == 1 and data["alerts"] == 13 and data["groups"] >= 1
    assert data["steps"] > 0 and data["rule_evaluations"] >= data["steps"]


@pytest.mark.slow
@pytest.mark.skipif(__import__("shutil").which("amtool") is None, reason="amtool not on PATH")
def test_alertmanager_step_benchmark_runs_on_a_tiny_catalog():
    code, out, err = run_script("alertmanager_step.py", "--services", "3", "--json")
    assert code == 0, err
    data = last_json(out)
    assert data["services"] == 3 and set(data["environments"]) == {"dev", "staging", "prod"}
    for m in data["environments"].values():
        assert m["failures"] == 0 and 0 < m["amtool_route_tests"] <= m["alerts"] and m["step_seconds"] > 0


@pytest.mark.slow
def test_yaml_load_rejects_the_hostile_cases():
    code, out, err = run_script("yaml_load.py", "billion_laughs", "flat_1e6", "seed_catalog", "--json")
    assert code == 0, err
    cases = {c["case"]: c for c in last_json(out)["cases"]}
    assert cases["billion_laughs"]["outcome"].startswith("rejected") and "100000 values" in cases["billion_laughs"]["outcome"]
    assert cases["flat_1e6"]["outcome"].startswith("rejected") and "at most 1048576 bytes" in cases["flat_1e6"]["outcome"]
    assert cases["seed_catalog"]["outcome"] == "loaded"
