"""The pull-request workflow: it parses, runs what the issue asks, and its shell steps work on a real checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest_diff import commit, git, init_repo, write

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "tests" / "fixtures" / "seeds"
WORKFLOW = REPO / ".github/workflows/pull-request.yml"


@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def steps(workflow):
    (job,) = workflow["jobs"].values()
    return job["steps"]


def step(workflow, name):
    (s,) = [s for s in steps(workflow) if s.get("name") == name]
    return s


def test_triggers_and_permissions(workflow):
    # PyYAML reads the bare key `on` as True (YAML 1.1)
    assert "pull_request" in workflow[True]
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    checkout = steps(workflow)[0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0


def test_runs_check_renders_uploads_dashboards_and_comments_the_diff(workflow):
    runs = [s.get("run", "") for s in steps(workflow)]
    assert any(r.strip() == "mlmon check" for r in runs)
    render = step(workflow, "Render every environment")["run"]
    assert 'mlmon render --env "$env" --out "out/$env"' in render
    upload = step(workflow, "Upload dashboards")
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["path"] == "out/*/grafana/"
    diff = step(workflow, "Semantic diff against the base branch")
    assert diff["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert 'mlmon diff --base "origin/${BASE_REF}" --format markdown > mlmon-diff.md' in diff["run"]
    comment = step(workflow, "Comment the diff on the pull request")
    assert comment["uses"].startswith("actions/github-script@")
    script = comment["with"]["script"]
    assert "readFileSync('mlmon-diff.md'" in script and "<!-- mlmon-diff -->" in script
    assert "createComment" in script and "updateComment" in script


@pytest.fixture()
def checkout(tmp_path):
    """A clone-like repository: the real catalog committed, origin/main at that commit, a PR change on top."""
    repo = tmp_path / "repo"
    files = {f"alerts/{p.name}": p.read_text() for p in sorted((SEEDS / "alerts").glob("*.yaml"))}
    files.update({f"docs/runbooks/{p.name}": p.read_text() for p in sorted((SEEDS / "docs/runbooks").glob("*.md"))})
    init_repo(repo, files)
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    agent = files["alerts/function-gemma-agent.yaml"]
    assert "    threshold: 0.7\n" in agent
    commit(repo, {"alerts/function-gemma-agent.yaml": agent.replace("    threshold: 0.7\n", "    threshold: 0.65\n")})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in (("mlmon", f'"{sys.executable}" -m generators'), ("python", f'"{sys.executable}"')):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "BASE_REF": "main"}
    return repo, env


def run_step(workflow, name, repo, env):
    r = subprocess.run(["bash", "-e", "-c", step(workflow, name)["run"]], cwd=repo, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_diff_step_writes_the_comment_body(workflow, checkout):
    repo, env = checkout
    run_step(workflow, "Semantic diff against the base branch", repo, env)
    body = (repo / "mlmon-diff.md").read_text()
    assert body.startswith("<!-- mlmon-diff -->\n### mlmon diff: 1 alert differs in dev, staging, prod (1 changed)")
    assert ("| ~ | function-gemma-agent | `ReasoningDriftHigh` | all environments | threshold | `0.7` | `0.65` |"
            in body.splitlines())
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == body


@pytest.mark.slow
def test_render_step_renders_every_environment_and_the_runbooks(workflow, checkout):
    repo, env = checkout
    run_step(workflow, "Render every environment", repo, env)
    for e in ("dev", "staging", "prod"):
        assert (repo / f"out/{e}/prometheus/function-gemma-agent.rules.yaml").is_file()
    assert "< 0.65" in (repo / "out/runbooks/function-gemma-agent/ReasoningDriftHigh.md").read_text()


def test_backtest_step_says_so_when_no_prometheus_is_configured(workflow, checkout):
    repo, env = checkout
    env = {k: v for k, v in env.items() if k not in ("MLMON_PROMETHEUS_URL", "MLMON_PROMETHEUS_TOKEN")}
    run_step(workflow, "Backtest changed alerts on the Prometheus history", repo, env)
    body = (repo / "mlmon-backtest.md").read_text()
    assert body.startswith("<!-- mlmon-backtest -->\n### mlmon backtest\n")
    assert "Not run: no Prometheus URL is configured" in body and "MLMON_PROMETHEUS_URL" in body
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == body


def test_backtest_is_wired_next_to_the_diff(workflow):
    s = step(workflow, "Backtest changed alerts on the Prometheus history")
    assert s["env"]["MLMON_PROMETHEUS_URL"] == "${{ secrets.MLMON_PROMETHEUS_URL || vars.MLMON_PROMETHEUS_URL }}"
    assert s["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert ('mlmon backtest --base "origin/${BASE_REF}" --range "${BACKTEST_RANGE}" --format markdown' in s["run"]
            and "--plots out/backtest" in s["run"])
    assert "'.[backtest]'" in step(workflow, "Install mlmon")["run"]  # matplotlib for --plots
    upload = step(workflow, "Upload backtest plots")
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["path"] == "out/backtest/"
    comment = step(workflow, "Comment the diff on the pull request")
    script = comment["with"]["script"]
    assert "readFileSync('mlmon-backtest.md'" in script and "steps.plots.outputs.artifact-url" in comment["env"]["PLOTS_URL"]
    names = [x.get("name") for x in steps(workflow)]
    assert names.index("Semantic diff against the base branch") < names.index(
        "Backtest changed alerts on the Prometheus history") < names.index("Comment the diff on the pull request")


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="node is not installed")
def test_comment_script_posts_diff_and_backtest_with_plot_links(workflow, tmp_path):
    script = step(workflow, "Comment the diff on the pull request")["with"]["script"]
    (tmp_path / "mlmon-diff.md").write_text("<!-- mlmon-diff -->\nDIFF\n")
    (tmp_path / "mlmon-backtest.md").write_text(
        "<!-- mlmon-backtest -->\n| `A` | 1 | [A.png](out/backtest/A.png) |\n| `B` | 2 | [B.png](out/backtest/B.png) |\n")
    harness = (
        "const posted = [];\n"
        "const github = {paginate: async () => [], rest: {issues: {listComments: null,\n"
        "  createComment: async (a) => posted.push(a.body), updateComment: async (a) => posted.push(a.body)}}};\n"
        "const context = {repo: {owner: 'o', repo: 'r'}, issue: {number: 1}};\n"
        f"(async () => {{\n{script}\n}})().then(() => process.stdout.write(JSON.stringify(posted)));\n")
    (tmp_path / "run.js").write_text(harness)
    r = subprocess.run(["node", "run.js"], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, "PLOTS_URL": "https://github.com/o/r/actions/runs/1/artifacts/9"})
    assert r.returncode == 0, r.stderr
    (body,) = json.loads(r.stdout)
    assert body.startswith("<!-- mlmon-diff -->\nDIFF\n\n<!-- mlmon-backtest -->")
    assert "[A.png](https://github.com/o/r/actions/runs/1/artifacts/9)" in body and "out/backtest" not in body
    assert body.endswith("Plots (one PNG per alert): [backtest-plots artifact]"
                         "(https://github.com/o/r/actions/runs/1/artifacts/9)\n")
