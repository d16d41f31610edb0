"""Seed 003, RAG enterprise pipeline "Operations Runbook": the rendered prod output says what the runbook says.
Runbook text is quoted next to each assertion."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess

import pytest

from conftest_seeds import ROOT, containers, obj, pod, rendered, rules

SVC = "rag-enterprise-pipeline"
CLAIM = "rag-pipeline-data"


def _volumes(cj) -> dict[str, dict]:
    """mount path -> {claim, subPath, readOnly} of the job's persistent directories."""
    spec = pod(cj)
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"] if "persistentVolumeClaim" in v}
    (c,) = spec["containers"]
    return {m["mountPath"]: {"claim": claims[m["name"]], "subPath": m.get("subPath"), "readOnly": m.get("readOnly", False)}
            for m in c["volumeMounts"] if m["name"] in claims}


def test_weekly_flywheel_phase_1_computes_the_iso_week_at_run_time():
    # "python scripts/run_weekly_flywheel.py --week $(date +%Y-W%V)"
    cj = obj(SVC, "CronJob", "weekly-flywheel")
    (c,) = containers(cj)
    assert c["command"] == ["/bin/sh", "-c"]
    assert c["args"] == ['exec python scripts/run_weekly_flywheel.py --week "$(date -u +%G-W%V)"']
    assert cj["spec"]["schedule"] == "0 7 * * 1" and cj["spec"]["timeZone"] == "Etc/UTC"
    assert c["workingDir"] == "/app"


@pytest.mark.skipif(shutil.which("date") is None, reason="needs GNU date")
def test_iso_week_year_G_not_Y_on_the_last_monday_of_december():
    """Why %G: GNU date and Python's ISO calendar agree that Monday 2025-12-29 is in 2026-W01; the runbook's
    %Y-W%V would name 2025-W01, a week eleven months earlier."""
    day = dt.date(2025, 12, 29)
    iso = day.isocalendar()
    out = lambda fmt: subprocess.run(["date", "-u", "-d", day.isoformat(), f"+{fmt}"], capture_output=True,
                                     text=True, check=True).stdout.strip()
    assert out("%G-W%V") == f"{iso.year}-W{iso.week:02d}" == "2026-W01"
    assert out("%Y-W%V") == "2025-W01"


def test_the_rendered_command_passes_one_week_argument(tmp_path):
    """The exact container command under a real /bin/sh with a stand-in python: one argument, this ISO week."""
    (c,) = containers(obj(SVC, "CronJob", "weekly-flywheel"))
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "python").write_text('#!/bin/sh\nfor a in "$@"; do echo "[$a]"; done\n')
    (bin_ / "python").chmod(0o755)
    r = subprocess.run([*c["command"], *c["args"]], env={**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}"},
                       capture_output=True, text=True, check=True)
    today = dt.datetime.now(dt.timezone.utc).date().isocalendar()
    assert r.stdout.splitlines() == ["[scripts/run_weekly_flywheel.py]", "[--week]",
                                     f"[{today.year}-W{today.week:02d}]"]


def test_weekly_flywheel_phase_2_is_a_manual_suspended_job():
    # "# Phase 2: Import annotations + expand eval suite + report"
    # "python scripts/run_weekly_flywheel.py --week $(date +%Y-W%V) --continue"
    cj = obj(SVC, "CronJob", "weekly-flywheel-continue")
    (c,) = containers(cj)
    assert c["args"] == ['exec python scripts/run_weekly_flywheel.py --week "$(date -u +%G-W%V)" --continue']
    assert cj["spec"]["suspend"] is True and cj["spec"]["schedule"] == "0 0 31 2 *"  # never: run by hand
    assert cj["metadata"]["annotations"]["mlmon.io/run-now"].startswith(
        "kubectl create job --from=cronjob/weekly-flywheel-continue ")


def test_flywheel_and_eval_outputs_persist_on_the_claim():
    # "review pending tasks in annotations/pending/", "check `reports/` directory for the latest triage output"
    for name in ("weekly-flywheel", "weekly-flywheel-continue"):
        vols = _volumes(obj(SVC, "CronJob", name))
        assert vols["/app/reports"] == {"claim": CLAIM, "subPath": "reports", "readOnly": False}
        assert vols["/app/annotations"] == {"claim": CLAIM, "subPath": "annotations", "readOnly": False}
        assert vols["/app/traces"]["readOnly"] is True
    # "python scripts/run_daily_eval.py --traces-dir traces/local --output-dir eval_reports/"
    cj = obj(SVC, "CronJob", "daily-eval")
    (c,) = containers(cj)
    assert c["args"] == ["--traces-dir", "traces/local", "--output-dir", "eval_reports/"]
    assert _volumes(cj)["/app/eval_reports"] == {"claim": CLAIM, "subPath": "eval_reports", "readOnly": False}
    # the root filesystem stays read-only; /tmp (an emptyDir) holds nothing that must survive
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert all(not m["mountPath"].startswith("/app/") for m in c["volumeMounts"] if m["name"] == "tmp")


def test_hhem_low_tail_and_rate_spike():
    # "Row 4: HHEM scores above 0.85 threshold; no hallucination rate spike"
    r = rules(SVC)
    assert r["RAGHallucinationScoreLow"]["expr"].startswith("histogram_quantile(0.1,")
    assert r["RAGHallucinationScoreLow"]["expr"].endswith("< 0.85")
    spike = " ".join(r["RAGHallucinationRateSpike"]["expr"].split())
    assert 'rate(rag_hhem_score_bucket{le="0.85"}[15m])' in spike and "> 2 *" in spike
    assert r["RAGHallucinationRateSpike"]["annotations"]["remediations"].startswith("restart-pipeline: ")


def test_cosine_baseline_is_stated():
    # "Row 3: Retrieval cosine sim p50 within 10% of baseline"
    r = rules(SVC)["RAGRetrievalQualityDegraded"]
    assert r["expr"].startswith("histogram_quantile(0.5,") and r["expr"].endswith("< 0.72")
    assert round(0.80 * 0.9, 2) == 0.72 and "0.80 baseline" in r["annotations"]["summary"]


def test_error_rate_and_pipeline_restart():
    # "Row 1: No elevated error rate (target: <1% 5xx)"; "Restart if needed: docker compose restart pipeline"
    assert rules(SVC)["RAGPipelineHighErrorRate"]["expr"].count("0.01") == 1
    steps = [c["args"] for c in containers(obj(SVC, "CronJob", "remediate-restart-pipeline"))]
    assert steps[0] == ["rollout", "restart", "deployment/pipeline", "--namespace=rag-pipeline"]


def test_monthly_load_test_and_docs_mapping():
    # "python scripts/load_test.py --queries 100 --concurrency 5 --target http://localhost:8000" (staging)
    assert "kubernetes/rag-enterprise-pipeline.yaml" in rendered("prod")
    staging = [d for d in rendered("staging")["kubernetes/rag-enterprise-pipeline.yaml"]
               if d["kind"] == "CronJob" and d["metadata"]["name"] == "monthly-load-test"]
    (c,) = containers(staging[0])
    assert c["args"] == ["--queries", "100", "--concurrency", "5", "--target", "http://pipeline:8000"]
    text = (ROOT / "docs" / "remediations.md").read_text()
    assert "docker compose restart pipeline" in text and "kubectl rollout restart" in text
