"""Seed 004, "RL Feedback Loop Runbook" (crew-api): the rendered prod output says what the runbook says.
Runbook text is quoted next to each assertion."""

from __future__ import annotations

import subprocess

import yaml

from conftest import requires_promtool
from conftest_seeds import containers, obj, rendered, resolved, rules

SVC = "rl-feedback-loop"


def test_queue_depth_levels():
    # "Trigger: Queue depth > 25 (ticket) or > 100 (page) for 15/10 minutes"
    r = rules(SVC)
    assert r["RLFeedbackQueueDepthHigh"]["expr"] == "rl_feedback_queue_depth > 25"
    assert (r["RLFeedbackQueueDepthHigh"]["for"], r["RLFeedbackQueueDepthHigh"]["labels"]["severity"]) == ("15m", "ticket")
    assert r["RLFeedbackQueueDepthCritical"]["expr"] == "rl_feedback_queue_depth > 100"
    assert (r["RLFeedbackQueueDepthCritical"]["for"], r["RLFeedbackQueueDepthCritical"]["labels"]["severity"]) == \
        ("10m", "page")


def test_queue_depth_alerts_name_the_runbooks_mitigations():
    # "Short-term: Increase batch size in process_rl_feedback_once() (default 25)"
    # "Medium-term: Reduce loop interval (default 15s)"; table "High volume (>50 items/min) | 50 | 10s"
    for name in ("RLFeedbackQueueDepthHigh", "RLFeedbackQueueDepthCritical"):
        a = next(x for x in resolved(SVC).alerts if x.name == name)
        assert a.remediations == ("increase-feedback-batch", "shorten-feedback-interval")
        assert "disable-trajectory-eval" not in rules(SVC)[name]["annotations"]["remediations"]
    batch = [c["args"] for c in containers(obj(SVC, "CronJob", "remediate-increase-feedback-batch"))]
    assert batch[0] == ["set", "env", "deployment/crew-api", "RL_FEEDBACK_BATCH_SIZE=50", "--namespace=crew"]
    interval = [c["args"] for c in containers(obj(SVC, "CronJob", "remediate-shorten-feedback-interval"))]
    assert interval[0] == ["set", "env", "deployment/crew-api", "RL_FEEDBACK_LOOP_INTERVAL_SECONDS=10",
                           "--namespace=crew"]
    # "Temporarily disable evaluation to stop queue growth while fixing" stays with the stalled alert
    stalled = next(x for x in resolved(SVC).alerts if x.name == "RLFeedbackProcessingStalled")
    assert stalled.remediations == ("restart-crew-api", "disable-trajectory-eval")


def test_dashboard_compares_processing_with_emission_and_shows_the_15m_average():
    # "rate(rl_feedback_processed_total[5m])" / "Compare to emission rate (from evaluator):
    #  rate(trajectory_feedback_emissions_total[5m])"; "Avg queue depth: avg_over_time(queue_depth[15m])"
    d = rendered("prod")["grafana/rl-feedback-loop.json"]
    exprs = {p["title"]: [t["expr"] for t in p.get("targets", [])] for p in d["panels"]}
    emission = exprs["Processing vs emission rate (5m)"]
    assert "sum(rate(trajectory_feedback_emissions_total[5m]))" in emission
    assert any(e.startswith("sum(rate(rl_feedback_processed_total{") and e.endswith("[5m]))") for e in emission)
    (avg,) = exprs["Average queue depth (15m)"]
    assert "avg_over_time(rl_feedback_queue_depth{" in avg and avg.endswith("[15m]))")


def _success_rule_test(tmp_path, processed: int, failed: int, at: str, firing: bool):
    r = rules(SVC)["RLFeedbackSuccessRateLow"]
    (tmp_path / "rule.yaml").write_text(yaml.safe_dump({"groups": [{"name": "seed-004", "rules": [
        {"alert": "RLFeedbackSuccessRateLow", "expr": r["expr"], "for": r["for"]}]}]}))
    series = [{"series": f'rl_feedback_processed_total{{tenant="t",workspace="w"}}', "values": f"0+{processed}x90"},
              {"series": f'rl_feedback_failed_total{{tenant="t",workspace="w"}}', "values": f"0+{failed}x90"}]
    exp = [{"exp_labels": {"tenant": "t", "workspace": "w"}}] if firing else []
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({"rule_files": ["rule.yaml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series,
                   "alert_rule_test": [{"eval_time": at, "alertname": "RLFeedbackSuccessRateLow", "exp_alerts": exp}]}]}))
    return subprocess.run(["promtool", "test", "rules", "t.yaml"], cwd=tmp_path, capture_output=True, text=True)


@requires_promtool
def test_success_rate_below_95_percent(tmp_path):
    # "Success rate: processed / (processed + failed)"; checklist "- [ ] Success rate > 95%"
    # hand-made: 94 of 100 succeed from the start: below 95 % from the first rate (minute 1), so firing after the
    # 15m `for`, at minute 16 and not at 15; 96 of 100 never
    for processed, failed, at, firing in [(94, 6, "15m", False), (94, 6, "16m", True), (94, 6, "80m", True),
                                          (96, 4, "80m", False)]:
        res = _success_rule_test(tmp_path, processed, failed, at, firing)
        assert res.returncode == 0, (processed, at, res.stdout + res.stderr)


def test_failures_and_stalled_and_slos():
    r = rules(SVC)
    # "RLFeedbackProcessingFailures ... Severity: Page ... Failures detected in last 15 minutes"
    assert "increase(rl_feedback_failed_total" in r["RLFeedbackProcessingFailures"]["expr"]
    assert "[15m]" in r["RLFeedbackProcessingFailures"]["expr"]
    assert r["RLFeedbackProcessingFailures"]["labels"]["severity"] == "page"
    # "Queue depth > 0 but no items processed in 30 minutes"
    assert "[30m]" in r["RLFeedbackProcessingStalled"]["expr"]
    # "Service Restart: kubectl rollout restart deployment/crew-api -n crew; kubectl rollout status ..."
    steps = [c["args"] for c in containers(obj(SVC, "CronJob", "remediate-restart-crew-api"))]
    assert steps[0] == ["rollout", "restart", "deployment/crew-api", "--namespace=crew"]
    assert steps[1][:3] == ["rollout", "status", "deployment/crew-api"]
