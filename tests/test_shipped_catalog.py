"""The one test that reads the shipped catalog: `mlmon check` passes on alerts/ (with dashboards/ and
docs/runbooks/ beside it), in every environment, with every engine this machine has.

Every other test works on fixtures it owns (tests/fixtures/), so a team that edits alerts/ (or replaces it with
its own catalog) changes what this test checks and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mlmon_check_passes_on_the_shipped_catalog():
    r = run_cli("check", "--catalog", str(ROOT / "alerts"))
    assert r.code == 0, r.err
    assert "catalog valid" in r.out
