"""The mlmon CLI: help everywhere, exit codes, atomic render, thresholds table, check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import CATALOG, ROOT

COMMANDS = ("render", "check", "thresholds")


def test_top_level_help(cli):
    r = cli("--help")
    assert r.code == 0
    for c in COMMANDS:
        assert c in r.out
    assert "Exit codes" in r.out


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(cli, command):
    r = cli(command, "--help")
    assert r.code == 0 and "--catalog" in r.out and "usage: mlmon " + command in r.out


def test_no_command_is_usage_error(cli):
    r = cli()
    assert r.code == 2 and "usage:" in r.err


def test_unknown_option_is_usage_error(cli):
    r = cli("render", "--env", "dev", "--out", "x", "--bogus")
    assert r.code == 2 and "unrecognized arguments: --bogus" in r.err


def test_render_writes_the_contract(cli, tmp_path):
    out = tmp_path / "out"
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out))
    assert r.code == 0, r.err
    assert (out / "prometheus" / "rl-feedback-loop.rules.yaml").is_file()
    assert (out / "prometheus" / "rl-feedback-loop.tests.yaml").is_file()
    assert (out / "kubernetes" / "rl-feedback-loop.yaml").is_file()
    assert "rendered" in r.err


def test_render_reads_alerts_of_the_current_directory(cli, tmp_path):
    shutil.copytree(CATALOG, tmp_path / "alerts")
    r = cli("render", "--env", "prod", "--out", "out", cwd=tmp_path)
    assert r.code == 0, r.err
    assert (tmp_path / "out" / "prometheus" / "function-gemma-agent.rules.yaml").is_file()


def test_two_renders_are_byte_identical(cli, tmp_path):
    for d in ("a", "b"):
        assert cli("render", "--catalog", str(CATALOG), "--env", "prod", "--out", str(tmp_path / d)).code == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and files_a
    for f in files_a:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_render_replaces_stale_files_of_a_previous_output(cli, tmp_path):
    from generators.output import write_tree

    out = tmp_path / "out"
    write_tree({"prometheus/gone.rules.yaml": b"a service since removed\n"}, out)  # a previous mlmon output
    assert cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out)).code == 0
    assert not (out / "prometheus" / "gone.rules.yaml").exists()
    assert (out / "prometheus" / "rl-feedback-loop.rules.yaml").is_file()


def test_render_refuses_a_folder_that_is_not_its_own(cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out))
    assert r.code == 2 and "not an mlmon output" in r.err and str(out) in r.err
    assert (out / "stale.txt").read_text() == "old"


def test_failed_render_leaves_out_dir_untouched(cli, tmp_path, make_catalog):
    out = tmp_path / "out"
    assert cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out)).code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = make_catalog({"svc.yaml": "service: svc\nteam: ml\nmonitors: [{name: X, kind: nope}]\n"})
    r = cli("render", "--catalog", str(bad), "--env", "dev", "--out", str(out))
    assert r.code == 2
    assert "svc.yaml" in r.err and "monitors[0].kind" in r.err and "Traceback" not in r.err
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_render_single_service_keeps_others(cli, tmp_path):
    out = tmp_path / "out"
    assert cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out)).code == 0
    n = len(list(out.rglob("*.yaml")))
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out), "--service", "rl-feedback-loop")
    assert r.code == 0
    assert len(list(out.rglob("*.yaml"))) == n


def test_unknown_env_and_service(cli, tmp_path):
    r = cli("render", "--catalog", str(CATALOG), "--env", "qa", "--out", str(tmp_path / "o"))
    assert r.code == 2 and "unknown environment 'qa'" in r.err and "dev, staging, prod" in r.err
    r = cli("thresholds", "--catalog", str(CATALOG), "--service", "nope")
    assert r.code == 2 and "unknown service nope" in r.err


def test_out_is_a_file(cli, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(f))
    assert r.code == 2 and "not a directory" in r.err and f.read_text() == "x"


def test_thresholds_table(cli):
    r = cli("thresholds", "--catalog", str(CATALOG))
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].split()[:6] == ["SERVICE", "ALERT", "ENV", "SOURCE", "SEVERITY", "FOR"]
    drift = [l.split() for l in lines if " ReasoningDriftHigh " in l]
    assert [(d[2], d[4], d[5]) for d in drift] == [("dev", "info", "15m"), ("staging", "warning", "5m"),
                                                   ("prod", "warning", "5m")]
    assert any("rl_feedback_queue_depth > 100" in l and "page" in l for l in lines)


def test_thresholds_json_and_markdown(cli):
    import json

    r = cli("thresholds", "--catalog", str(CATALOG), "--env", "prod", "--format", "json")
    rows = json.loads(r.out)
    high = next(x for x in rows if x["alert"] == "RLFeedbackQueueDepthHigh")
    assert (high["threshold"], high["for"], high["severity"], high["env"]) == (25, "15m", "ticket", "prod")
    r = cli("thresholds", "--catalog", str(CATALOG), "--env", "prod", "--format", "markdown")
    assert r.out.startswith("| SERVICE | ALERT |") and "| RLFeedbackQueueDepthHigh |" in r.out


TINY = """\
service: tiny
team: ml
metrics: {score: {range: [0, 1]}}
monitors:
  - {name: TinyScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, for: 5m, severity: warning}
"""


def test_check_invalid_catalog_exits_2(cli, make_catalog):
    bad = make_catalog({"svc.yaml": "service: svc\nteam: ml\nmonitor: []\n"})
    r = cli("check", "--catalog", str(bad))
    assert r.code == 2 and "svc.yaml:3: monitor: unknown key" in r.err


@pytest.mark.slow
def test_check_without_promtool_says_so(cli, monkeypatch, make_catalog):
    monkeypatch.setenv("PATH", "/nonexistent")
    r = cli("check", "--catalog", str(make_catalog({"tiny.yaml": TINY})), "--env", "dev")
    assert "skipped promtool: promtool not found on PATH" in r.err


@pytest.mark.slow
def test_check_fails_when_promtool_fails(cli, monkeypatch, tmp_path, make_catalog):
    """A promtool failure (simulated by a fake promtool on PATH) is exit 1 with its output."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "promtool").write_text("#!/bin/sh\necho 'FAILED: boom' ; exit 1\n")
    (fake / "promtool").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    r = cli("check", "--catalog", str(make_catalog({"tiny.yaml": TINY})), "--env", "dev")
    assert r.code == 1 and "FAILED promtool check rules (dev)" in r.err and "boom" in r.err


def test_console_script_runs_without_pulumi(tmp_path):
    """`mlmon render` must not import Pulumi (slow) — checked in a fresh interpreter."""
    code = ("import sys; from generators.cli import main; "
            f"rc = main(['render', '--catalog', {str(CATALOG)!r}, '--env', 'dev', '--out', {str(tmp_path / 'o')!r}]); "
            "bad = [m for m in sys.modules if m.startswith(('pulumi', 'boto3', 'moto'))]; "
            "print(rc, bad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.stdout.strip() == "0 []", r.stdout + r.stderr
