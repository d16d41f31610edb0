"""The pull-request workflow: it parses, runs what the issue asks, and its shell steps work on a real checkout."""

from __future__ import annotations

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
