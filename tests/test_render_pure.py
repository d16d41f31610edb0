"""render() is a pure function of the loaded catalog and the environment: hand-written dashboards are loaded
with the catalog (read and compiled once), render runs them with the environment it renders, and no state
survives a render (the dashboard helpers' context is set for the duration of a module only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generators.errors import CatalogError
from generators.grafana import helpers
from generators.loader import load_catalog
from generators.render import render, serialize_all

SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"


def test_render_reads_nothing_from_disk(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SEEDS, repo)
    catalog = load_catalog(repo / "alerts")
    assert [Path(d.file).name for d in catalog.dashboards] == sorted(p.name for p in (repo / "dashboards").iterdir())
    before = {env: serialize_all(render(catalog, env)) for env in ("dev", "prod")}
    shutil.rmtree(repo)  # the catalog, its dashboards and runbooks are gone from disk
    for env in ("dev", "prod"):
        assert serialize_all(render(catalog, env)) == before[env]
    assert any(p.startswith("grafana/rl-feedback-loop") for p in before["dev"])


def test_renders_of_two_environments_do_not_leak_into_each_other():
    catalog = load_catalog(SEEDS / "alerts")
    dev, prod = serialize_all(render(catalog, "dev")), serialize_all(render(catalog, "prod"))
    assert serialize_all(render(catalog, "dev")) == dev and serialize_all(render(catalog, "prod")) == prod
    assert dev["grafana/agent-quality.json"] != prod["grafana/agent-quality.json"]  # dev overrides the threshold
    assert helpers._CTX.get() is None  # nothing left behind by the dashboard modules' runs


def test_a_syntax_error_in_a_dashboard_is_a_catalog_error_at_load_time(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SEEDS, repo)
    (repo / "dashboards" / "broken.dashboard.py").write_text("service = 'x'\ndef f(:\n")
    with pytest.raises(CatalogError) as exc:
        load_catalog(repo / "alerts")
    (problem,) = exc.value.problems
    assert problem.file.endswith("dashboards/broken.dashboard.py") and problem.line == 2
    assert "not valid Python" in problem.message


def test_helpers_outside_a_render_answer_from_the_catalog_they_are_pointed_at(monkeypatch):
    """grafanalib's generate-dashboard runs a module outside mlmon: the helpers read $MLMON_CATALOG/$MLMON_ENV,
    and a later render still answers from its own catalog and environment."""
    monkeypatch.setenv("MLMON_CATALOG", str(SEEDS / "alerts"))
    monkeypatch.setenv("MLMON_ENV", "dev")
    dev = helpers.thresholds_for("function-gemma-agent", "ReasoningDriftHigh")
    monkeypatch.setenv("MLMON_ENV", "prod")
    prod = helpers.thresholds_for("function-gemma-agent", "ReasoningDriftHigh")
    assert dev != prod  # the environment is read at each call, not remembered
    with helpers.rendering(load_catalog(SEEDS / "alerts"), "dev"):
        assert helpers.thresholds_for("function-gemma-agent", "ReasoningDriftHigh") == dev
    assert helpers._CTX.get() is None
