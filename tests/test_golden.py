"""The golden renders of the fixtures (tests/golden/) are exactly what the generators produce now.

A generator change that alters an artifact fails here until ``scripts/update_golden.py`` is run and the new
golden files are committed, so every change to what mlmon deploys is visible in the pull request.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("update_golden", ROOT / "scripts" / "update_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = _script()


def test_every_fixture_has_golden_files():
    assert golden.fixture_names(), "no fixtures under tests/fixtures"
    for name in golden.fixture_names():
        assert golden.on_disk(name), f"tests/golden/{name}/ is missing: run scripts/update_golden.py {name}"


@pytest.mark.parametrize("fixture", golden.fixture_names())
def test_render_matches_the_golden_files(fixture):
    diffs = golden.differences(fixture)
    assert not diffs, (f"{len(diffs)} golden file(s) of {fixture} differ from the render; if the change is "
                       "intended, run `.venv/bin/python scripts/update_golden.py` and commit tests/golden/:\n\n"
                       + "\n\n".join(diffs[:10]))


def test_golden_files_do_not_depend_on_where_the_fixture_is(tmp_path):
    """A copy of the fixture somewhere else renders the same bytes (no absolute path in any artifact)."""
    copy = tmp_path / "elsewhere" / "seeds"
    shutil.copytree(golden.FIXTURES / "seeds", copy)
    assert golden.golden_files("seeds", copy) == golden.on_disk("seeds")


def test_the_golden_script_reports_a_changed_file(tmp_path, monkeypatch):
    """--check fails and names the file when one golden file is off (the check can fail)."""
    base = tmp_path / "golden"
    shutil.copytree(golden.GOLDEN / "kinds", base / "kinds")
    victim = base / "kinds" / "thresholds.txt"
    victim.write_bytes(victim.read_bytes().replace(b"0.05", b"0.06", 1))
    (base / "kinds" / "stale.json").write_text("{}")
    monkeypatch.setattr(golden, "GOLDEN", base)
    diffs = golden.differences("kinds")
    assert any("thresholds.txt" in d and "-" in d for d in diffs)
    assert any("stale.json: in the golden files but no longer rendered" in d for d in diffs)
    assert golden.main(["--check", "kinds"]) == 1
